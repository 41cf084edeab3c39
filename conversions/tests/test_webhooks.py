import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from conversions.webhooks import webhook_url_allowed
from factories import upload

# after-commit work (the eager worker) runs at the end of each request: no real transactions needed
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commit_per_request")]


@pytest.fixture
def receiver():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


def test_webhook_called_on_completion(api_client, sample, receiver, settings):
    settings.CONVERSION_WEBHOOK_ALLOW_PRIVATE = True
    url, received = receiver
    body = upload(api_client, [sample("png")], "jpg", webhook_url=url).json()
    assert len(received) == 1  # signed and retried by the webhooks app (webhooks/tests)
    assert received[0]["type"] == "conversion.completed"
    conversion = received[0]["data"]["conversion"]
    assert conversion["id"] == body["conversions"][0]["id"]
    assert conversion["status"] == "completed" and conversion["download_url"].endswith("/download")


@pytest.mark.parametrize("private", [False, True])
def test_private_webhook_refused_at_submission(api_client, sample, receiver, private):
    """A webhook that would never be delivered is a 400 naming the field, not a silent 202."""
    from conversions.models import Conversion
    from storage.models import StoredFile

    url, received = receiver
    if not private:
        url = "http://[::ffff:127.0.0.1]:9/hook"
    resp = upload(api_client, [sample("png")], "jpg", webhook_url=url)
    assert resp.status_code == 400, resp.content
    assert resp.json()["code"] == "invalid_webhook_url" and "webhook_url" in resp.json()["details"]
    assert received == [] and not Conversion.objects.exists() and not StoredFile.objects.exists()


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "http://127.0.0.1/",
                                 "http://10.0.0.1/", "http://[::1]/", "http://169.254.169.254/latest",
                                 "http://[::ffff:10.0.0.1]/", "http://[64:ff9b::7f00:1]/", "http://[::127.0.0.1]/",
                                 "http://[2002:7f00:1::]/", "http://[ff02::1]/", "http://224.0.0.1/",
                                 "http://0.0.0.0/", "http://[fe80::1%25eth0]/"])
def test_webhook_url_allowlist(url, settings):
    settings.CONVERSION_WEBHOOK_ALLOW_PRIVATE = False
    assert not webhook_url_allowed(url)


def test_a_webhook_url_whose_name_never_resolves_is_refused_within_the_deadline(settings, monkeypatch):
    """The check runs inside the web request: a resolver that hangs must not hold the request's thread."""
    import socket
    import threading
    import time

    from conversions import webhooks

    settings.CONVERSION_WEBHOOK_ALLOW_PRIVATE = False
    released = threading.Event()
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: released.wait(30) and [])
    monkeypatch.setattr(webhooks, "RESOLVE_SECONDS", 0.3)
    started = time.monotonic()
    try:
        assert not webhook_url_allowed("https://hangs.example/hook")
        assert time.monotonic() - started < 5
    finally:
        released.set()
