"""`Authorization: Api-Key <key>`: request.user is the key's user, request.auth the key."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework_api_key.permissions import KeyParser

from . import scopes, services
from .models import ApiKey


class ApiKeyInvalid(exceptions.AuthenticationFailed):
    default_detail = _("Clave de API no válida, revocada o caducada.")
    default_code = "invalid_api_key"


class ApiKeyScopeMissing(exceptions.PermissionDenied):
    default_code = "api_key_scope_missing"


class ApiKeyNotAllowed(exceptions.PermissionDenied):
    default_detail = _("Las claves de API no dan acceso a esta operación; usa tu sesión o un token JWT.")
    default_code = "api_key_not_allowed"


class ApiKeyAuthentication(BaseAuthentication):
    keyword = KeyParser.keyword

    def authenticate(self, request):
        key = KeyParser().get_from_authorization(request)
        if key is None:
            return None
        key = key.strip()
        if not key or len(key) > 200:
            raise ApiKeyInvalid()
        try:
            api_key = ApiKey.objects.get_from_key(key)
        except ApiKey.DoesNotExist:
            raise ApiKeyInvalid() from None
        if api_key.has_expired or not api_key.user.is_active:
            raise ApiKeyInvalid()
        needed = scopes.required_scope(request)
        if needed is None:
            raise ApiKeyNotAllowed()
        if not api_key.has_scope(needed):
            raise ApiKeyScopeMissing(
                _("Esta clave de API no tiene el permiso «%(scope)s» que necesita esta operación.")
                % {"scope": needed})
        services.api_key_touch(api_key=api_key)
        return api_key.user, api_key

    def authenticate_header(self, request):
        return self.keyword
