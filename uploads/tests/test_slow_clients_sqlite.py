"""The embedded default of `make run`: gunicorn gthread on a SQLite file (WAL, IMMEDIATE transactions).

A tus PATCH that trickles used to hold a write transaction while its body travelled, so every other
write (a login, somebody else's upload) waited for SQLite's busy timeout and then answered 500
"database is locked". Here the server is a subprocess on its own SQLite file, built from the models
(as the test databases are) and seeded; its busy timeout is lowered from 20 s to 2 s so that the old
behaviour fails fast. A probe in the server announces on a Unix socket when a PATCH starts reading its
body: the test waits for that event, never for a fixed time."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from factories import PASSWORD

from .test_slow_clients import TUS, WAIT, _create, _request, _trickle

ROOT = Path(__file__).resolve().parents[2]

SETTINGS = """
from anclora.settings.test import *  # noqa: F403

DATABASES["default"]["OPTIONS"]["timeout"] = 2  # noqa: F405 - make run's is 20 s


class _NoMigrations(dict):
    def __contains__(self, item):
        return True

    def __getitem__(self, item):
        return None


MIGRATION_MODULES = _NoMigrations()  # tables straight from the models, like the test databases
"""

PROBE = """
import os
import socket

from anclora.wsgi import application  # noqa: F401
from uploads import resumable

_receive = resumable._receive


def _announced(upload, *args, **kwargs):
    try:
        with socket.socket(socket.AF_UNIX) as probe:
            probe.connect(os.environ["PROBE_SOCKET"])
            probe.sendall(str(upload.pk).encode())
    except OSError:
        pass
    return _receive(upload, *args, **kwargs)


resumable._receive = _announced
"""

SETUP = """
import django
django.setup()
from django.core.management import call_command
call_command("migrate", run_syncdb=True, verbosity=0)
from anclora.core.seeding import run_seeders
run_seeders()
from factories import UserFactory
UserFactory(email="bob@example.com")
"""


@pytest.fixture
def sqlite_server(tmp_path):
    (tmp_path / "sqlite_settings.py").write_text(textwrap.dedent(SETTINGS))
    (tmp_path / "probe_wsgi.py").write_text(textwrap.dedent(PROBE))
    probe_path = str(tmp_path / "probe.sock")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
           "DJANGO_SETTINGS_MODULE": "sqlite_settings", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
           "MEDIA_ROOT": str(tmp_path / "media"), "RESUMABLE_UPLOAD_DIR": str(tmp_path / "resumable"),
           "PROBE_SOCKET": probe_path}
    env.pop("REDIS_URL", None)
    subprocess.run([sys.executable, "-c", SETUP], cwd=ROOT, env=env, check=True, timeout=300)

    probe = socket.socket(socket.AF_UNIX)
    probe.bind(probe_path)
    probe.listen(16)
    probe.settimeout(WAIT)
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "probe_wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--worker-class", "gthread", "--workers", "1", "--threads", "8", "--timeout", "300",
         "--log-level", "info"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stderr:
            if "Booting worker" in line:
                break
        else:
            pytest.fail("gunicorn did not start")
        threading.Thread(target=proc.stderr.read, daemon=True).start()
        yield f"http://127.0.0.1:{port}", probe
    finally:
        proc.terminate()
        proc.wait(WAIT)
        probe.close()


def _announced_upload(probe) -> str:
    conn, _addr = probe.accept()
    with conn:
        return conn.recv(64).decode()


def test_trickling_patch_on_embedded_sqlite_does_not_lock_the_database(sqlite_server):
    base, probe = sqlite_server
    url, session = _create(base, 1000)
    slow = _trickle(base, url, session)
    try:
        assert _announced_upload(probe) == url.rstrip("/").rsplit("/", 1)[1]  # its body is being read now

        status, _h, body = _request(base, "POST", "/api/auth/login",
                                    json.dumps({"email": "bob@example.com", "password": PASSWORD}).encode(),
                                    {"Content-Type": "application/json"})
        assert status == 200, body  # was 500 "database is locked" after the busy timeout
        other_url, other_session = _create(base, 3)
        status, headers, body = _request(base, "PATCH", other_url, b"abc", {
            **TUS, "X-Session-Id": other_session, "Content-Type": "application/offset+octet-stream",
            "Upload-Offset": "0"})
        assert status == 204 and headers["Upload-Offset"] == "3", body
        assert _announced_upload(probe)  # (the other upload's read, so the backlog stays empty)
    finally:
        slow.close()
