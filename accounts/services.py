"""Writes on accounts: users, subscriptions, anonymous sessions, tokens."""

from __future__ import annotations

import uuid

from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from anclora.core import events
from anclora.core.errors import ApplicationError

from .models import AnonymousSession, SubscriptionPlan, User, UserSubscription
from .periods import PERIOD, next_period
from .plans import FREE_PLAN_SLUG, PLAN_DEFINITIONS
from .throttling import login_locked_out, login_records_forget, login_retry_after, login_throttle_reset
from .tokens import VersionedRefreshToken, token_version_current
from .verification import email_change_request, email_verification_send


# --- plans ------------------------------------------------------------------------
def plans_ensure() -> int:
    """Create the seeded plans that are missing (existing ones are left as staff edited them)."""
    created = 0
    for definition in PLAN_DEFINITIONS:
        values = dict(definition)
        slug = values.pop("slug")
        _, was_created = SubscriptionPlan.objects.get_or_create(slug=slug, defaults=values)
        created += was_created
    return created


def subscription_start(*, user: User, plan: SubscriptionPlan, now=None) -> UserSubscription:
    now = now or timezone.now()
    with transaction.atomic():
        UserSubscription.objects.filter(user=user, status=UserSubscription.Status.ACTIVE).update(
            status=UserSubscription.Status.CANCELLED
        )
        return UserSubscription.objects.create(
            user=user, plan=plan, status=UserSubscription.Status.ACTIVE,
            current_period_start=now, current_period_end=now + PERIOD,
        )


def subscription_period_advance(*, subscription: UserSubscription, now=None) -> UserSubscription:
    """An ended period rolls forward in whole steps (the allowance counts from the new start)."""
    now = now or timezone.now()
    start, end = next_period(subscription.current_period_start, subscription.current_period_end, now)
    UserSubscription.objects.filter(pk=subscription.pk).update(current_period_start=start, current_period_end=end)
    subscription.current_period_start, subscription.current_period_end = start, end
    return subscription


# --- users ------------------------------------------------------------------------
def _validate_password(password: str, user: User | None = None) -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ApplicationError(
            exc.messages[0], code="weak_password", status=400,
            details={"password": exc.messages},
        ) from exc


@transaction.atomic
def user_create(
    *,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    language: str = "es",
    session_id: uuid.UUID | str | None = None,
    verification_base_url: str | None = None,
) -> User:
    """A new account, unverified: with ``verification_base_url`` (the site's root URL, from the request)
    the verification link is e-mailed after commit (accounts/verification.py)."""
    email = User.objects.normalize_email(email.strip())
    if User.objects.filter(email__iexact=email).exists():
        raise ApplicationError(
            _("Ya existe una cuenta con ese email."), code="email_taken", status=409,
            details={"email": [_("Ya existe una cuenta con ese email.")]},
        )
    candidate = User(email=email, first_name=first_name, last_name=last_name)
    _validate_password(password, candidate)
    candidate.set_password(password)
    candidate.language = language if language in ("es", "en") else "es"
    try:
        with transaction.atomic():
            candidate.save()
    except IntegrityError as exc:  # lost a race with the same email
        raise ApplicationError(
            _("Ya existe una cuenta con ese email."), code="email_taken", status=409
        ) from exc
    subscription_start(user=candidate, plan=SubscriptionPlan.objects.get(slug=FREE_PLAN_SLUG))
    if session_id:
        anonymous_session_adopt(session_id=session_id, user=candidate)
    if verification_base_url:
        email_verification_send(user=candidate, base_url=verification_base_url)
    return candidate


def user_login(*, email: str, password: str, request, session_id=None) -> User:
    """Check credentials through the failed-login throttle (accounts/throttling.py); adopt the session."""
    user = authenticate(request, email=email, password=password)
    if user is None:
        if login_locked_out(request):
            retry = login_retry_after(request, email)
            raise ApplicationError(
                _("Demasiados intentos fallidos. Inténtalo de nuevo en %(s)d segundos.") % {"s": retry},
                code="too_many_attempts", status=429, details={"retry_after": retry},
            )
        raise ApplicationError(
            _("Email o contraseña incorrectos."), code="invalid_credentials", status=401
        )
    login_throttle_reset(request=request, user=user)
    if session_id:
        anonymous_session_adopt(session_id=session_id, user=user)
    events.publish("user_logged_in", user=user)
    return user


