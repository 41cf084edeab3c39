"""Slow clients against a live server (hardening): a tus PATCH whose body trickles holds no transaction,
no row lock and no other client; it ends at RESUMABLE_UPLOAD_PATCH_DEADLINE_SECONDS keeping what
arrived; a chunked PATCH is read (gunicorn) or refused with 411 (dev server), never a silent 204.

Raw sockets speak HTTP/1.1 to the server; the test waits for real events (the server entering the body
read, a response on the socket), never for a fixed time."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connection, transaction

from factories import PASSWORD
from uploads import resumable
from uploads.models import ResumableUpload

pytestmark = pytest.mark.django_db(transaction=True)
TUS = {"Tus-Resumable": "1.0.0"}
WAIT = 30  # seconds: an upper bound for events that take milliseconds (a failing test, not a sync)


def _address(url):
    parts = urlsplit(url)
    return parts.hostname, parts.port


def _request(base, method, path, body=b"", headers=None):
    conn = http.client.HTTPConnection(*_address(base), timeout=WAIT)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def _create(base, length, session=None):
    headers = {**TUS, "Upload-Length": str(length)}
    if session:
        headers["X-Session-Id"] = session
    status, headers, body = _request(base, "POST", "/api/uploads/", headers=headers)
    assert status == 201, body
    return json.loads(body)["upload_url"], headers["X-Session-Id"]


def _patch_head(url, session, offset, *, length=None, chunked=False) -> bytes:
    lines = [f"PATCH {url} HTTP/1.1", "Host: localhost", "Tus-Resumable: 1.0.0", f"X-Session-Id: {session}",
             "Content-Type: application/offset+octet-stream", f"Upload-Offset: {offset}"]
    lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _read_response(sock) -> tuple[int, dict, bytes]:
    """One HTTP response from a raw socket (headers, then Content-Length bytes of body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head, _sep, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _s, v in (line.partition(":") for line in header_lines)}
    length = int(headers.get("content-length", 0))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk
        body += chunk
    return int(status_line.split()[1]), headers, body[:length]


@pytest.fixture
def receive_events(monkeypatch):
    """events(upload_id) -> (reading, done): set when a PATCH of that upload starts reading its body and
    when it has finished reading it."""
    events = defaultdict(lambda: (threading.Event(), threading.Event()))
    original = resumable._receive

    def observed(upload, *args, **kwargs):
        reading, done = events[str(upload.pk)]
        reading.set()
        try:
            return original(upload, *args, **kwargs)
        finally:
            done.set()

    monkeypatch.setattr(resumable, "_receive", observed)
    return lambda upload_id: events[str(upload_id)]


def _trickle(base, url, session, *, declared=1000, first=b"12345"):
    sock = socket.create_connection(_address(base), timeout=WAIT)
    sock.sendall(_patch_head(url, session, 0, length=declared) + first)
    return sock


def test_a_trickling_patch_holds_no_transaction_no_lock_and_no_other_client(live_server, make_user,
                                                                           receive_events):
    base = live_server.url
    make_user(email="ana@example.com")
    url, session = _create(base, 1000)
    upload_id = url.rstrip("/").rsplit("/", 1)[1]
    reading, done = receive_events(upload_id)

    slow = _trickle(base, url, session)
    try:
        assert reading.wait(WAIT), "the PATCH never started reading its body"

        # While its body travels: a login, and somebody else's whole upload, answered at once.
        status, _h, body = _request(base, "POST", "/api/auth/login",
                                    json.dumps({"email": "ana@example.com", "password": PASSWORD}).encode(),
                                    {"Content-Type": "application/json"})
        assert status == 200, body
        other_url, other_session = _create(base, 6)
        status, headers, body = _request(base, "PATCH", other_url, b"abcdef", {
            **TUS, "X-Session-Id": other_session, "Content-Type": "application/offset+octet-stream",
            "Upload-Offset": "0"})
        assert status == 204 and headers["Upload-Offset"] == "6", body

        # A second writer of the trickling upload is told it is busy (no waiting behind it).
        status, _h, body = _request(base, "PATCH", url, b"xyz", {
            **TUS, "X-Session-Id": session, "Content-Type": "application/offset+octet-stream",
            "Upload-Offset": "0"})
        assert status == 409 and json.loads(body)["code"] == "upload_locked", body

        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                               "AND state LIKE 'idle in transaction%%' AND pid <> pg_backend_pid()")
                assert cursor.fetchone()[0] == 0
            with transaction.atomic():  # nobody holds the row: NOWAIT would raise at once
                row = ResumableUpload.objects.select_for_update(nowait=True).get(pk=upload_id)
                assert row.offset == 0
        assert not done.is_set()
    finally:
        slow.close()  # the client goes away mid-body

    assert done.wait(WAIT)
    # What arrived before the drop is kept: the client resumes from HEAD.
    status, headers, _b = _request(base, "HEAD", url, headers={**TUS, "X-Session-Id": session})
    assert status == 200 and headers["Upload-Offset"] == "5"


