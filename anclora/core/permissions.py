"""API permissions shared by the apps."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission


class IsVerifiedStaff(BasePermission):
    """Staff actions (refunds, back-office figures) need the staff member's session that passed the
    second factor, as the admin does. A JWT proves only the password, so it is not enough."""

    message = _("Las acciones de personal necesitan una sesión con segundo factor (inicia sesión en /admin/).")

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_staff):
            return False
        if getattr(request.auth, "is_api_key", False):
            return False  # an API key never acts as staff, whoever owns it
        if not settings.ADMIN_REQUIRE_2FA:
            return True
        session_user = getattr(request._request, "user", None)  # wrapped by django_otp's OTPMiddleware
        is_verified = getattr(session_user, "is_verified", None)
        return bool(is_verified and is_verified() and session_user.pk == user.pk)
