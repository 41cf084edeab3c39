"""Which webhook destinations are acceptable (the deliveries themselves are the webhooks app's).

A webhook_url must be http(s) and, unless CONVERSION_WEBHOOK_ALLOW_PRIVATE is set, resolve to a
public address: a webhook must not become a way to reach the service's internal network. The
webhooks app checks the resolved address again at connect time.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings

from anclora.core.deadline import Deadline, resolve

RESOLVE_SECONDS = 5.0

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# IPv6 ranges that Python's ipaddress (3.11) calls global but that never name a public destination:
# refused whatever IPv4 address they carry.
_NOT_PUBLIC_V6 = (
    ipaddress.ip_network("64:ff9b:1::/48"),   # RFC 8215 local-use NAT64: the operator's own translators
    ipaddress.ip_network("::ffff:0:0:0/96"),  # RFC 2765 IPv4-translated (SIIT)
    ipaddress.ip_network("fec0::/10"),        # RFC 3879 deprecated site-local
)


def address_is_public(address: str) -> bool:
    """Global, and so is any IPv4 address embedded in it (mapped, 6to4, NAT64, IPv4-compatible);
    local-use NAT64, IPv4-translated and site-local IPv6 are never public."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if not ip.is_global or ip.is_multicast:
        return False
    if ip.version == 6:
        if any(ip in network for network in _NOT_PUBLIC_V6):
            return False
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
    try:  # inside a web request: a resolver that hangs must not hold its thread
        infos = resolve(parts.hostname, parts.port or 443, Deadline(RESOLVE_SECONDS))
    except (OSError, UnicodeError, ValueError):  # gaierror and TimeoutError are OSErrors
        return False
    return all(address_is_public(info[4][0]) for info in infos)
