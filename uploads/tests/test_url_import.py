"""Import from a URL: SSRF refusals (every private-address form, redirects into them), limits,
and a good URL converted end to end through the normal pipeline."""

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from rest_framework.test import APIClient

from conversions.models import Conversion
from storage.models import StoredFile
from uploads import fetch
from uploads.fetch import FetchError, fetch_to_file

# after-commit work (the eager import and conversion) runs at the end of each request
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commit_per_request")]

PRIVATE_ADDRESSES = [
    "127.0.0.1", "127.1.2.3", "10.0.0.5", "172.16.3.4", "192.168.1.1", "169.254.169.254", "0.0.0.0",
    "100.64.0.1", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1",
    "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "2002:7f00:1::1",
    "2002:a00:1::1", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "::127.0.0.1", "::10.0.0.1",
    # local-use NAT64, IPv4-translated and site-local: never public, whatever IPv4 they carry
    "64:ff9b:1::a00:1", "64:ff9b:1::808:808", "::ffff:0:7f00:1", "::ffff:0:808:808", "fec0::1", "feff::1",
]


class _Handler(BaseHTTPRequestHandler):
    routes: dict = {}

    def log_message(self, *args):
        pass

    def do_GET(self):
        route = self.routes.get(self.path.split("?")[0])
        if route is None:
            self.send_response(404)
            self.end_headers()
            return
        route(self)


@pytest.fixture
def server():
    routes = {}
    handler = type("Handler", (_Handler,), {"routes": routes})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield base, routes
    httpd.shutdown()
    httpd.server_close()


def _body(data: bytes, content_type="application/octet-stream"):
    def respond(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
    return respond


def _redirect(location: str):
    def respond(handler):
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
    return respond


def _resolving_to(monkeypatch, address: str):
    family = socket.AF_INET6 if ":" in address else socket.AF_INET

    def fake(host, port, *args, **kwargs):
        sockaddr = (address, port, 0, 0) if family == socket.AF_INET6 else (address, port)
        return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)]

    monkeypatch.setattr(socket, "getaddrinfo", fake)


@pytest.mark.parametrize("address", PRIVATE_ADDRESSES)
def test_every_private_address_form_is_refused_before_connecting(monkeypatch, tmp_path, address):
    _resolving_to(monkeypatch, address)
    connects = []
    monkeypatch.setattr(fetch, "connect", lambda *a, **k: connects.append(a))
    with pytest.raises(FetchError) as exc:
        fetch_to_file("http://files.example.com/a.png", tmp_path / "x", max_bytes=10_000)
    assert exc.value.code == "source_not_public"
    assert connects == []


def test_one_private_address_among_public_ones_is_refused(monkeypatch, tmp_path):
    def fake(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.1.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    with pytest.raises(FetchError) as exc:
        fetch_to_file("https://mixed.example.com/a.png", tmp_path / "x", max_bytes=10_000)
    assert exc.value.code == "source_not_public"


def test_connection_goes_to_the_checked_address_with_the_urls_host(monkeypatch, tmp_path, server):
    """DNS rebinding: the name is resolved once; the socket connects to that address."""
    base, routes = server
    routes["/a.bin"] = _body(b"hello")
    port = int(base.rsplit(":", 1)[1])
    answers = iter(["127.0.0.1", "10.9.9.9"])  # a second lookup would get another address
    real_lookup = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, p, *a, **k: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), p))] if host == "rebind.example.com"
        else real_lookup(host, p, *a, **k))
    seen = []
    real = fetch.connect
    monkeypatch.setattr(fetch, "connect",
                        lambda family, sockaddr, deadline: seen.append(sockaddr) or real(family, sockaddr, deadline))
    monkeypatch.setattr(fetch, "address_is_public", lambda address: True)
    result = fetch_to_file(f"http://rebind.example.com:{port}/a.bin", tmp_path / "x", max_bytes=100)
    assert result.size == 5 and (tmp_path / "x").read_bytes() == b"hello"
    assert seen == [("127.0.0.1", port)]


