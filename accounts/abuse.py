"""Abuse limits per client address: sign-ups, new anonymous sessions (and the address key billing uses).

The address is the one ``accounts.throttling.client_ip`` trusts (REMOTE_ADDR, or what our
TRUSTED_PROXY_COUNT proxies saw). IPv6 addresses count by their /64 network, since one
subscriber usually holds a whole /64. Counters live in the cache, in fixed windows, taken
atomically (``cache.add`` + ``cache.incr``): parallel requests cannot all pass a limit.
Stored keys never hold the address itself: an HMAC-SHA256 of it under SECRET_KEY.

- Sign-ups: SIGNUP_ADDRESS_LIMIT accounts per SIGNUP_WINDOW_SECONDS per address (page and
  API). A slot is taken before the account is created and given back if the creation fails
  (a mistyped password does not use it up).
- New anonymous sessions through the API: ANONYMOUS_SESSIONS_PER_ADDRESS_HOUR per address and hour.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import time
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from anclora.core.errors import ApplicationError

from .throttling import client_ip

UNKNOWN = "unknown"


def address_bucket(request) -> str:
    """The client address as counted: IPv4 as is, IPv6 by its /64 network ("unknown" if none)."""
    ip = client_ip(request)
    if not ip:
        return UNKNOWN
    address = ipaddress.ip_address(ip)
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def address_hash(bucket: str, purpose: str = "abuse") -> str:
    """HMAC-SHA256 of the address bucket under SECRET_KEY: a stable key that is not the address."""
    return hmac.new(settings.SECRET_KEY.encode(), f"{purpose}\0{bucket}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Window:
    key: str
    allowed: bool
    retry_after: int


def window_take(kind: str, bucket: str, *, limit: int, seconds: int) -> Window:
    """Count one event of ``bucket`` in the current fixed window (atomic)."""
    seconds = max(1, seconds)
    now = time.time()
    index = int(now // seconds)
    key = f"abuse:{kind}:{address_hash(bucket, kind)[:32]}:{index}"
    cache.add(key, 0, timeout=seconds + 60)
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr: this event opens the window again
        cache.add(key, 1, timeout=seconds + 60)
        used = 1
    return Window(key=key, allowed=used <= limit, retry_after=max(1, int((index + 1) * seconds - now) + 1))


def window_give_back(window: Window) -> None:
    try:
        cache.decr(window.key)
    except ValueError:
        pass


def _too_many(message: str, code: str, retry_after: int) -> ApplicationError:
    return ApplicationError(message % {"s": retry_after}, code=code, status=429,
                            details={"retry_after": retry_after})


@contextmanager
def signup_slot(request):
    """Take one of the address's sign-up slots for the block (429 when none is left); a failure gives it back."""
    window = window_take("signup", address_bucket(request), limit=settings.SIGNUP_ADDRESS_LIMIT,
                         seconds=settings.SIGNUP_WINDOW_SECONDS)
    if not window.allowed:
        window_give_back(window)
        raise _too_many(_("Demasiadas cuentas creadas desde esta dirección. Inténtalo de nuevo en %(s)d segundos."),
                        "too_many_signups", window.retry_after)
    try:
        yield
    except BaseException:
        window_give_back(window)
        raise


def anonymous_session_slot(request) -> None:
    """One new anonymous session for this address this hour, or 429."""
    window = window_take("anon-session", address_bucket(request),
                         limit=settings.ANONYMOUS_SESSIONS_PER_ADDRESS_HOUR, seconds=3600)
    if not window.allowed:
        window_give_back(window)
        raise _too_many(_("Demasiadas sesiones anónimas nuevas desde esta dirección. Guarda tu session_id, "
                          "crea una cuenta o inténtalo de nuevo en %(s)d segundos."),
                        "too_many_sessions", window.retry_after)
