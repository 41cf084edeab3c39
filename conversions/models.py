from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import AnonymousSession, User
from anclora.core.models import BaseModel
from storage.models import StoredFile
from storage.selectors import stored_file_is_available

from .catalog.quality import quality_choices
from .failures import failure_text


class Conversion(BaseModel):
    class Status(models.TextChoices):
        PENDING = "pending", _("en cola")
        PROCESSING = "processing", _("procesando")
        COMPLETED = "completed", _("completada")
        FAILED = "failed", _("fallida")
        CANCELLED = "cancelled", _("cancelada")

    # The catalogue's quality levels (conversions/catalog/quality.py).
    Quality = models.TextChoices("Quality", [(name.upper(), (name, _(label))) for name, label in quality_choices()])

    ACTIVE_STATUSES = (Status.PENDING, Status.PROCESSING)

    user = models.ForeignKey(User, verbose_name=_("usuario"), null=True, blank=True, on_delete=models.CASCADE,
                             related_name="conversions")
    session = models.ForeignKey(AnonymousSession, verbose_name=_("sesión"), null=True, blank=True,
                                on_delete=models.CASCADE,
                                related_name="conversions")
    batch_id = models.UUIDField(_("id del lote"), db_index=True)
    source = models.ForeignKey(StoredFile, verbose_name=_("archivo de origen"), on_delete=models.PROTECT,
                               related_name="conversions_as_source")
    output = models.ForeignKey(StoredFile, verbose_name=_("archivo resultante"), null=True, blank=True,
                               on_delete=models.SET_NULL,
                               related_name="conversions_as_output")
    original_format = models.CharField(_("formato original"), max_length=16)
    target_format = models.CharField(_("formato de destino"), max_length=16)
    conversion_type = models.CharField(_("tipo de conversión"), max_length=32)
    quality = models.CharField(_("calidad"), max_length=16, choices=Quality.choices, default=Quality.STANDARD)
    options = models.JSONField(_("opciones"), default=dict, blank=True)
    status = models.CharField(_("estado"), max_length=16, choices=Status.choices, default=Status.PENDING,
                              db_index=True)
    progress = models.PositiveSmallIntegerField(_("progreso"), default=0)
    engine = models.CharField(_("motor"), max_length=32, blank=True)
    error_message = models.CharField(_("mensaje de error"), max_length=500, blank=True)
    error_code = models.CharField(_("código de error"), max_length=64, blank=True)
    # The numbers in the failure message (conversions/failures.py renders it in the reader's language).
    error_params = models.JSONField(_("parámetros del error"), default=dict, blank=True)
    paid_by = models.CharField(_("pagado con"), max_length=16, blank=True,
                               help_text=_("allowance (cuota del plan), credit (crédito) o payment (pago)"))
    priority = models.BooleanField(_("prioridad"), default=False)
    webhook_url = models.URLField(_("URL del webhook"), blank=True)
    queued_at = models.DateTimeField(_("en cola desde"), auto_now_add=True)
    started_at = models.DateTimeField(_("empezada el"), null=True, blank=True)
    finished_at = models.DateTimeField(_("terminada el"), null=True, blank=True)
    lease_expires_at = models.DateTimeField(_("reserva caduca el"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("intentos"), default=0)

    class Meta:
        verbose_name = _("conversión")
        verbose_name_plural = _("conversiones")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(user__isnull=False) | Q(session__isnull=False),
                                   name="conversion_has_owner"),
            models.CheckConstraint(condition=Q(progress__gte=0, progress__lte=100),
                                   name="conversion_progress_0_100"),
            models.CheckConstraint(condition=~Q(status="completed") | Q(output__isnull=False),
                                   name="conversion_completed_has_output"),
        ]
        indexes = [models.Index(fields=["status", "lease_expires_at"])]

    def __str__(self):
        return f"{self.original_format}→{self.target_format} ({self.get_status_display()})"

    @property
    def error_text(self) -> str:
        """Why it failed, in the active language."""
        return failure_text(self.error_code, self.error_message, self.error_params)

    @property
    def output_available(self) -> bool:
        """A completed job whose file is still there (not deleted by its owner, not expired)."""
        return (self.status == self.Status.COMPLETED and self.output is not None
                and stored_file_is_available(self.output))

    @property
    def file_size_mb(self) -> float:
        return round(self.source.size / (1024 * 1024), 2)
