"""Issue 24: gunicorn's own error pages (answered before Django sees the request) are JSON.

A real gunicorn with the project's config file (anclora/gunicorn_conf.py), on a free loopback port,
gets malformed requests through a raw socket.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from anclora import gunicorn_conf
from anclora.core.exceptions import error_body

BASE_DIR = Path(__file__).resolve().parents[3]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = _free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "anclora.settings.test",
           "DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('gunicorn') / 'throwaway.sqlite3'}",
           "PYTHONUNBUFFERED": "1"}
    env.pop("WEB_LIMIT_REQUEST_LINE", None)
    proc = subprocess.Popen(
        [str(GUNICORN), "-c", "anclora/gunicorn_conf.py", "anclora.wsgi:application",
         "--bind", f"127.0.0.1:{port}", "--worker-class", "gthread", "--workers", "1", "--threads", "2",
         "--log-level", "info"],
        cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        # The master logs "Listening at" once its socket listens: from then on a connection waits in the
        # backlog until the worker takes it.
        seen = []
        for line in proc.stderr:
            seen.append(line)
            if "Listening at" in line:
                break
        else:
            pytest.fail("gunicorn did not start:\n" + "".join(seen))
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proc.stderr.close()


def _exchange(port: int, raw: bytes) -> tuple[int, dict, dict]:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(raw)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    assert int(headers["content-length"]) == len(body)
    return status, headers, json.loads(body.decode("utf-8"))


def test_request_line_too_long_is_json(server):
    status, headers, body = _exchange(server, b"GET /api/" + b"a" * 6000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 414
    assert headers["content-type"] == "application/json"
    assert body["code"] == "request_line_too_long" and body["error"] and "request_line" in body["details"]


def test_oversized_header_is_json(server):
    status, headers, body = _exchange(
        server, b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n")
    assert status == 431
    assert headers["content-type"] == "application/json"
    assert body["code"] == "request_headers_too_large" and "headers" in body["details"]


def test_too_many_headers_is_json(server):
    fields = b"".join(b"X-F%d: v\r\n" % number for number in range(150))
    status, headers, body = _exchange(server, b"GET /api/health HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n")
    assert status == 431
    assert headers["content-type"] == "application/json"
    assert body["code"] == "request_headers_too_large"


def test_invalid_header_is_json(server):
    status, headers, body = _exchange(server, b"GET /api/health HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n")
    assert status == 400
    assert headers["content-type"] == "application/json"
    assert body["code"] == "bad_request" and body["error"]


def test_the_shape_is_the_apps():
    assert gunicorn_conf.error_body("m", "c", {"f": ["m"]}) == error_body("m", "c", {"f": ["m"]})
    assert gunicorn_conf.error_body("m", "c") == error_body("m", "c")


@pytest.mark.parametrize("path", ["scripts/run.sh", "Dockerfile", "docker-compose.yml"])
def test_every_way_of_starting_gunicorn_uses_the_config(path):
    text = (BASE_DIR / path).read_text()
    assert "gunicorn" in text
    assert "anclora/gunicorn_conf.py" in text
