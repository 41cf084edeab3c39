"""E-mail verification: signed one-time links, the mails that carry them, the writes that confirm.

Sign-up sends a link to the new address; changing the e-mail sends one to the new address and the
old one stays the login until the link is opened. A link carries a TimestampSigner token (valid
VERIFY_MAX_AGE) with the user, the address and a digest of the account's verification state
(address, pending address, verified-at); confirming changes that state, so each link works once.
Confirming publishes ``email_verified`` (anclora/core/events.py): gamification credits the points
held back while the account was unverified and checks early_adopter.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from urllib.parse import urljoin

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from anclora.core import events
from anclora.core.errors import ApplicationError

from .models import User

VERIFY_SALT = "accounts.email-verification"
VERIFY_MAX_AGE = timedelta(days=3)
RESEND_COOLDOWN_SECONDS = 60
TOKEN_MAX_LENGTH = 512


# --- tokens -------------------------------------------------------------------------
def _state_digest(user: User, address: str) -> str:
    verified = user.email_verified_at.isoformat() if user.email_verified_at else "-"
    value = f"{user.pk}|{address.lower()}|{user.email.lower()}|{user.pending_email.lower()}|{verified}"
    return salted_hmac(VERIFY_SALT, value, algorithm="sha256").hexdigest()[:40]


def email_verification_token(*, user: User, address: str) -> str:
    signer = signing.TimestampSigner(salt=VERIFY_SALT)
    return signer.sign_object({"u": str(user.pk), "e": address, "s": _state_digest(user, address)})


def verification_target(user: User) -> str:
    """The address waiting for its link: the pending new address, else an unverified current one."""
    if user.pending_email:
        return user.pending_email
    return "" if user.email_verified_at else user.email


def _invalid_link() -> ApplicationError:
    message = _("El enlace de verificación no es válido o ya se ha usado.")
    return ApplicationError(message, code="invalid_token", status=400, details={"token": [message]})


def _email_taken() -> ApplicationError:
    message = _("Ya existe una cuenta con ese email.")
    return ApplicationError(message, code="email_taken", status=409, details={"email": [message]})


# --- mails --------------------------------------------------------------------------
def _cooldown_left(user: User, now: datetime) -> int:
    if user.email_verification_sent_at is None:
        return 0
    left = (user.email_verification_sent_at + timedelta(seconds=RESEND_COOLDOWN_SECONDS) - now).total_seconds()
    return max(0, math.ceil(left))


def email_verification_send(*, user: User, base_url: str, now: datetime | None = None) -> str:
    """Send the link for the address waiting to be verified (rendered in the user's language), after
    commit. Returns the address it goes to ("" when there is nothing to verify)."""
    now = now or timezone.now()
    address = verification_target(user)
    if not address:
        return ""
    token = email_verification_token(user=user, address=address)
    link = urljoin(base_url, reverse("accounts:verify_email", args=[token]))
    context = {"user": user, "link": link, "address": address, "days": VERIFY_MAX_AGE.days,
               "is_change": bool(user.pending_email)}
    with translation.override(user.language or settings.LANGUAGE_CODE):
        subject = render_to_string("accounts/email/verify_subject.txt", context).strip()
        body = render_to_string("accounts/email/verify_body.txt", context)
    User.objects.filter(pk=user.pk).update(email_verification_sent_at=now)
    user.email_verification_sent_at = now
    transaction.on_commit(
        lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address], fail_silently=False),
        robust=True,
    )
    return address


@transaction.atomic
def email_verification_resend(*, user: User, base_url: str, now: datetime | None = None) -> str:
    """Send the link again, at most once per RESEND_COOLDOWN_SECONDS (429 with retry_after)."""
    now = now or timezone.now()
    user = User.objects.select_for_update().get(pk=user.pk)
    if not verification_target(user):
        raise ApplicationError(_("Tu email ya está verificado."), code="already_verified", status=400)
    left = _cooldown_left(user, now)
    if left:
        raise ApplicationError(
            _("Acabamos de enviarte un enlace. Puedes pedir otro dentro de %(s)d segundos.") % {"s": left},
            code="too_many_requests", status=429, details={"retry_after": left},
        )
    return email_verification_send(user=user, base_url=base_url, now=now)


@transaction.atomic
def email_change_request(*, user: User, new_email: str, password: str, base_url: str,
                         now: datetime | None = None) -> User:
    """Ask to change the login e-mail: the new address gets a link and replaces the old one only when
    it is opened (email_verify). Needs the current password; the new address must be free."""
    now = now or timezone.now()
    new_email = User.objects.normalize_email(new_email.strip())
    if not password or not user.check_password(password):
        message = _("La contraseña actual no es correcta.")
        raise ApplicationError(message, code="invalid_old_password", details={"old_password": [message]})
    locked = User.objects.select_for_update().get(pk=user.pk)
    if new_email.lower() == locked.email.lower():
        if locked.pending_email:  # changing back to the current address cancels the pending change
            User.objects.filter(pk=user.pk).update(pending_email="")
        user.pending_email = ""
        return user
    if User.objects.filter(email__iexact=new_email).exclude(pk=user.pk).exists():
        raise _email_taken()
    if new_email.lower() == locked.pending_email.lower():
        left = _cooldown_left(locked, now)  # the same address again is a resend
        if left:
            raise ApplicationError(
                _("Acabamos de enviarte un enlace. Puedes pedir otro dentro de %(s)d segundos.") % {"s": left},
                code="too_many_requests", status=429, details={"retry_after": left},
            )
    User.objects.filter(pk=user.pk).update(pending_email=new_email)
    locked.pending_email = user.pending_email = new_email
    email_verification_send(user=locked, base_url=base_url, now=now)
    user.email_verification_sent_at = locked.email_verification_sent_at
    return user


@transaction.atomic
def email_verify(*, token: str, now: datetime | None = None) -> User:
    """Confirm the address a link was sent to: the account becomes verified, or the pending address
    replaces the login e-mail. A used, tampered or foreign link is 400 invalid_token, an old one 400
    token_expired; an address taken meanwhile by another account is 409 email_taken."""
    now = now or timezone.now()
    try:
        data = signing.TimestampSigner(salt=VERIFY_SALT).unsign_object(
            token, max_age=VERIFY_MAX_AGE)
    except signing.SignatureExpired as exc:
        message = _("El enlace de verificación ha caducado. Pide uno nuevo.")
        raise ApplicationError(message, code="token_expired", status=400, details={"token": [message]}) from exc
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise _invalid_link() from exc
    if not isinstance(data, dict) or not {"u", "e", "s"} <= data.keys():
        raise _invalid_link()
    user = User.objects.select_for_update().filter(pk=data["u"], is_active=True).first()  # signed: our uuid
    address = str(data["e"])
    if user is None or address != verification_target(user) or not constant_time_compare(
        str(data["s"]), _state_digest(user, address)
    ):
        raise _invalid_link()
    first_verification = user.email_verified_at is None
    fields = ["email_verified_at"]
    if user.pending_email and address == user.pending_email:
        if User.objects.filter(email__iexact=address).exclude(pk=user.pk).exists():
            raise _email_taken()
        user.email, user.pending_email = address, ""
        fields += ["email", "pending_email"]
    user.email_verified_at = now
    try:
        with transaction.atomic():
            user.save(update_fields=fields)
    except IntegrityError as exc:  # another account took the address in the meantime
        raise _email_taken() from exc
    events.publish("email_verified", user=user, first_verification=first_verification)
    return user
