"""One row per (caller, Idempotency-Key): claimed before the work, then the stored response."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class IdempotencyRecord(models.Model):
    class Status(models.TextChoices):
        PROCESSING = "processing", _("en curso")
        COMPLETED = "completed", _("completada")

    # sha256 of "user:<id>" or "session:<id>"
    owner_key = models.CharField(_("huella del propietario"), max_length=64)
    key = models.CharField(_("clave"), max_length=255)
    # sha256 of method, path and the body's content
    request_hash = models.CharField(_("huella de la petición"), max_length=64)
    status = models.CharField(_("estado"), max_length=16, choices=Status.choices, default=Status.PROCESSING)
    response_status = models.PositiveSmallIntegerField(_("código de respuesta"), null=True, blank=True)
    response_json = models.JSONField(_("respuesta (JSON)"), null=True, blank=True)
    created = models.DateTimeField(_("creado el"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("registro de idempotencia")
        verbose_name_plural = _("registros de idempotencia")
        constraints = [
            models.UniqueConstraint(fields=["owner_key", "key"], name="idempotency_owner_key_unique"),
            models.CheckConstraint(condition=models.Q(status__in=["processing", "completed"]),
                                   name="idempotency_status_valid"),
            models.CheckConstraint(
                condition=models.Q(status="processing") | models.Q(response_status__isnull=False),
                name="idempotency_completed_has_response"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"