def test_a_trickling_patch_ends_at_the_deadline_keeping_what_arrived(live_server, settings):
    settings.RESUMABLE_UPLOAD_PATCH_DEADLINE_SECONDS = 1
    base = live_server.url
    url, session = _create(base, 1000)

    slow = _trickle(base, url, session)  # five bytes of 1000, then nothing: the client holds on
    try:
        status, headers, _body = _read_response(slow)  # answered by the deadline, not by the client
    finally:
        slow.close()
    assert status == 204 and headers["upload-offset"] == "5"

    # The tus client resumes from there.
    status, headers, _b = _request(base, "PATCH", url, b"x" * 995, {
        **TUS, "X-Session-Id": session, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "5"})
    assert status == 204 and headers["Upload-Offset"] == "1000"
    assert Path(ResumableUpload.objects.get().path).read_bytes() == b"12345" + b"x" * 995


def _chunked_patch(base, url, session) -> tuple[int, dict, bytes]:
    """PATCH of "hello" with Transfer-Encoding: chunked and no Content-Length, on a raw socket."""
    sock = socket.create_connection(_address(base), timeout=WAIT)
    try:
        sock.sendall(_patch_head(url, session, 0, chunked=True) + b"5\r\nhello\r\n0\r\n\r\n")
        return _read_response(sock)
    finally:
        sock.close()


def test_a_chunked_patch_on_the_dev_server_is_411_not_a_silent_204(live_server):
    base = live_server.url
    url, session = _create(base, 5)
    status, _headers, body = _chunked_patch(base, url, session)
    assert status == 411, body
    assert json.loads(body)["code"] == "length_required" and "Content-Length" in json.loads(body)["details"]
    assert ResumableUpload.objects.get().offset == 0


def test_header_number_with_a_superscript_digit_is_400_on_the_wire(live_server):
    """The byte 0xB2 reaches the application as "²" (WSGI headers are latin-1): `isdigit()` is true."""
    base = live_server.url
    sock = socket.create_connection(_address(base), timeout=WAIT)
    try:
        sock.sendall("POST /api/uploads/ HTTP/1.1\r\nHost: localhost\r\nTus-Resumable: 1.0.0\r\n"
                     "Upload-Length: ²\r\nContent-Length: 0\r\n\r\n".encode("latin-1"))
        status, _headers, body = _read_response(sock)
    finally:
        sock.close()
    assert status == 400 and "Upload-Length" in json.loads(body)["details"], body
    assert not ResumableUpload.objects.exists()


# --- the same under gunicorn (gthread), the server `make run` uses -----------------------------------

def _start_gunicorn(tmp_path, *, threads: int, env_extra: dict):
    """gunicorn as `make run` starts it (the project's config: the deadline worker class, JSON errors), one
    worker with ``threads`` threads, on the test database."""
    if connection.vendor != "postgresql":
        pytest.skip("the test database must be reachable from another process (PostgreSQL)")
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "anclora.settings.test",
           "DATABASE_URL": f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
           "CONN_MAX_AGE": "0", "MEDIA_ROOT": str(tmp_path / "media"),
           "RESUMABLE_UPLOAD_DIR": str(tmp_path / "resumable"), **env_extra}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "anclora/gunicorn_conf.py", "anclora.wsgi:application",
         "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", str(threads), "--timeout", "300",
         "--log-level", "info"],
        cwd=Path(__file__).resolve().parents[2], env=env, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:  # the worker is up: requests are served from here on
        if "Booting worker" in line:
            break
    else:
        proc.wait(WAIT)
        pytest.fail("gunicorn did not start")
    threading.Thread(target=proc.stderr.read, daemon=True).start()  # keep its pipe drained
    return proc, f"http://127.0.0.1:{port}"


@pytest.fixture
def gunicorn_server(tmp_path):
    """gunicorn (1 worker, 4 threads) on the test database, with a 2 s PATCH deadline."""
    proc, base = _start_gunicorn(tmp_path, threads=4, env_extra={"RESUMABLE_UPLOAD_PATCH_DEADLINE_SECONDS": "2"})
    try:
        yield base, tmp_path / "resumable"
    finally:
        proc.terminate()
        proc.wait(WAIT)


