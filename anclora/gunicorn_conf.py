"""gunicorn configuration: a worker that ends slow clients, and the server's own error pages as JSON.

The worker class is ``anclora.web_worker.DeadlineThreadWorker`` (gthread with deadlines for the
headers and a minimum body data rate), WEB_THREADS threads per process.

gunicorn answers a request it cannot parse (request line too long, too many or too large header
fields, an invalid header, a bad chunked body…) itself, before Django sees it, with an HTML page
(``gunicorn.util.write_error``, called by ``Worker.handle_error``). Here that writer is replaced,
in the master before the workers fork, by one that writes ``{"error", "code", "details"}``
(``anclora.core.exceptions.error_body``) as ``application/json`` for every path, with gunicorn's
status (400, 414, 431, …). The messages are in the site's default language (Spanish; the request's
language is unknown at this point), with their English translation in locale/en.

Used by scripts/run.sh, the Dockerfile and docker-compose.yml: ``gunicorn -c anclora/gunicorn_conf.py``.
This file imports nothing of Django's: it runs in gunicorn's master before the application loads.
"""

from __future__ import annotations

import json
import os

from gunicorn import util


def gettext_noop(message: str) -> str:
    """Marks a message for makemessages (the English translation lives in locale/en)."""
    return message


# Threads with deadlines on what a client sends (headers, body rate): anclora/web_worker.py.
worker_class = "anclora.web_worker.DeadlineThreadWorker"
threads = int(os.environ.get("WEB_THREADS", "8"))

# The request limits, gunicorn's defaults made explicit (env overrides): past them 414 / 431 / 400.
limit_request_line = int(os.environ.get("WEB_LIMIT_REQUEST_LINE", "4094"))
limit_request_fields = int(os.environ.get("WEB_LIMIT_REQUEST_FIELDS", "100"))
limit_request_field_size = int(os.environ.get("WEB_LIMIT_REQUEST_FIELD_SIZE", "8190"))

# status → (code, message, the field the details name)
ERRORS: dict[int, tuple[str, str, str | None]] = {
    400: ("bad_request", gettext_noop("Petición HTTP mal formada."), None),
    403: ("forbidden", gettext_noop("Petición prohibida."), None),
    414: ("request_line_too_long", gettext_noop("La línea de petición (método y URL) es demasiado larga."),
          "request_line"),
    417: ("expectation_failed", gettext_noop("La cabecera Expect no se admite."), "headers"),
    431: ("request_headers_too_large",
          gettext_noop("Las cabeceras de la petición son demasiadas o demasiado grandes."), "headers"),
    500: ("server_error", gettext_noop("Error interno del servidor."), None),
    501: ("not_implemented", gettext_noop("Transfer-Encoding no admitido."), "headers"),
}


def error_body(message: str, code: str, details: dict | None = None) -> dict:
    """The app's error shape (anclora.core.exceptions.error_body; a test checks they agree)."""
    return {"error": str(message), "code": code, "details": details or {}}


def json_error(status_int: int, reason: str) -> bytes:
    """The whole HTTP response gunicorn writes for one of its own errors."""
    code, message, field = ERRORS.get(status_int, ("bad_request" if status_int < 500 else "server_error",
                                                   reason, None))
    body = json.dumps(error_body(message, code, {field: [message]} if field else None),
                      ensure_ascii=False).encode("utf-8")
    head = (f"HTTP/1.1 {status_int} {reason}\r\n"
            "Connection: close\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            "\r\n")
    return head.encode("latin-1") + body


def write_json_error(sock, status_int, reason, mesg):
    # gunicorn's mesg (the offending header, its size…) goes to its log, not back to the client.
    util.write_nonblock(sock, json_error(int(status_int), str(reason)))


util.write_error = write_json_error
