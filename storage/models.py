from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import AnonymousSession, User
from anclora.core.models import BaseModel

# Retention can be extended with credits: +24 h each, at most 30 extra days per file.
HOURS_PER_CREDIT = 24
MAX_EXTENSION_HOURS = 30 * 24


class StoredFile(BaseModel):
    """Bytes kept in Django's storage (local or S3) and what we know about them."""

    class Kind(models.TextChoices):
        ORIGINAL = "original", _("original")
        CONVERTED = "converted", _("convertido")

    user = models.ForeignKey(User, verbose_name=_("usuario"), null=True, blank=True, on_delete=models.CASCADE,
                             related_name="stored_files")
    session = models.ForeignKey(AnonymousSession, verbose_name=_("sesión"), null=True, blank=True,
                                on_delete=models.CASCADE,
                                related_name="stored_files")
    kind = models.CharField(_("tipo"), max_length=16, choices=Kind.choices)
    storage_name = models.CharField(_("nombre en el almacenamiento"), max_length=512, unique=True)
    original_filename = models.CharField(_("nombre original"), max_length=255)
    file_format = models.CharField(_("formato"), max_length=16)
    size = models.BigIntegerField(_("tamaño"))
    content_type = models.CharField(_("tipo de contenido"), max_length=127)
    checksum = models.CharField(_("suma de comprobación"), max_length=64, help_text="SHA-256")
    expires_at = models.DateTimeField(_("caduca el"), db_index=True)
    extended_hours = models.PositiveIntegerField(_("horas ampliadas"), default=0)
    expiry_notice_sent_at = models.DateTimeField(_("aviso de caducidad enviado el"), null=True, blank=True)
    is_deleted = models.BooleanField(_("eliminado"), default=False, db_index=True)
    deleted_at = models.DateTimeField(_("eliminado el"), null=True, blank=True)

    class Meta:
        verbose_name = _("archivo")
        verbose_name_plural = _("archivos")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(user__isnull=False) | Q(session__isnull=False),
                                   name="stored_file_has_owner"),
            models.CheckConstraint(condition=Q(size__gte=0), name="stored_file_size_gte_0"),
            models.CheckConstraint(condition=Q(is_deleted=False) | Q(deleted_at__isnull=False),
                                   name="stored_file_deleted_has_time"),
            models.CheckConstraint(condition=Q(extended_hours__lte=MAX_EXTENSION_HOURS),
                                   name="stored_file_extension_cap"),
        ]
        indexes = [models.Index(fields=["is_deleted", "expires_at"])]

    def __str__(self):
        return f"{self.original_filename} ({self.get_kind_display()})"
