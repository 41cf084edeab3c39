"""Request ids, structured logs and request metrics.

Every request gets an id (the incoming ``X-Request-ID`` if it is sane, else a new one),
echoed in the response and attached to every log record of that request together with
the user or anonymous session; a conversion id can be bound the same way in workers.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid

from prometheus_client import Counter, Histogram

_request_id = contextvars.ContextVar("request_id", default="-")
_actor = contextvars.ContextVar("actor", default="-")
_conversion = contextvars.ContextVar("conversion_id", default="-")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

REQUESTS = Counter("anclora_http_requests_total", "HTTP requests", ["method", "view", "status"])
LATENCY = Histogram("anclora_http_request_duration_seconds", "HTTP request latency", ["method", "view"],
                    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))


def bind_conversion(conversion_id) -> contextvars.Token:
    return _conversion.set(str(conversion_id))


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        record.actor = _actor.get()
        record.conversion_id = _conversion.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "actor": getattr(record, "actor", "-"),
            "conversion_id": getattr(record, "conversion_id", "-"),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = _request_id.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match and match.view_name else "unmatched"
        REQUESTS.labels(request.method, view, str(response.status_code)).inc()
        LATENCY.labels(request.method, view).observe(time.perf_counter() - started)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            _actor.set(f"user:{user.pk}")
        elif hasattr(request, "session") and request.session.get("anon_session_id"):
            _actor.set(f"session:{request.session['anon_session_id']}")
        else:
            _actor.set("anonymous")
        return None
