"""One row per (caller, Idempotency-Key): claimed before the work, then the stored response."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class IdempotencyRecord(models.Model):
    class Status(models.TextChoices):
        PROCESSING = "processing"
        COMPLETED = "completed"

    owner_key = models.CharField(max_length=64)  # sha256 of "user:<id>" or "session:<id>"
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)  # sha256 of method, path and the body's content
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROCESSING)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_json = models.JSONField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
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