def test_under_gunicorn_chunked_patch_is_read_and_a_trickle_ends_at_the_deadline(gunicorn_server):
    base, directory = gunicorn_server
    # gunicorn decodes a chunked body and marks its end (wsgi.input_terminated): the bytes are kept.
    url, session = _create(base, 10)
    status, headers, body = _chunked_patch(base, url, session)
    assert status == 204 and headers["upload-offset"] == "5", body
    upload_id = url.rstrip("/").rsplit("/", 1)[1]
    assert (directory / f"{upload_id.replace('-', '')}.part").read_bytes() == b"hello"

    # A body that trickles: gunicorn's body read blocks until it has its bytes (nothing else bounds it,
    # --timeout is the worker's heartbeat); the PATCH deadline ends it, keeping what arrived.
    slow_url, slow_session = _create(base, 1000)
    slow = _trickle(base, slow_url, slow_session)
    try:
        # meanwhile another client's whole upload
        other_url, other_session = _create(base, 3)
        status, headers, _b = _request(base, "PATCH", other_url, b"abc", {
            **TUS, "X-Session-Id": other_session, "Content-Type": "application/offset+octet-stream",
            "Upload-Offset": "0"})
        assert status == 204 and headers["Upload-Offset"] == "3"
        status, headers, _b = _read_response(slow)  # answered by the deadline
    finally:
        slow.close()
    assert status == 204 and headers["upload-offset"] == "5"
    status, headers, _b = _request(base, "HEAD", slow_url, headers={**TUS, "X-Session-Id": slow_session})
    assert headers["Upload-Offset"] == "5"


# --- the web server's own deadlines (anclora/web_worker.py): slow headers, slow bodies ---------------

HEADER_TIMEOUT, BODY_GRACE, BODY_MIN_RATE = 2, 1, 200


@pytest.fixture
def two_thread_server(tmp_path):
    """gunicorn with 2 threads and short deadlines (the tus PATCH's own deadline out of the way)."""
    proc, base = _start_gunicorn(tmp_path, threads=2, env_extra={
        "WEB_HEADER_TIMEOUT": str(HEADER_TIMEOUT), "WEB_BODY_GRACE": str(BODY_GRACE),
        "WEB_BODY_MIN_RATE": str(BODY_MIN_RATE), "RESUMABLE_UPLOAD_PATCH_DEADLINE_SECONDS": "600"})
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(WAIT)


class Trickler(threading.Thread):
    """Sends ``head`` and then one byte of ``tail`` every 0.2 s (the attack's model) until the server
    closes the connection or answers; records what came back and when."""

    def __init__(self, base, head: bytes, tail: bytes):
        super().__init__(daemon=True)
        self.sock = socket.create_connection(_address(base), timeout=WAIT)
        self.sock.sendall(head)
        self.tail, self.answer, self.elapsed = tail, b"", None
        self.holding = threading.Event()

    def run(self):
        started = time.monotonic()
        self.sock.settimeout(0.2)  # the pace of the trickle: one byte, then a look for an answer
        try:
            for byte in self.tail:
                self.holding.set()
                try:
                    self.sock.sendall(bytes([byte]))
                except OSError:
                    break
                try:
                    data = self.sock.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    break
                self.answer += data
                if not data or b"\r\n\r\n" in self.answer:
                    break
        finally:
            self.elapsed = time.monotonic() - started
            self.sock.close()


def _served_while_held(base, slow: list[Trickler]) -> None:
    """Start the tricklers, wait until each holds its thread, then another client must be answered."""
    for trickler in slow:
        trickler.start()
    for trickler in slow:
        trickler.holding.wait(WAIT)
    status, _headers, _body = _request(base, "GET", "/api/conversion/supported-formats")
    assert status == 200


def test_headers_trickling_on_every_thread_are_cut_and_others_are_served(two_thread_server):
    base = two_thread_server
    head = b"GET /api/health HTTP/1.1\r\nHost: localhost\r\n"
    slow = [Trickler(base, head, b"X-Slow: " + b"a" * 400) for _ in range(2)]  # > 80 s at 5 bytes a second
    _served_while_held(base, slow)  # both threads held by a request whose headers never end
    for trickler in slow:
        trickler.join(WAIT)
        assert not trickler.is_alive()
        assert trickler.elapsed < HEADER_TIMEOUT + 5, trickler.elapsed  # cut at the header deadline
        assert trickler.answer == b""  # no request was ever read: the connection is just closed


