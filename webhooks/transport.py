"""POST one delivery: no redirects followed, public addresses only, checked at connect time.

The host name is resolved once per attempt; every address it resolves to must be public
(``conversions.webhooks.address_is_public``) unless CONVERSION_WEBHOOK_ALLOW_PRIVATE is set, and the
socket connects to that checked address itself (the Host header and TLS SNI/certificate check keep the
name), so a DNS answer that changes between the check and the connection (rebinding) cannot reach a
private address. A 3xx is an answer like any other non-2xx: a failure, never followed.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from conversions.webhooks import address_is_public

TIMEOUT_SECONDS = 8.0
EXCERPT_BYTES = 200


class AddressRefused(Exception):
    """The destination resolves to a non-public address (or does not resolve)."""


@dataclass(frozen=True)
class Response:
    status: int
    excerpt: str


def resolve_checked(host: str, port: int):
    """(family, sockaddr) of the address to connect to, after checking every address of ``host``."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise AddressRefused(f"cannot resolve {host}: {exc}") from exc
    if not infos:
        raise AddressRefused(f"cannot resolve {host}")
    if not settings.CONVERSION_WEBHOOK_ALLOW_PRIVATE:
        refused = [info[4][0] for info in infos if not address_is_public(info[4][0])]
        if refused:
            raise AddressRefused(f"{host} resolves to a non-public address ({refused[0]})")
    family, _, _, _, sockaddr = infos[0]
    return family, sockaddr


def connect(family, sockaddr, timeout: float) -> socket.socket:
    """A TCP connection to exactly ``sockaddr`` (no second name lookup)."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(sockaddr)
    except BaseException:
        sock.close()
        raise
    return sock


class PinnedHTTPConnection(http.client.HTTPConnection):
    def connect(self):
        family, sockaddr = resolve_checked(self.host, self.port)
        self.sock = connect(family, sockaddr, self.timeout)


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    def connect(self):
        family, sockaddr = resolve_checked(self.host, self.port)
        sock = connect(family, sockaddr, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float = TIMEOUT_SECONDS) -> Response:
    """Raises AddressRefused, OSError (connection, TLS, timeout) or http.client.HTTPException."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AddressRefused("not an http(s) URL")
    if parts.scheme == "https":
        conn = PinnedHTTPSConnection(parts.hostname, parts.port, timeout=timeout,
                                     context=ssl.create_default_context())
    else:
        conn = PinnedHTTPConnection(parts.hostname, parts.port, timeout=timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        excerpt = response.read(EXCERPT_BYTES).decode("utf-8", "replace")
        return Response(status=response.status, excerpt=excerpt)
    finally:
        conn.close()
