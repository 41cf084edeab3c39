"""Notify a caller's webhook_url when its conversion ends (completed, failed or cancelled).

The URL must be http(s) and, unless CONVERSION_WEBHOOK_ALLOW_PRIVATE is set, resolve to a
public address: a webhook must not become a way to reach the service's internal network.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings

logger = logging.getLogger(__name__)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def address_is_public(address: str) -> bool:
    """Global, and so is any IPv4 address embedded in it (mapped, 6to4, NAT64, IPv4-compatible)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if not ip.is_global or ip.is_multicast:
        return False
    if ip.version == 6:
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and (ip in _NAT64 or int(ip) >> 32 == 0):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return embedded.is_global and not embedded.is_multicast
    return True


def webhook_url_allowed(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if settings.CONVERSION_WEBHOOK_ALLOW_PRIVATE:
        return True
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        return False
    return all(address_is_public(info[4][0]) for info in infos)


def webhook_post(url: str, payload: dict, *, timeout: float = 5.0) -> int | None:
    if not webhook_url_allowed(url):
        logger.warning("webhook refused (not a public http(s) URL): %s", url)
        return None
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json",
                                              "User-Agent": "AncloraConverter-Webhook/1"})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status
    except Exception as exc:  # noqa: BLE001 - a receiver's failure never affects the job
        logger.info("webhook to %s failed: %s", url, exc)
        return None
