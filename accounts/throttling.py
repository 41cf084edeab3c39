"""Failed-login throttle (django-axes) shared by the API, the login page and the admin login.

Failures are counted per account + client address (``AXES_LOCKOUT_PARAMETERS``): once
LOGIN_FAILURE_LIMIT attempts of one pair have failed, each failure within
LOGIN_FAILURE_WINDOW_SECONDS of the previous one, every further attempt of that pair is refused
with 429 and ``Retry-After`` until the window has passed, whatever the password. A lockout of one
address does not lock other accounts behind the same proxy, nor the account from other addresses.

Atomic under concurrency: axes checks the lock before the password is hashed and counts the
failure after, so parallel wrong passwords all pass the check (20 parallel attempts: up to 20
answered 401). ``AtomicAxesHandler`` instead takes the attempt's slot *before* the password is
checked, serialised per pair (a PostgreSQL advisory lock; SQLite runs every write transaction
alone), and a successful login clears the pair. So at most LOGIN_FAILURE_LIMIT attempts of a pair
ever reach the password check inside one window.

The client address is REMOTE_ADDR unless TRUSTED_PROXY_COUNT proxies are configured in front of
the app (each appends the address it saw to X-Forwarded-For); then it is the entry that the
outermost trusted proxy appended. A client-sent X-Forwarded-For is never trusted on its own.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_cool_off, get_credentials, get_failure_limit
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import F, Max
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from anclora.core.exceptions import json_error_response

logger = logging.getLogger(__name__)


# --- settings callables (read at call time, so tests may override the settings) -----
def failure_limit(request=None, credentials=None) -> int:
    return settings.LOGIN_FAILURE_LIMIT


def cool_off(request=None) -> timedelta:
    return timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)


# --- who is trying ------------------------------------------------------------------
def _valid_ip(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or the one our trusted proxies saw (TRUSTED_PROXY_COUNT)."""
    remote = _valid_ip(request.META.get("REMOTE_ADDR"))
    trusted = settings.TRUSTED_PROXY_COUNT
    if trusted <= 0:
        return remote
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < trusted:  # did not come through every trusted proxy: only the socket is known
        return remote
    return _valid_ip(hops[-trusted]) or remote


def username_for(request, credentials=None) -> str | None:
    """The account tried: the e-mail, case- and space-insensitive (as the login itself)."""
    value = None
    if credentials:
        value = credentials.get("email") or credentials.get("username")
    if value is None and request is not None:
        data = getattr(request, "data", None)
        if not hasattr(data, "get"):
            data = getattr(request, "POST", {})
        value = data.get("email") or data.get("username")
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().lower()[:255]


# --- the handler ----------------------------------------------------------------------
def _lock_pair(using: str, username: str | None, ip: str | None) -> None:
    """Serialise the attempts of one pair until the end of the transaction."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        digest = hashlib.sha256(f"anclora-login\0{username}\0{ip}".encode()).digest()
        key = int.from_bytes(digest[:8], "big", signed=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
    # SQLite: the project opens write transactions IMMEDIATE, so they already run one at a time.


class AtomicAxesHandler(AxesDatabaseHandler):
    """axes' database handler with the attempt counted before the password is checked (see module doc)."""

    def _pair_attempts(self, request, credentials):
        return AccessAttempt.objects.filter(
            username=get_client_username(request, credentials), ip_address=request.axes_ip_address
        )

    def is_allowed(self, request, credentials=None) -> bool:
        if self.is_blacklisted(request, credentials):
            return False
        if self.is_whitelisted(request, credentials):
            return True
        return self._reserve(request, credentials)

    def _reserve(self, request, credentials) -> bool:
        """Count this attempt unless the pair is locked; False (locked) otherwise."""
        username = get_client_username(request, credentials)
        ip = request.axes_ip_address
        now = request.axes_attempt_time
        using = router.db_for_write(AccessAttempt)
        self.clean_expired_user_attempts(request, credentials)  # no e-mail/address kept past its window
        with transaction.atomic(using=using):
            _lock_pair(using, username, ip)
            pair = self._pair_attempts(request, credentials)
            pair.filter(attempt_time__lt=now - get_cool_off(request)).delete()
            if self.get_failures(request, credentials) >= get_failure_limit(request, credentials):
                return False
            counted = pair.filter(user_agent=request.axes_user_agent).update(
                failures_since_start=F("failures_since_start") + 1, attempt_time=now,
                path_info=request.axes_path_info, http_accept=request.axes_http_accept,
            )
            if not counted:
                AccessAttempt.objects.create(
                    username=username, ip_address=ip, user_agent=request.axes_user_agent,
                    http_accept=request.axes_http_accept, path_info=request.axes_path_info,
                    get_data="", post_data="", failures_since_start=1,
                )
        request.axes_attempt_counted = True
        return True

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        if request is not None and getattr(request, "axes_attempt_counted", False) \
                and not getattr(request, "axes_locked_out", False):
            # Already counted when the attempt was let through; lockout applies from the next one.
            logger.info("login failed (counted before the password check)")
            return
        super().user_login_failed(sender, credentials, request, **kwargs)

    def retry_after(self, request, credentials=None) -> int:
        """Whole seconds until the pair may try again (at least 1)."""
        last = self._pair_attempts(request, credentials).aggregate(last=Max("attempt_time"))["last"]
        if last is None:
            return 1
        left = (last + get_cool_off(request) - timezone.now()).total_seconds()
        return max(1, math.ceil(left))


# --- used by the services, the admin form and axes' middleware ------------------------
def login_locked_out(request) -> bool:
    """True when the last authenticate() on this request was refused by the throttle."""
    return bool(request is not None and getattr(request, "axes_locked_out", False))


def login_retry_after(request, email: str | None = None) -> int:
    AxesProxyHandler.update_request(request)
    handler = AxesProxyHandler.get_implementation()
    if not hasattr(handler, "retry_after"):
        return int(cool_off(request).total_seconds())
    return handler.retry_after(request, get_credentials(email))


def login_throttle_reset(*, request, user) -> None:
    """A successful login clears its pair (the page and the admin do it through axes' signal)."""
    if request is None or not settings.AXES_ENABLED:
        return
    AxesProxyHandler.update_request(request)
    AxesProxyHandler.get_implementation().reset_user_attempts(request, get_credentials(user.get_username()))


def login_records_forget(*, email: str) -> int:
    """Remove what axes keeps about an account (its attempts and logs name it by e-mail)."""
    username = email.strip().lower()
    count = 0
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        count += model.objects.filter(username__iexact=username).delete()[0]
    return count


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the page the view rendered (its own message), as 429 with Retry-After."""
    retry = login_retry_after(request, username_for(request, credentials))
    if original_response is not None and not getattr(original_response, "streaming", False):
        response = original_response
        response.status_code = 429
    else:
        response = json_error_response(
            _("Demasiados intentos fallidos. Inténtalo de nuevo en %(s)d segundos.") % {"s": retry},
            "too_many_attempts", 429,
        )
    response["Retry-After"] = str(retry)
    return response
