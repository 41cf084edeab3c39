"""Download a caller's URL without letting it reach the service's own network (SSRF).

Every hop (the URL and each redirect) is resolved once; all of its addresses must be public
(`conversions.webhooks.address_is_public`: no loopback, private, link-local, multicast,
unspecified, nor those hidden in IPv4-mapped / 6to4 / NAT64 forms), and the connection is made to
the address that was checked (Host header and TLS SNI/certificate name stay the URL's host), so a
DNS answer that changes between check and connect (rebinding) gains nothing. Redirects are
followed by hand, at most URL_IMPORT_MAX_REDIRECTS; the body is streamed to disk with a byte cap
and a total time limit. URL_IMPORT_ALLOW_PRIVATE lifts the address check (tests only).
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from conversions.webhooks import address_is_public

REDIRECTS = {301, 302, 303, 307, 308}
CHUNK = 64 * 1024
USER_AGENT = "AncloraConverter-Import/1"


class FetchError(Exception):
    """A download that did not happen; `code` is stored on the job, `message` shown to the caller."""

    def __init__(self, code: str, message: str, *, status: int = 400, params: dict | None = None):
        super().__init__(message)
        self.code = code
        self.message = str(message)
        self.status = status
        self.params = params or {}  # the numbers in the message (stored, rendered per reader)


@dataclass(frozen=True)
class Fetched:
    path: Path
    filename: str
    size: int
    final_url: str


def url_syntax_check(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an acceptable http(s) URL, or FetchError("invalid_source_url")."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchError("invalid_source_url", _("La URL de origen no es válida.")) from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError("invalid_source_url", _("La URL de origen debe ser http(s)."))
    if parts.username or parts.password:
        raise FetchError("invalid_source_url", _("La URL de origen no puede llevar credenciales."))
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def resolve_public(host: str, port: int) -> str:
    """The one address to connect to: every address the name resolves to must be public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError("source_unreachable", _("No se pudo resolver el servidor de la URL de origen.")) from exc
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise FetchError("source_unreachable", _("No se pudo resolver el servidor de la URL de origen."))
    if not settings.URL_IMPORT_ALLOW_PRIVATE:
        for address in addresses:
            try:
                public = address_is_public(address)
            except ValueError:
                public = False
            if not public:
                raise FetchError("source_not_public",
                                 _("La URL de origen apunta a una dirección no pública."))
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, port, *, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = self.pinned_sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, *, address, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self.pinned_sock = self._context.wrap_socket(sock, server_hostname=self.host)


def filename_from(url: str, disposition: str | None) -> str:
    if disposition:
        message = Message()
        message["content-disposition"] = disposition
        name = message.get_filename()
        if name:
            return name
    return unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]) or "archivo"


def fetch_to_file(url: str, destination: Path, *, max_bytes: int, timeout: float | None = None,
                  max_redirects: int | None = None) -> Fetched:
    """Stream `url` into `destination`; FetchError on any refusal or failure."""
    timeout = settings.URL_IMPORT_TIMEOUT if timeout is None else timeout
    max_redirects = settings.URL_IMPORT_MAX_REDIRECTS if max_redirects is None else max_redirects
    deadline = time.monotonic() + timeout

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise FetchError("source_timeout", _("La descarga de la URL de origen tardó demasiado."))
        return left

    too_large = FetchError(
        "file_too_large",
        _("El archivo supera el tamaño máximo de tu plan (%(mb)d MB).") % {"mb": max_bytes // (1024 * 1024)},
        status=413, params={"mb": max_bytes // (1024 * 1024)},
    )
    current = url
    for _hop in range(max_redirects + 1):
        scheme, host, port = url_syntax_check(current)
        address = resolve_public(host, port)
        connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
        connection = connection_class(host, port, address=address, timeout=remaining())
        try:
            parts = urlsplit(current)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            try:
                connection.request("GET", target, headers={"User-Agent": USER_AGENT, "Accept": "*/*",
                                                           "Accept-Encoding": "identity"})
                response = connection.getresponse()
            except TimeoutError as exc:
                raise FetchError("source_timeout", _("La descarga de la URL de origen tardó demasiado.")) from exc
            except (OSError, http.client.HTTPException) as exc:
                raise FetchError("source_unreachable",
                                 _("No se pudo conectar con el servidor de la URL de origen.")) from exc
            if response.status in REDIRECTS:
                location = response.getheader("Location")
                if not location:
                    raise FetchError("source_http_error",
                                     _("El servidor de origen respondió %(status)d.") % {"status": response.status},
                                     params={"status": response.status})
                current = urljoin(current, location)
                continue
            if response.status != 200:
                raise FetchError("source_http_error",
                                 _("El servidor de origen respondió %(status)d.") % {"status": response.status},
                                     params={"status": response.status})
            declared = response.getheader("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise too_large
            size = 0
            try:
                with open(destination, "wb") as out:
                    while True:
                        connection.pinned_sock.settimeout(min(remaining(), 30.0))
                        chunk = response.read1(CHUNK) if hasattr(response, "read1") else response.read(CHUNK)
                        if not chunk:
                            break
                        size += len(chunk)
                        if size > max_bytes:
                            raise too_large
                        out.write(chunk)
                        remaining()
            except TimeoutError as exc:
                raise FetchError("source_timeout", _("La descarga de la URL de origen tardó demasiado.")) from exc
            except (OSError, http.client.HTTPException) as exc:
                raise FetchError("source_unreachable",
                                 _("Se perdió la conexión con el servidor de la URL de origen.")) from exc
            if declared and declared.isdigit() and size != int(declared):
                raise FetchError("source_unreachable",
                                 _("Se perdió la conexión con el servidor de la URL de origen."))
            return Fetched(path=destination, filename=filename_from(current, response.getheader("Content-Disposition")),
                           size=size, final_url=current)
        finally:
            connection.close()
    raise FetchError("too_many_redirects", _("La URL de origen redirige demasiadas veces (máximo %(n)d).")
                     % {"n": max_redirects}, params={"n": max_redirects})