@transaction.atomic
def user_update(
    *,
    user: User,
    first_name: str | None = None,
    last_name: str | None = None,
    language: str | None = None,
    time_zone: str | None = None,
    old_password: str | None = None,
    new_password: str | None = None,
    email: str | None = None,
    verification_base_url: str = "",
) -> User:
    """A new ``email`` (with the current password in ``old_password``) is not applied here: it waits
    in pending_email until the link sent to it is opened (accounts/verification.py)."""
    if email is not None:
        email_change_request(user=user, new_email=email, password=old_password or "",
                             base_url=verification_base_url)
    if first_name is not None:
        user.first_name = first_name
    if last_name is not None:
        user.last_name = last_name
    if language is not None:
        if language not in ("es", "en"):
            raise ApplicationError(_("Idioma no soportado."), code="invalid_language",
                                   details={"language": [_("Idioma no soportado.")]})
        user.language = language
    if time_zone is not None:
        import zoneinfo

        if time_zone not in zoneinfo.available_timezones():
            raise ApplicationError(_("Zona horaria desconocida."), code="invalid_time_zone",
                                   details={"time_zone": [_("Zona horaria desconocida.")]})
        user.time_zone = time_zone
    if new_password is not None:
        if not old_password or not user.check_password(old_password):
            raise ApplicationError(
                _("La contraseña actual no es correcta."), code="invalid_old_password",
                details={"old_password": [_("La contraseña actual no es correcta.")]},
            )
        _validate_password(new_password, user)
        user.set_password(new_password)
    user.save()
    if new_password is not None:
        user_refresh_tokens_revoke(user)
    return user


@transaction.atomic
def user_delete(*, user: User) -> None:
    """Delete any account: what it owns goes, its payments stay as anonymised accounting rows.

    ``user_deleting`` lets the other apps act first, inside this transaction: conversions are
    deleted (they protect their source files), files are marked deleted with their bytes removed
    from storage once this commits, payments lose every link to the person. Then the row goes and
    cascades to the rest (rewards, achievements, subscriptions, sessions' adoption links).
    """
    user_refresh_tokens_revoke(user)
    events.publish("user_deleting", user=user)
    OutstandingToken.objects.filter(user=user).delete()  # a refresh of a deleted user is refused anyway
    login_records_forget(email=user.email)
    user.delete()


def user_deactivate(*, user: User) -> User:
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=False)
        user_refresh_tokens_revoke(user)
        events.publish("user_deactivated", user=user)
    user.refresh_from_db(fields=["is_active"])
    return user


# --- tokens -----------------------------------------------------------------------
def user_refresh_tokens_revoke(user: User) -> int:
    """Blacklist every refresh token issued to the user (password change, deactivation, deletion).

    Returns how many were still usable. Access tokens stop working for an inactive or deleted
    user at once, and after a password change through the token version (accounts/tokens.py).
    """
    usable = list(OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
                  .values_list("pk", flat=True))
    BlacklistedToken.objects.bulk_create([BlacklistedToken(token_id=pk) for pk in usable],
                                         ignore_conflicts=True)
    return len(usable)


def tokens_for_user(user: User) -> dict:
    refresh = VersionedRefreshToken.for_user(user)  # stamped with the user's token_version
    return {"access_token": str(refresh.access_token), "refresh_token": str(refresh)}


def token_refresh(*, refresh: str) -> dict:
    """Rotate: a new pair, the old refresh blacklisted (a reused one is refused)."""
    from rest_framework_simplejwt.serializers import TokenRefreshSerializer

    serializer = TokenRefreshSerializer(data={"refresh": refresh})
    try:
        # A refresh issued before the last password change or reset is refused, blacklisted or not.
        if not token_version_current(RefreshToken(refresh)):
            raise TokenError("token version")
        serializer.is_valid(raise_exception=True)
    except (TokenError, Exception) as exc:
        raise ApplicationError(
            _("Token de refresco inválido o caducado."), code="token_not_valid", status=401
        ) from exc
    data = serializer.validated_data
    return {"access_token": data["access"], "refresh_token": data.get("refresh", refresh)}


def token_blacklist(*, refresh: str) -> None:
    try:
        RefreshToken(refresh).blacklist()
    except TokenError as exc:
        raise ApplicationError(
            _("Token de refresco inválido o caducado."), code="token_not_valid", status=401
        ) from exc


# --- anonymous sessions -----------------------------------------------------------
def parse_session_id(session_id) -> uuid.UUID:
    try:
        return session_id if isinstance(session_id, uuid.UUID) else uuid.UUID(str(session_id))
    except (ValueError, TypeError, AttributeError) as exc:
        raise ApplicationError(
            _("session_id no es un UUID válido."), code="invalid_session_id",
            details={"session_id": [_("session_id no es un UUID válido.")]},
        ) from exc


def anonymous_session_get_or_create(*, session_id=None) -> AnonymousSession:
    """The caller's anonymous session; a new one when none (or an unknown one) is given."""
    if not session_id:
        return AnonymousSession.objects.create()
    sid = parse_session_id(session_id)
    session, created = AnonymousSession.objects.get_or_create(session_id=sid)
    if not created:
        AnonymousSession.objects.filter(pk=sid).update(last_seen=timezone.now())
    return session


@transaction.atomic
def anonymous_session_adopt(*, session_id, user: User) -> bool:
    """Move everything of an anonymous session into the account. Returns False if unknown."""
    sid = parse_session_id(session_id)
    session = AnonymousSession.objects.select_for_update().filter(pk=sid).first()
    if session is None or (session.adopted_by_id and session.adopted_by_id != user.pk):
        return False
    events.publish("anonymous_session_adopted", session_id=sid, user=user)
    session.adopted_by = user
    session.adopted_at = timezone.now()
    session.save(update_fields=["adopted_by", "adopted_at"])
    return True
