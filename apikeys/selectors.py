"""API keys: reads."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from anclora.core.errors import ApplicationError

from .models import ApiKey


def api_key_list_for_user(*, user: User) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(user=user).order_by("-created")


def api_key_get_for_user(*, user: User, key_id: str) -> ApiKey:
    """One of the user's keys by its id (the public prefix); anyone else's is 404."""
    from django.utils.translation import gettext as _

    api_key = ApiKey.objects.filter(user=user, prefix=key_id).first()
    if api_key is None:
        raise ApplicationError(_("Clave no encontrada."), code="not_found", status=404)
    return api_key
