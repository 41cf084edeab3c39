"""Billing fixtures: localstripe (its own venv, loopback only), signed webhook events."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from conftest import _skip_or_fail

BASE_DIR = Path(__file__).resolve().parents[2]
LOCALSTRIPE_PYTHON = BASE_DIR / ".venv-localstripe" / "bin" / "python"
LAUNCHER = BASE_DIR / "scripts" / "localstripe_loopback.py"
WEBHOOK_SECRET = "whsec_test_anclora_0123456789"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def localstripe_server():
    """A localstripe process for the session on 127.0.0.1 (skip, or fail with REQUIRE_SERVICES=1)."""
    if not LOCALSTRIPE_PYTHON.exists():
        _skip_or_fail("localstripe is not installed: `make localstripe` creates .venv-localstripe")
    port = _free_port()
    proc = subprocess.Popen([str(LOCALSTRIPE_PYTHON), str(LAUNCHER), str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if proc.poll() is not None:
                _skip_or_fail("localstripe exited at start")
            time.sleep(0.1)
    else:
        proc.kill()
        _skip_or_fail("localstripe did not start within 20 s")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def localstripe(localstripe_server, settings):
    """The app's stripe client pointed at localstripe, with a webhook secret."""
    settings.STRIPE_SECRET_KEY = "sk_test_" + "anclora" * 4
    settings.STRIPE_API_BASE = localstripe_server
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    return localstripe_server


@pytest.fixture
def offline(settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_API_BASE = ""
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET


def sign(payload: bytes, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={signature}"


def event_payload(kind: str, obj: dict, *, event_id: str | None = None) -> bytes:
    return json.dumps({"id": event_id or f"evt_test_{uuid.uuid4().hex}", "object": "event", "type": kind,
                       "created": int(time.time()), "livemode": False, "data": {"object": obj}}).encode()


def post_webhook(client, payload: bytes, signature: str | None = None):
    headers = {"HTTP_STRIPE_SIGNATURE": signature if signature is not None else sign(payload)}
    return client.post("/api/payments/webhook", data=payload, content_type="application/json", **headers)


@pytest.fixture(autouse=True)
def _fresh_server_load():
    """The estimate endpoint may reuse a load label for a second; tests start from the queue."""
    from billing import selectors

    selectors._load_cache.clear()
    yield
    selectors._load_cache.clear()
