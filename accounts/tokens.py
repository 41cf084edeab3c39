"""JWTs that die with the password: every token carries the user's ``token_version``.

``User.token_version`` moves (``accounts.signals``) only when the password hash changes: a change
through the API or the account page, a reset link, the admin's password form, ``changepassword``.
A token whose claim differs from the stored version is refused, access and refresh alike
(``accounts.authentication.VersionedJWTAuthentication`` on every request, ``token_refresh`` on
refresh). Tokens issued before this claim existed count as version 0.
"""

from __future__ import annotations

from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken

from .models import User

CLAIM = "token_version"


class VersionedRefreshToken(RefreshToken):
    """A refresh token (and the access tokens made from it) stamped with the user's token version."""

    @classmethod
    def for_user(cls, user: User) -> VersionedRefreshToken:
        token = super().for_user(user)
        token[CLAIM] = int(user.token_version)
        return token


def token_version_current(token, user: User | None = None) -> bool:
    """True when the token's version is the user's stored one (False for an unknown user)."""
    if user is None:
        user_id = token.get(api_settings.USER_ID_CLAIM)
        version = User.objects.filter(pk=user_id).values_list("token_version", flat=True).first() \
            if user_id else None
    else:
        version = user.token_version
    if version is None:
        return False
    claim = token.get(CLAIM, 0)
    return isinstance(claim, int) and not isinstance(claim, bool) and claim == version
