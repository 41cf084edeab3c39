"""Failed-login throttle shared by the API, the login page and the admin login.

Counts failures per client IP and per account (email) in the cache; once either
reaches LOGIN_FAILURE_LIMIT inside LOGIN_FAILURE_WINDOW_SECONDS, further attempts are
refused with 429 until the window passes, whatever the password.
"""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.cache import cache


def _keys(ip: str | None, email: str | None) -> list[str]:
    keys = []
    if ip:
        keys.append(f"login-fail:ip:{ip}")
    if email:
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
        keys.append(f"login-fail:acct:{digest}")
    return keys


def _recent(key: str, now: float) -> list[float]:
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    return [t for t in cache.get(key, []) if now - t < window]


def login_is_blocked(*, ip: str | None, email: str | None) -> bool:
    now = time.time()
    limit = settings.LOGIN_FAILURE_LIMIT
    return any(len(_recent(key, now)) >= limit for key in _keys(ip, email))


def login_failure_record(*, ip: str | None, email: str | None) -> None:
    now = time.time()
    for key in _keys(ip, email):
        stamps = _recent(key, now) + [now]
        cache.set(key, stamps, timeout=settings.LOGIN_FAILURE_WINDOW_SECONDS)


def client_ip(request) -> str | None:
    # REMOTE_ADDR only: X-Forwarded-For is client-controlled unless a proxy rewrites it.
    return request.META.get("REMOTE_ADDR")
