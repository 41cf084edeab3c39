"""The API's JWT authentication: simplejwt's, plus the token-version check (accounts/tokens.py)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication

from .tokens import token_version_current


class VersionedJWTAuthentication(JWTAuthentication):
    """A token issued before the user's last password change or reset is refused (401)."""

    def get_user(self, validated_token):
        user = super().get_user(validated_token)
        if not token_version_current(validated_token, user):
            raise AuthenticationFailed(
                _("Esta sesión ya no es válida: la contraseña ha cambiado. Inicia sesión de nuevo."),
                code="token_revoked")
        return user