def test_a_redirect_into_a_private_address_is_refused(monkeypatch, tmp_path, server):
    base, routes = server
    routes["/start"] = _redirect("http://internal.example.com/secret")
    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, port, *a, **k: (
        real("127.0.0.1", port, *a, **k) if host == "127.0.0.1" else
        [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port))]))
    public = fetch.address_is_public
    monkeypatch.setattr(fetch, "address_is_public", lambda a: a == "127.0.0.1" or public(a))
    with pytest.raises(FetchError) as exc:
        fetch_to_file(f"{base}/start", tmp_path / "x", max_bytes=100)
    assert exc.value.code == "source_not_public"


def test_loopback_refused_without_the_escape_hatch(tmp_path, server):
    base, routes = server
    routes["/a.bin"] = _body(b"x")
    with pytest.raises(FetchError) as exc:
        fetch_to_file(f"{base}/a.bin", tmp_path / "x", max_bytes=100)
    assert exc.value.code == "source_not_public"


def test_too_many_redirects(settings, tmp_path, server):
    settings.URL_IMPORT_ALLOW_PRIVATE = True
    base, routes = server
    for n in range(10):
        routes[f"/r{n}"] = _redirect(f"/r{n + 1}")
    routes["/r10"] = _body(b"end")
    with pytest.raises(FetchError) as exc:
        fetch_to_file(f"{base}/r0", tmp_path / "x", max_bytes=100, max_redirects=5)
    assert exc.value.code == "too_many_redirects"
    assert fetch_to_file(f"{base}/r6", tmp_path / "x", max_bytes=100, max_redirects=5).size == 3


def test_too_large_declared_and_streamed(settings, tmp_path, server):
    settings.URL_IMPORT_ALLOW_PRIVATE = True
    base, routes = server
    routes["/big"] = _body(b"x" * 5000)

    def undeclared(handler):  # no Content-Length: the stream is cut at the limit
        handler.send_response(200)
        handler.end_headers()
        handler.wfile.write(b"y" * 5000)
        handler.close_connection = True

    routes["/stream"] = undeclared
    for path in ("/big", "/stream"):
        with pytest.raises(FetchError) as exc:
            fetch_to_file(f"{base}{path}", tmp_path / "x", max_bytes=1000)
        assert exc.value.code == "file_too_large" and exc.value.status == 413


