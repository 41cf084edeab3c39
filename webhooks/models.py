"""Signed webhooks to API consumers: the caller's signing secret, its registered endpoints and the
log of every delivery (one row per event and destination, retried with backoff)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import AnonymousSession, User
from anclora.core.models import BaseModel

EVENT_TYPES = ("conversion.completed", "conversion.failed", "batch.completed")


class WebhookSecret(BaseModel):
    """The secret that signs every delivery of one owner (a user, or an anonymous session for its
    per-request webhook_url). Shown to the owner, rotatable."""

    user = models.OneToOneField(User, verbose_name=_("usuario"), null=True, blank=True, on_delete=models.CASCADE,
                                related_name="webhook_secret")
    session = models.OneToOneField(AnonymousSession, verbose_name=_("sesión"), null=True, blank=True,
                                   on_delete=models.CASCADE,
                                   related_name="webhook_secret")
    secret = models.CharField(_("secreto"), max_length=80)

    class Meta:
        verbose_name = _("secreto de webhooks")
        verbose_name_plural = _("secretos de webhooks")
        constraints = [
            models.CheckConstraint(condition=Q(user__isnull=False) | Q(session__isnull=False),
                                   name="webhook_secret_has_owner"),
        ]

    def __str__(self):
        return f"{self.secret[:10]}…"


class WebhookEndpoint(BaseModel):
    user = models.ForeignKey(User, verbose_name=_("usuario"), on_delete=models.CASCADE,
                             related_name="webhook_endpoints")
    url = models.URLField(_("URL"), max_length=2048)
    events = models.JSONField(_("eventos"), default=list, help_text=_("subconjunto de conversion.completed, "
                                                        "conversion.failed, batch.completed"))
    active = models.BooleanField(_("activo"), default=True)

    class Meta:
        verbose_name = _("endpoint de webhook")
        verbose_name_plural = _("endpoints de webhook")
        ordering = ["-created_at"]

    def __str__(self):
        return self.url


class WebhookDelivery(BaseModel):
    class Status(models.TextChoices):
        PENDING = "pending", _("pendiente")
        SUCCEEDED = "succeeded", _("entregado")
        FAILED = "failed", _("fallido")

    user = models.ForeignKey(User, verbose_name=_("usuario"), null=True, blank=True, on_delete=models.CASCADE,
                             related_name="webhook_deliveries")
    session = models.ForeignKey(AnonymousSession, verbose_name=_("sesión"), null=True, blank=True,
                                on_delete=models.CASCADE,
                                related_name="webhook_deliveries")
    # A registered endpoint, or none for a conversion's per-request webhook_url.
    endpoint = models.ForeignKey(WebhookEndpoint, verbose_name=_("destino"), null=True, blank=True,
                                 on_delete=models.CASCADE,
                                 related_name="deliveries")
    url = models.URLField(_("URL"), max_length=2048)
    event_type = models.CharField(_("tipo de evento"), max_length=32, choices=[(e, e) for e in EVENT_TYPES])
    event_id = models.UUIDField(_("id del evento"))
    payload = models.JSONField(_("contenido"))
    status = models.CharField(_("estado"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("intentos"), default=0)
    # Pending: when the next attempt is due (also the lease of an attempt in flight).
    next_attempt_at = models.DateTimeField(_("próximo intento"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("último intento"), null=True, blank=True)
    # An attempt in flight: until when its worker holds it (cleared once the attempt is recorded; a worker
    # that dies leaves it to expire). Counted per owner against WEBHOOK_DELIVERIES_IN_FLIGHT_MAX.
    leased_until = models.DateTimeField(_("en curso hasta"), null=True, blank=True)
    last_response_code = models.PositiveSmallIntegerField(_("último código de respuesta"), null=True, blank=True)
    last_error = models.CharField(_("último error"), max_length=300, blank=True)
    delivered_at = models.DateTimeField(_("entregado el"), null=True, blank=True)
    redelivery_of = models.ForeignKey("self", verbose_name=_("reenvío de"), null=True, blank=True,
                                      on_delete=models.SET_NULL,
                                      related_name="redeliveries")

    class Meta:
        verbose_name = _("entrega de webhook")
        verbose_name_plural = _("entregas de webhook")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(user__isnull=False) | Q(session__isnull=False),
                                   name="webhook_delivery_has_owner"),
            # One delivery per event and destination (a batch.completed seen by two finishing jobs);
            # a redelivery by hand is a new row.
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhook_delivery_once_per_endpoint",
                                    condition=Q(endpoint__isnull=False, redelivery_of__isnull=True)),
            models.UniqueConstraint(fields=["url", "event_id"], name="webhook_delivery_once_per_url",
                                    condition=Q(endpoint__isnull=True, redelivery_of__isnull=True)),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self):
        return f"{self.event_type} → {self.url} ({self.get_status_display()})"
