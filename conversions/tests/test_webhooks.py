import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from conversions.webhooks import webhook_url_allowed

from .conftest import upload

pytestmark = pytest.mark.django_db(transaction=True)


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
    assert len(received) == 1
    assert received[0]["id"] == body["conversions"][0]["id"]
    assert received[0]["status"] == "completed" and received[0]["download_url"].endswith("/download")


def test_private_webhook_refused_by_default(api_client, sample, receiver):
    url, received = receiver
    resp = upload(api_client, [sample("png")], "jpg", webhook_url=url)
    assert resp.status_code == 202
    assert received == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "http://127.0.0.1/",
                                 "http://10.0.0.1/", "http://[::1]/", "http://169.254.169.254/latest"])
def test_webhook_url_allowlist(url, settings):
    settings.CONVERSION_WEBHOOK_ALLOW_PRIVATE = False
    assert not webhook_url_allowed(url)
