"""API keys: create (the full key returned once), revoke, touch on use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from anclora.core.errors import ApplicationError

from .models import ApiKey, Scope

MAX_KEYS_PER_USER = 50
LAST_USED_RESOLUTION = timedelta(seconds=60)  # last_used_at is written at most once a minute per key


@dataclass(frozen=True)
class CreatedKey:
    api_key: ApiKey
    key: str  # the full secret: shown once, never stored


def _clean_scopes(scopes: list[str]) -> list[str]:
    valid = set(Scope.values)
    unknown = sorted({s for s in scopes if s not in valid})
    if unknown:
        raise ApplicationError(_("Permiso desconocido: %(scopes)s.") % {"scopes": ", ".join(unknown)},
                               code="invalid_scope", details={"scopes": unknown})
    cleaned = [s for s in Scope.values if s in set(scopes)]
    if not cleaned:
        raise ApplicationError(_("Elige al menos un permiso."), code="invalid_scope")
    return cleaned


@transaction.atomic
def api_key_create(*, user: User, name: str, scopes: list[str], expiry_date: datetime | None = None) -> CreatedKey:
    name = (name or "").strip()
    if not name:
        raise ApplicationError(_("Pon un nombre a la clave."), code="invalid_name")
    if expiry_date is not None and expiry_date <= timezone.now():
        raise ApplicationError(_("La fecha de caducidad debe estar en el futuro."), code="invalid_expiry")
    cleaned = _clean_scopes(scopes)
    User.objects.select_for_update().filter(pk=user.pk).first()  # one count per user at a time
    if ApiKey.objects.filter(user=user, revoked=False).count() >= MAX_KEYS_PER_USER:
        raise ApplicationError(_("Has llegado al máximo de %(n)s claves activas; revoca alguna.")
                               % {"n": MAX_KEYS_PER_USER}, code="too_many_keys", status=409)
    api_key, key = ApiKey.objects.create_key(user=user, name=name[:50], scopes=cleaned, expiry_date=expiry_date)
    return CreatedKey(api_key=api_key, key=key)


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """Revoke one key (idempotent: a revoked key stays revoked with its first time)."""
    now = timezone.now()
    ApiKey.objects.filter(pk=api_key.pk, revoked=False).update(revoked=True, revoked_at=now)
    api_key.refresh_from_db(fields=["revoked", "revoked_at"])
    return api_key


def api_keys_revoke_for_user(*, user: User) -> int:
    """Every usable key of the user stops working (deletion, deactivation)."""
    return ApiKey.objects.filter(user_id=user.pk, revoked=False).update(revoked=True, revoked_at=timezone.now())


def api_keys_revoke_if_inactive(sender, instance: User, created=False, raw=False, **kwargs) -> None:
    """post_save receiver: a deactivated user (admin form, service, shell) loses its keys."""
    if raw or instance.is_active:
        return
    api_keys_revoke_for_user(user=instance)


def api_key_touch(*, api_key: ApiKey) -> None:
    now = timezone.now()
    if api_key.last_used_at and now - api_key.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    api_key.last_used_at = now
