"""Request context, security headers, CORS and JSON logs (the project-wide middleware)."""

import pytest

pytestmark = pytest.mark.django_db


def test_request_id_header_and_security_headers(client):
    resp = client.get("/", HTTP_X_REQUEST_ID="abc-123")
    assert resp["X-Request-ID"] == "abc-123"
    assert "script-src 'self'" in resp["Content-Security-Policy"]
    generated = client.get("/", HTTP_X_REQUEST_ID="bad id with spaces")["X-Request-ID"]
    assert generated != "bad id with spaces" and len(generated) == 32


def test_cors_only_for_configured_origins(client, settings):
    resp = client.get("/api/health", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in resp
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example"]
    resp = client.get("/api/health", HTTP_ORIGIN="https://app.example")
    assert resp["Access-Control-Allow-Origin"] == "https://app.example"


def test_json_logs_carry_request_context():
    import json
    import logging

    from anclora.core.observability import ContextFilter, JsonFormatter, _request_id

    token = _request_id.set("req-1")
    try:
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "hola %s", ("mundo",), None)
        ContextFilter().filter(record)
        entry = json.loads(JsonFormatter().format(record))
    finally:
        _request_id.reset(token)
    assert entry["message"] == "hola mundo" and entry["request_id"] == "req-1"
