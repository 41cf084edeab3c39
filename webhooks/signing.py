"""The signature of a delivery, as Stripe's: ``Anclora-Signature: t=<unix>,v1=<hex>`` where ``v1`` is
HMAC-SHA256 over ``f"{t}.{body}"`` (the raw body bytes) keyed with the owner's secret (``whsec_…``,
the whole string as UTF-8). Receivers check the HMAC and that ``t`` is within 5 minutes of now."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

HEADER = "Anclora-Signature"
TOLERANCE_SECONDS = 300


def secret_generate() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def signature_verify(secret: str, body: bytes, header: str, *, tolerance: int = TOLERANCE_SECONDS,
                     now: float | None = None) -> bool:
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), parts.get("v1", ""))