def test_a_body_below_the_minimum_rate_is_cut_keeping_what_arrived(two_thread_server):
    base = two_thread_server
    uploads = [_create(base, 1000) for _ in range(2)]
    slow = [Trickler(base, _patch_head(url, session, 0, length=1000), b"z" * 1000) for url, session in uploads]
    _served_while_held(base, slow)
    for (url, session), trickler in zip(uploads, slow, strict=True):
        trickler.join(WAIT)
        assert not trickler.is_alive()
        # 5 bytes a second is below 200: cut after the grace, answered with what arrived
        assert trickler.elapsed < BODY_GRACE + 6, trickler.elapsed
        assert trickler.answer.startswith(b"HTTP/1.1 204"), trickler.answer[:200]
        status, headers, _b = _request(base, "HEAD", url, headers={**TUS, "X-Session-Id": session})
        kept = int(headers["Upload-Offset"])
        assert 0 < kept < 1000 and f"upload-offset: {kept}".encode() in trickler.answer.lower()


def test_a_body_at_a_sound_rate_is_not_cut(two_thread_server):
    base = two_thread_server
    url, session = _create(base, 4000)
    sock = socket.create_connection(_address(base), timeout=WAIT)
    try:
        sock.sendall(_patch_head(url, session, 0, length=4000))
        started = time.monotonic()
        for _ in range(16):  # 250 bytes every 0.5 s: 500 bytes a second, over the 200 asked for, for 8 s
            sock.sendall(b"y" * 250)
            time.sleep(0.5)  # the client's pace (the load model), not synchronisation
        status, headers, body = _read_response(sock)
    finally:
        sock.close()
    assert time.monotonic() - started > BODY_GRACE + 2  # it ran well past the grace
    assert status == 204 and headers["upload-offset"] == "4000", body


def test_a_form_upload_below_the_minimum_rate_is_refused_not_a_500(two_thread_server):
    base = two_thread_server
    boundary = "slowform"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="target_format"\r\n\r\njpg\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    length = len(head) + 5000
    request = (f"POST /api/conversion/convert HTTP/1.1\r\nHost: localhost\r\nContent-Length: {length}\r\n"
               f"Content-Type: multipart/form-data; boundary={boundary}\r\n\r\n").encode() + head
    slow = Trickler(base, request, b"\x89" * 5000)
    slow.start()
    slow.join(WAIT)
    assert not slow.is_alive()
    assert slow.elapsed < BODY_GRACE + 6, slow.elapsed
    status = int(slow.answer.split(b" ", 2)[1]) if slow.answer else 0
    assert 400 <= status < 500, slow.answer[:300]  # the short body is refused, never a 500


SEND_TIMEOUT = 2


@pytest.fixture
def send_timeout_server(tmp_path, settings):
    """2 threads, a 2 s send timeout, the test process's media folder (outputs made here are served)."""
    proc, base = _start_gunicorn(tmp_path, threads=2, env_extra={
        "WEB_SEND_TIMEOUT": str(SEND_TIMEOUT), "MEDIA_ROOT": str(settings.MEDIA_ROOT)})
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(WAIT)


def test_downloads_read_at_a_trickle_do_not_hold_the_threads(send_timeout_server):
    """Two clients ask for a 40 MB output and read nothing after the first bytes: the loopback buffers fill
    and both threads wait in a send; past the send timeout the server drops them and serves another client
    (without it, that client waits as long as the readers hold out)."""
    from factories import AnonymousSessionFactory, ConversionFactory

    base = send_timeout_server
    session = AnonymousSessionFactory()
    conversion = ConversionFactory(user=None, session=session, status="completed", size=40 * 1024 * 1024)
    output = conversion.output
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    output.storage_name = default_storage.save(output.storage_name, ContentFile(os.urandom(40 * 1024 * 1024)))
    output.save(update_fields=["storage_name"])
    readers = []
    for _ in range(2):
        sock = socket.create_connection(_address(base), timeout=WAIT)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a reader that takes almost nothing
        sock.sendall((f"GET /api/conversion/{conversion.pk}/download HTTP/1.1\r\nHost: localhost\r\n"
                      f"X-Session-Id: {session.pk}\r\n\r\n").encode())
        assert sock.recv(12).startswith(b"HTTP/1.1 200")  # the answer started: its thread is sending
        readers.append(sock)
    try:
        started = time.monotonic()
        status, _headers, _body = _request(base, "GET", "/api/conversion/supported-formats")
        assert status == 200
        assert time.monotonic() - started < SEND_TIMEOUT + 10
    finally:
        for sock in readers:
            sock.close()
