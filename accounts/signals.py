"""Refresh tokens die with the password or the account's activity, whatever path saved the user.

The services revoke explicitly (user_update, user_deactivate, user_delete); these receivers cover
every other save of a User: the admin's change form and password form, ``changepassword``.
"""

from __future__ import annotations

from .models import User
from .services import user_refresh_tokens_revoke


def remember_credentials_change(sender, instance: User, raw=False, update_fields=None, **kwargs) -> None:
    instance._refresh_tokens_revoke = False
    if raw or instance._state.adding or instance.pk is None:
        return
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return
    before = User.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if before is None:
        return
    instance._refresh_tokens_revoke = (
        before["password"] != instance.password or (before["is_active"] and not instance.is_active)
    )


def revoke_after_credentials_change(sender, instance: User, created=False, raw=False, **kwargs) -> None:
    if created or raw or not getattr(instance, "_refresh_tokens_revoke", False):
        return

    instance._refresh_tokens_revoke = False
    user_refresh_tokens_revoke(instance)
