"""Password reset: request a one-time link by e-mail, then set a new password with it.

The link carries the user's id and a token from Django's ``default_token_generator``: the token
is an HMAC over the user's password hash, last login and a timestamp, so it stops working once
the password changes (one use) or after ``PASSWORD_RESET_TIMEOUT`` seconds.

Nothing a caller sees tells whether an address has an account: the request always gets the same
answer, and the page or API does the same work for every address (throttle counters, then one
task enqueued after commit); the task looks the address up and sends the e-mail, so neither the
answer nor its timing depends on the address. Throttled per e-mail (over the limit: same answer,
nothing sent) and per client address (over the limit: 429 with Retry-After; it counts requests,
whatever the address, so it reveals nothing either).
"""

from __future__ import annotations

import logging

from celery import current_app
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _

from anclora.core.errors import ApplicationError

from .abuse import Window, window_take
from .models import User
from .services import user_refresh_tokens_revoke
from .throttling import client_ip

logger = logging.getLogger(__name__)

UID_MAX_LENGTH = 64
TOKEN_MAX_LENGTH = 128


# --- throttle ---------------------------------------------------------------------------
def _count(kind: str, who: str, limit: int) -> Window:
    """Count one request of ``who`` in the current reset window (the shared atomic fixed window)."""
    return window_take(f"password-reset-{kind}", who, limit=limit, seconds=settings.PASSWORD_RESET_WINDOW_SECONDS)


def link_lifetime_hours() -> int:
    return max(1, round(settings.PASSWORD_RESET_TIMEOUT / 3600))


def _normalize(email: str) -> str:
    return email.strip().lower()


# --- request a link ---------------------------------------------------------------------
def request_answer() -> str:
    """What every reset request is told, whether the address has an account or not."""
    return _("Si existe una cuenta con ese correo, te hemos enviado un enlace para restablecer la contraseña.")


def password_reset_request(*, email: str, request) -> bool:
    """Note a reset request for ``email``; the link is e-mailed after commit if the account exists.

    Returns False when the e-mail's own limit was reached (nothing will be sent); the caller answers
    the same either way. Raises 429 (``too_many_requests``) when the client address is over its
    limit.
    """
    address = client_ip(request) or "unknown"
    per_address = _count("address", address, settings.PASSWORD_RESET_ADDRESS_LIMIT)
    if not per_address.allowed:
        logger.info("password reset refused: address over its limit")
        raise ApplicationError(
            _("Demasiadas solicitudes. Inténtalo de nuevo en %(s)d segundos.") % {"s": per_address.retry_after},
            code="too_many_requests", status=429, details={"retry_after": per_address.retry_after},
        )
    per_email = _count("email", _normalize(email), settings.PASSWORD_RESET_EMAIL_LIMIT)
    if not per_email.allowed:
        logger.info("password reset not sent: e-mail over its limit")
        return False
    base_url = request.build_absolute_uri("/")
    # By name: tasks.py calls this module (registered in every process by AccountsConfig.ready()).
    task = current_app.tasks["accounts.tasks.password_reset_email_task"]
    transaction.on_commit(lambda: task.delay(email=email.strip(), base_url=base_url))
    return True


def _users_for(email: str):
    """Active accounts with that e-mail (case-insensitive) that may log in with a password."""
    email = _normalize(email)
    if not email:
        return []
    return [user for user in User.objects.filter(email__iexact=email, is_active=True)
            if user.has_usable_password()]


def password_reset_link(*, user: User, base_url: str) -> str:
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("accounts:password_reset_confirm", kwargs={"uidb64": uidb64, "token": token})
    return base_url.rstrip("/") + path


def password_reset_email_send(*, email: str, base_url: str) -> int:
    """E-mail the link to the account with that address, in its language. Returns mails sent.

    An unknown or inactive address sends nothing. A mail server failure is logged, not raised.
    """
    sent = 0
    for user in _users_for(email):
        link = password_reset_link(user=user, base_url=base_url)
        context = {"user": user, "link": link, "hours": link_lifetime_hours()}
        with translation.override(user.language or settings.LANGUAGE_CODE):
            subject = " ".join(render_to_string("accounts/email/password_reset_subject.txt", context).split())
            body = render_to_string("accounts/email/password_reset_body.txt", context)
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email], fail_silently=False)
        except Exception:  # SMTP down, refused recipient…: the requester sees the same answer anyway
            logger.exception("password reset e-mail to user %s could not be sent", user.pk)
            continue
        logger.info("password reset e-mail sent to user %s", user.pk)
        sent += 1
    return sent


# --- use the link -----------------------------------------------------------------------
def _invalid_link() -> ApplicationError:
    message = _("El enlace para restablecer la contraseña no es válido o ha caducado. Solicita uno nuevo.")
    return ApplicationError(message, code="invalid_token", status=400, details={"token": [message]})


def password_reset_user(*, uidb64: str, token: str) -> User | None:
    """The account the link is for, if the link is still good (right token, not expired, active)."""
    if not uidb64 or not token or len(uidb64) > UID_MAX_LENGTH or len(token) > TOKEN_MAX_LENGTH:
        return None
    try:
        pk = force_str(urlsafe_base64_decode(uidb64))
        user = User.objects.filter(pk=pk, is_active=True).first()
    except (ValueError, TypeError, OverflowError, ValidationError, UnicodeDecodeError):
        return None
    if user is None or not default_token_generator.check_token(user, token):
        return None
    return user


def password_reset_confirm(*, uidb64: str, token: str, new_password: str) -> User:
    """Set the new password through a valid link: the link dies, every refresh token is revoked.

    Raises 400 ``invalid_token`` for a wrong, used or expired link, 400 ``weak_password`` (details
    under ``new_password``) when the password breaks the policy.
    """
    with transaction.atomic():
        user = password_reset_user(uidb64=uidb64, token=token)
        if user is None:
            raise _invalid_link()
        # One use, also under concurrency: lock the row and check the token again on what is stored.
        user = User.objects.select_for_update().get(pk=user.pk)
        if not user.is_active or not default_token_generator.check_token(user, token):
            raise _invalid_link()
        try:
            password_validation.validate_password(new_password, user)
        except ValidationError as exc:
            raise ApplicationError(
                exc.messages[0], code="weak_password", status=400, details={"new_password": exc.messages},
            ) from exc
        user.set_password(new_password)
        user.save(update_fields=["password"])
        user_refresh_tokens_revoke(user)  # the save's signal does it too; explicit, as in user_update
    _login_lockout_reset(user)
    logger.info("password reset through the e-mailed link for user %s; refresh tokens revoked", user.pk)
    return user


def _login_lockout_reset(user: User) -> None:
    """Whoever proved they own the mailbox may try to log in again at once (every address)."""
    if not getattr(settings, "AXES_ENABLED", True):
        return
    from axes.utils import reset

    reset(username=user.get_username().strip().lower())
