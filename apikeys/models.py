"""API keys: hashed by djangorestframework-api-key, owned by a user, scoped."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey


class Scope(models.TextChoices):
    CONVERT = "convert", _("Convertir (crear y cancelar conversiones, borrar archivos)")
    READ = "read", _("Leer (historial, detalle, descargas, archivos, recompensas)")
    BILLING = "billing", _("Pagos (pagar, créditos, suscripción)")


class ApiKey(AbstractAPIKey):
    """``id`` is prefix.hash, ``prefix`` the public part shown to the user, ``hashed_key`` the hash;
    the full key is shown once, at creation."""

    is_api_key = True  # anclora.core.permissions.IsVerifiedStaff refuses staff actions to keys

    # The library's fields, redeclared unchanged in the database but with Spanish labels and help
    # (translated in locale/en): the library ships English only, which the Spanish admin showed as is.
    id = models.CharField(_("ID"), max_length=150, unique=True, primary_key=True, editable=False)
    prefix = models.CharField(_("prefijo"), max_length=8, unique=True, editable=False)
    hashed_key = models.CharField(_("clave cifrada"), max_length=150, editable=False)
    created = models.DateTimeField(_("creada el"), auto_now_add=True, db_index=True)
    name = models.CharField(_("nombre"), max_length=50, blank=False, default=None,
                            help_text=_("Un nombre libre para la clave (no tiene que ser único)."))
    revoked = models.BooleanField(_("revocada"), blank=True, default=False,
                                  help_text=_("Una clave revocada deja de funcionar (no se puede deshacer)."))
    expiry_date = models.DateTimeField(_("caduca el"), blank=True, null=True,
                                       help_text=_("Cuando la clave caduca deja de funcionar."))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("usuario"), on_delete=models.CASCADE,
                             related_name="api_keys")
    scopes = models.JSONField(_("permisos"), default=list)
    last_used_at = models.DateTimeField(_("último uso"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revocada el"), null=True, blank=True)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("clave de API")
        verbose_name_plural = _("claves de API")
        indexes = [models.Index(fields=["user", "revoked"], name="apikey_user_revoked")]
        constraints = [
            models.CheckConstraint(condition=models.Q(revoked=False) | models.Q(revoked_at__isnull=False),
                                   name="apikey_revoked_has_time"),
        ]

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])