def test_total_time_limit(settings, tmp_path, server):
    settings.URL_IMPORT_ALLOW_PRIVATE = True
    base, routes = server

    def slow(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", "100")
        handler.end_headers()
        for _ in range(100):
            handler.wfile.write(b"z")
            handler.wfile.flush()
            time.sleep(0.05)

    routes["/slow"] = slow
    started = time.monotonic()
    with pytest.raises(FetchError) as exc:
        fetch_to_file(f"{base}/slow", tmp_path / "x", max_bytes=1000, timeout=1)
    assert exc.value.code == "source_timeout"
    assert time.monotonic() - started < 3


def test_only_http_and_https_and_one_source(api_client):
    for url in ("ftp://example.com/a.png", "file:///etc/passwd", "gopher://example.com/"):
        resp = api_client.post("/api/conversion/convert", {"source_url": url, "target_format": "jpg"},
                               format="multipart")
        assert resp.status_code == 400, url
    resp = api_client.post("/api/conversion/convert", {"target_format": "jpg"}, format="multipart")
    assert resp.status_code == 400


def test_good_png_url_converts_end_to_end(settings, server, sample):
    settings.URL_IMPORT_ALLOW_PRIVATE = True
    base, routes = server
    routes["/images/foto"] = _body(sample("png").read_bytes(), "image/png")
    client = APIClient()
    resp = client.post("/api/conversion/convert", {"source_url": f"{base}/images/foto", "target_format": "jpg"},
                       format="multipart")
    assert resp.status_code == 202, resp.content
    body = resp.json()
    (item,) = body["conversions"]
    assert item["source_url"] == f"{base}/images/foto"
    detail = client.get(item["status_url"], {"session_id": body["session_id"]}).json()
    assert detail["status"] == "completed", detail
    assert detail["original_format"] == "png" and detail["fetching"] is False
    download = client.get(detail["download_url"], HTTP_X_SESSION_ID=body["session_id"])
    assert b"".join(download.streaming_content)[:3] == b"\xff\xd8\xff"
    conversion = Conversion.objects.get(pk=item["id"])
    assert conversion.source.size > 0 and not conversion.source.is_deleted
    assert StoredFile.objects.filter(size=0, is_deleted=True).count() == 0  # the placeholder is gone


def test_refused_url_is_a_failed_job_with_a_message(monkeypatch, no_worker_import):
    _resolving_to(monkeypatch, "10.0.0.1")
    client = APIClient()
    resp = client.post("/api/conversion/convert",
                       {"source_url": "http://intranet.example.com/a.png", "target_format": "jpg"},
                       format="multipart")
    assert resp.status_code == 202
    (item,) = resp.json()["conversions"]
    assert item["status"] == "pending" and item["fetching"] is True
    from uploads.imports import url_import_execute

    assert url_import_execute(conversion_id=item["id"]) == "failed"
    conversion = Conversion.objects.get(pk=item["id"])
    assert conversion.error_code == "source_not_public" and conversion.error_message


def test_not_an_image_fails_by_magic_bytes(settings, server):
    settings.URL_IMPORT_ALLOW_PRIVATE = True
    base, routes = server
    routes["/fake.png"] = _body(b"<html>not a png</html>", "image/png")
    client = APIClient()
    resp = client.post("/api/conversion/convert", {"source_url": f"{base}/fake.png", "target_format": "jpg"},
                       format="multipart")
    (item,) = resp.json()["conversions"]
    conversion = Conversion.objects.get(pk=item["id"])
    assert conversion.status == "failed" and conversion.error_code in {"content_mismatch", "unsupported_content"}


@pytest.fixture
def no_worker_import(monkeypatch):
    from uploads import imports

    queued = []
    monkeypatch.setattr(imports, "url_import_enqueue", lambda **kw: queued.append(kw))
    return queued


def test_redirect_to_another_scheme_is_refused(settings, tmp_path, server):
    settings.URL_IMPORT_ALLOW_PRIVATE = True
    base, routes = server
    routes["/to-file"] = _redirect("file:///etc/passwd")
    with pytest.raises(FetchError) as exc:
        fetch_to_file(f"{base}/to-file", tmp_path / "x", max_bytes=100)
    assert exc.value.code == "invalid_source_url"


def test_payment_refused_after_the_download_fails_the_job_and_stores_nothing(settings, server, sample,
                                                                             monkeypatch):
    """Payment is decided once the size is known: a refusal (402) becomes the job's error."""
    from anclora.core.errors import ApplicationError
    from billing.entitlements import EntitlementAuthorizer

    def refuse(self, **kwargs):
        raise ApplicationError("Hay que pagar esta conversión.", code="payment_required", status=402)

    monkeypatch.setattr(EntitlementAuthorizer, "authorize", refuse)
    settings.URL_IMPORT_ALLOW_PRIVATE = True
    base, routes = server
    routes["/foto.png"] = _body(sample("png").read_bytes(), "image/png")
    client = APIClient()
    resp = client.post("/api/conversion/convert", {"source_url": f"{base}/foto.png", "target_format": "jpg"},
                       format="multipart")
    assert resp.status_code == 202
    conversion = Conversion.objects.get(pk=resp.json()["conversions"][0]["id"])
    assert conversion.status == "failed" and conversion.error_code == "payment_required"
    assert conversion.error_message == "Hay que pagar esta conversión."
    assert not StoredFile.objects.filter(is_deleted=False).exists()


def test_cancelled_while_downloading_stays_cancelled(settings, server, sample, no_worker_import):
    settings.URL_IMPORT_ALLOW_PRIVATE = True
    base, routes = server
    routes["/foto.png"] = _body(sample("png").read_bytes(), "image/png")
    client = APIClient()
    body = client.post("/api/conversion/convert", {"source_url": f"{base}/foto.png", "target_format": "jpg"},
                       format="multipart").json()
    (item,) = body["conversions"]
    cancel = client.post(f"/api/conversion/{item['id']}/cancel", {"session_id": body["session_id"]})
    assert cancel.status_code == 200, cancel.content
    from uploads.imports import url_import_execute

    assert url_import_execute(conversion_id=item["id"]) == "skipped"
    assert Conversion.objects.get(pk=item["id"]).status == "cancelled"
    assert not StoredFile.objects.filter(is_deleted=False).exists()


def test_options_with_a_url_import_are_applied_once_the_source_is_known(settings, server, sample):
    import io
    import json

    from PIL import Image

    settings.URL_IMPORT_ALLOW_PRIVATE = True
    base, routes = server
    routes["/foto.png"] = _body(sample("png").read_bytes(), "image/png")
    with Image.open(sample("png")) as im:
        width, height = im.size
    client = APIClient()
    resp = client.post("/api/conversion/convert", {"source_url": f"{base}/foto.png", "target_format": "jpg",
                                                   "options": json.dumps({"width": 8})}, format="multipart")
    assert resp.status_code == 202, resp.content
    body = resp.json()
    detail = client.get(body["conversions"][0]["status_url"], {"session_id": body["session_id"]}).json()
    assert detail["status"] == "completed", detail
    assert detail["options"] == {"width": 8, "fit": "contain", "strip_metadata": True, "background": "#ffffff"}
    data = b"".join(client.get(detail["download_url"], HTTP_X_SESSION_ID=body["session_id"]).streaming_content)
    with Image.open(io.BytesIO(data)) as im:
        assert im.size == (8, max(1, round(height * 8 / width)))


def test_an_option_the_downloaded_pair_does_not_take_fails_the_job_naming_it(settings, server, sample):
    """`pages` is an option of pdf -> png, so the request is accepted; the download is a PNG."""
    import json

    settings.URL_IMPORT_ALLOW_PRIVATE = True
    base, routes = server
    routes["/doc"] = _body(sample("png").read_bytes(), "application/pdf")
    client = APIClient()
    resp = client.post("/api/conversion/convert", {"source_url": f"{base}/doc", "target_format": "webp",
                                                   "options": json.dumps({"pages": "1"})}, format="multipart")
    assert resp.status_code == 202, resp.content
    conversion = Conversion.objects.get(pk=resp.json()["conversions"][0]["id"])
    assert conversion.status == "failed" and conversion.error_code == "invalid_option"
    assert conversion.error_message.startswith("pages: ")
    assert not StoredFile.objects.filter(is_deleted=False).exists()  # refused before anything was stored


def test_a_download_whose_options_ask_past_the_output_cap_fails_before_any_charge(settings, server, tmp_path):
    """A 16-page 1x1 TIFF at 8000x8000 a page (1 Gpx): the same request-time cap as an upload, once the
    download is in; nothing stored, nothing charged."""
    import json

    from conversions.tests.test_output_caps import BIG, tiny_tiff

    settings.URL_IMPORT_ALLOW_PRIVATE = True
    base, routes = server
    routes["/pages.tiff"] = _body(tiny_tiff(tmp_path / "pages.tiff").read_bytes(), "image/tiff")
    client = APIClient()
    resp = client.post("/api/conversion/convert", {"source_url": f"{base}/pages.tiff", "target_format": "pdf",
                                                   "options": json.dumps(BIG)}, format="multipart")
    assert resp.status_code == 202, resp.content
    conversion = Conversion.objects.get(pk=resp.json()["conversions"][0]["id"])
    assert conversion.status == "failed" and conversion.error_code == "output_too_large"
    assert conversion.error_message.startswith("width, height: ") and conversion.paid_by == ""
    assert not StoredFile.objects.filter(is_deleted=False).exists()
