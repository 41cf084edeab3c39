"""POST one delivery: no redirects followed, public addresses only, checked at connect time.

The host name is resolved once per attempt; every address it resolves to must be public
(``conversions.webhooks.address_is_public``) unless CONVERSION_WEBHOOK_ALLOW_PRIVATE is set, and the
socket connects to that checked address itself (the Host header and TLS SNI/certificate check keep the
name), so a DNS answer that changes between the check and the connection (rebinding) cannot reach a
private address. A 3xx is an answer like any other non-2xx: a failure, never followed. One deadline
(WEBHOOK_DELIVERY_TIMEOUT, ``anclora.core.deadline``) bounds the whole attempt: a receiver trickling its
answer byte by byte is cut off at it.
"""

from __future__ import annotations

import http.client
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from anclora.core.deadline import Deadline, connect, resolve, tls_wrap
from conversions.webhooks import address_is_public

EXCERPT_BYTES = 200


class AddressRefused(Exception):
    """The destination resolves to a non-public address (or does not resolve)."""


@dataclass(frozen=True)
class Response:
    status: int
    excerpt: str


def resolve_checked(host: str, port: int, deadline: Deadline):
    """(family, sockaddr) of the address to connect to, after checking every address of ``host``."""
    try:
        infos = resolve(host, port, deadline)
    except TimeoutError:
        raise
    except (OSError, UnicodeError) as exc:
        raise AddressRefused(f"cannot resolve {host}: {exc}") from exc
    if not infos:
        raise AddressRefused(f"cannot resolve {host}")
    if not settings.CONVERSION_WEBHOOK_ALLOW_PRIVATE:
        refused = [info[4][0] for info in infos if not address_is_public(info[4][0])]
        if refused:
            raise AddressRefused(f"{host} resolves to a non-public address ({refused[0]})")
    family, _, _, _, sockaddr = infos[0]
    return family, sockaddr


class PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, port, *, deadline: Deadline):
        super().__init__(host, port, timeout=deadline.left())
        self._deadline = deadline

    def connect(self):
        family, sockaddr = resolve_checked(self.host, self.port, self._deadline)
        self.sock = connect(family, sockaddr, self._deadline)


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, *, deadline: Deadline):
        super().__init__(host, port, timeout=deadline.left(), context=ssl.create_default_context())
        self._deadline = deadline

    def connect(self):
        family, sockaddr = resolve_checked(self.host, self.port, self._deadline)
        sock = connect(family, sockaddr, self._deadline)
        self.sock = tls_wrap(sock, self._context, self.host, self._deadline)


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float | None = None) -> Response:
    """Raises AddressRefused, OSError (connection, TLS, TimeoutError past the deadline) or
    http.client.HTTPException. ``timeout`` (WEBHOOK_DELIVERY_TIMEOUT by default) is the whole attempt's:
    name lookup, connection, TLS, request, the answer's headers and excerpt together."""
    deadline = Deadline(settings.WEBHOOK_DELIVERY_TIMEOUT if timeout is None else timeout)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AddressRefused("not an http(s) URL")
    connection_class = PinnedHTTPSConnection if parts.scheme == "https" else PinnedHTTPConnection
    conn = connection_class(parts.hostname, parts.port, deadline=deadline)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        excerpt = response.read(EXCERPT_BYTES).decode("utf-8", "replace")
        return Response(status=response.status, excerpt=excerpt)
    finally:
        conn.close()
