"""Credentials die with the password or the account's activity, whatever path saved the user.

The services revoke explicitly (user_update, user_deactivate, user_delete); these receivers cover
every save of a User: the API and the account page, the reset link, the admin's change form and
password form, ``changepassword``. A new password hash also raises ``token_version`` by one
(accounts/tokens.py), so access tokens issued before it stop working at once; nothing else moves
it (raw ``update()`` calls of other apps never touch that column).
"""

from __future__ import annotations

from django.db.models import F

from .models import User
from .services import user_refresh_tokens_revoke


def remember_credentials_change(sender, instance: User, raw=False, update_fields=None, **kwargs) -> None:
    instance._refresh_tokens_revoke = False
    instance._password_changed = False
    if raw or instance._state.adding or instance.pk is None:
        return
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return
    before = User.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if before is None:
        return
    # Django's check_password() upgrades an outdated hash with save(update_fields=["password"]) and
    # clears _password: the same password, so no session ends (set_password() leaves _password set).
    rehash = update_fields is not None and set(update_fields) == {"password"} and instance._password is None
    instance._password_changed = before["password"] != instance.password and not rehash
    instance._refresh_tokens_revoke = (
        instance._password_changed or (before["is_active"] and not instance.is_active)
    )


def revoke_after_credentials_change(sender, instance: User, created=False, raw=False, **kwargs) -> None:
    if created or raw or not getattr(instance, "_refresh_tokens_revoke", False):
        return

    instance._refresh_tokens_revoke = False
    if getattr(instance, "_password_changed", False):
        instance._password_changed = False
        User.objects.filter(pk=instance.pk).update(token_version=F("token_version") + 1)
        instance.token_version = User.objects.filter(pk=instance.pk).values_list("token_version", flat=True).get()
    user_refresh_tokens_revoke(instance)
