"""Download a caller's URL without letting it reach the service's own network (SSRF).

Every hop (the URL and each redirect) is resolved once; all of its addresses must be public
(`conversions.webhooks.address_is_public`: no loopback, private, link-local, multicast,
unspecified, nor those hidden in IPv4-mapped / 6to4 / NAT64 forms), and the connection is made to
the address that was checked (Host header and TLS SNI/certificate name stay the URL's host), so a
DNS answer that changes between check and connect (rebinding) gains nothing. Redirects are
followed by hand, at most URL_IMPORT_MAX_REDIRECTS; the body is streamed to disk with a byte cap.
One total deadline (URL_IMPORT_TIMEOUT, ``anclora.core.deadline``) covers name lookups, connections,
TLS, headers and body of every hop: a server trickling its headers byte by byte is cut off at it.
URL_IMPORT_ALLOW_PRIVATE lifts the address check (tests only).
"""

from __future__ import annotations

import http.client
import re
import ssl
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from anclora.core.deadline import Deadline, connect, resolve, tls_wrap
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


def resolve_public(host: str, port: int, deadline: Deadline) -> tuple[int, tuple]:
    """(family, sockaddr) to connect to: every address the name resolves to must be public."""
    try:
        infos = resolve(host, port, deadline)
    except TimeoutError:
        raise
    except (OSError, UnicodeError) as exc:
        raise FetchError("source_unreachable", _("No se pudo resolver el servidor de la URL de origen.")) from exc
    if not infos:
        raise FetchError("source_unreachable", _("No se pudo resolver el servidor de la URL de origen."))
    if not settings.URL_IMPORT_ALLOW_PRIVATE:
        for info in infos:
            try:
                public = address_is_public(info[4][0])
            except ValueError:
                public = False
            if not public:
                raise FetchError("source_not_public",
                                 _("La URL de origen apunta a una dirección no pública."))
    return infos[0][0], infos[0][4]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address; every socket call is bounded by the download's deadline."""

    def __init__(self, host, port, *, address, deadline: Deadline):
        super().__init__(host, port, timeout=deadline.left())
        self._address, self._deadline = address, deadline

    def connect(self):
        self.sock = connect(*self._address, self._deadline)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, *, address, deadline: Deadline):
        super().__init__(host, port, timeout=deadline.left(), context=ssl.create_default_context())
        self._address, self._deadline = address, deadline

    def connect(self):
        sock = connect(*self._address, self._deadline)
        self.sock = tls_wrap(sock, self._context, self.host, self._deadline)


def declared_length(value: str | None) -> int | None:
    """A Content-Length header as a number: ASCII digits only, at most 18 of them (``"²".isdigit()``
    is true and ``int("²")`` raises; a 400-digit number is no length either)."""
    if value is None:
        return None
    value = value.strip()
    if not re.fullmatch(r"[0-9]{1,18}", value, flags=re.ASCII):
        raise FetchError("source_bad_response",
                         _("El servidor de origen envió una cabecera Content-Length no válida."))
    return int(value)


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
    """Stream `url` into `destination`; FetchError on any refusal or failure.

    One deadline (``timeout``, URL_IMPORT_TIMEOUT by default) covers everything: name lookups,
    connections, TLS, request, headers and body of every hop, redirects included."""
    timeout = settings.URL_IMPORT_TIMEOUT if timeout is None else timeout
    max_redirects = settings.URL_IMPORT_MAX_REDIRECTS if max_redirects is None else max_redirects
    deadline = Deadline(timeout)
    try:
        return _fetch(url, destination, max_bytes=max_bytes, deadline=deadline, max_redirects=max_redirects)
    except TimeoutError as exc:
        raise FetchError("source_timeout", _("La descarga de la URL de origen tardó demasiado.")) from exc


def _fetch(url: str, destination: Path, *, max_bytes: int, deadline: Deadline, max_redirects: int) -> Fetched:
    too_large = FetchError(
        "file_too_large",
        _("El archivo supera el tamaño máximo de tu plan (%(mb)d MB).") % {"mb": max_bytes // (1024 * 1024)},
        status=413, params={"mb": max_bytes // (1024 * 1024)},
    )
    current = url
    for _hop in range(max_redirects + 1):
        scheme, host, port = url_syntax_check(current)
        address = resolve_public(host, port, deadline)
        connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
        connection = connection_class(host, port, address=address, deadline=deadline)
        try:
            parts = urlsplit(current)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            try:
                connection.request("GET", target, headers={"User-Agent": USER_AGENT, "Accept": "*/*",
                                                           "Accept-Encoding": "identity"})
                response = connection.getresponse()
            except TimeoutError:
                raise
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
            declared = declared_length(response.getheader("Content-Length"))
            if declared is not None and declared > max_bytes:
                raise too_large
            size = 0
            try:
                with open(destination, "wb") as out:
                    while True:
                        chunk = response.read1(CHUNK)
                        if not chunk:
                            break
                        size += len(chunk)
                        if size > max_bytes:
                            raise too_large
                        out.write(chunk)
                        deadline.left()
            except TimeoutError:
                raise
            except (OSError, http.client.HTTPException) as exc:
                raise FetchError("source_unreachable",
                                 _("Se perdió la conexión con el servidor de la URL de origen.")) from exc
            if declared is not None and size != declared:
                raise FetchError("source_unreachable",
                                 _("Se perdió la conexión con el servidor de la URL de origen."))
            return Fetched(path=destination, filename=filename_from(current, response.getheader("Content-Disposition")),
                           size=size, final_url=current)
        finally:
            connection.close()
    raise FetchError("too_many_redirects", _("La URL de origen redirige demasiadas veces (máximo %(n)d).")
                     % {"n": max_redirects}, params={"n": max_redirects})
