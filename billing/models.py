"""Billing rows: payments for single conversions, what each conversion consumed, Stripe state."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from accounts.models import AnonymousSession, SubscriptionPlan, User
from anclora.core.models import BaseModel


class ConversionTransaction(BaseModel):
    """One payment for exactly the files it was priced for: one TransactionItem per file.

    `conversion_details` keeps the first file's fields at the top (the seed's shape) and what
    paid for every file of the priced request (`files`: allowance, credit or this payment).
    `consumed_by` is set once every item is consumed (a single-file payment: its conversion).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("pendiente")
        COMPLETED = "completed", _("completada")
        FAILED = "failed", _("fallida")
        REFUNDED = "refunded", _("reembolsada")

    user = models.ForeignKey(User, verbose_name=_("usuario"), null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="transactions")
    session = models.ForeignKey(AnonymousSession, verbose_name=_("sesión"), null=True, blank=True,
                                on_delete=models.SET_NULL,
                                related_name="transactions")
    amount = models.DecimalField(_("importe"), max_digits=10, decimal_places=2)
    currency = models.CharField(_("moneda"), max_length=3, default="EUR")
    conversion_details = models.JSONField(_("detalles de la conversión"), default=dict)
    status = models.CharField(_("estado"), max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    provider = models.CharField(_("proveedor"), max_length=16, default="stripe")
    stripe_payment_intent_id = models.CharField(_("id de PaymentIntent en Stripe"), max_length=255, unique=True)
    # dj-stripe's copy of the PaymentIntent as last re-read from Stripe (none in the offline test mode).
    djstripe_payment_intent = models.ForeignKey("djstripe.PaymentIntent",
                                                verbose_name=_("PaymentIntent de Stripe (dj-stripe)"), null=True,
                                                blank=True,
                                                on_delete=models.SET_NULL, related_name="+")
    # Unique per owner (see Meta.constraints): one caller cannot take another's key.
    idempotency_key = models.CharField(_("clave de idempotencia"), max_length=255, null=True, blank=True)
    refunded_amount = models.DecimalField(_("importe reembolsado"), max_digits=10, decimal_places=2,
                                          default=Decimal("0.00"))
    stripe_refund_id = models.CharField(_("id de reembolso en Stripe"), max_length=255, blank=True)
    consumed_by = models.ForeignKey("conversions.Conversion", verbose_name=_("consumido por"), null=True, blank=True,
                                    on_delete=models.SET_NULL,
                                    related_name="+")
    completed_at = models.DateTimeField(_("completado el"), null=True, blank=True)
    refunded_at = models.DateTimeField(_("reembolsado el"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("transacción")
        verbose_name_plural = _("transacciones")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="transaction_amount_gte_0"),
            models.CheckConstraint(condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=F("amount")),
                                   name="transaction_refund_lte_amount"),
            models.UniqueConstraint(fields=["user", "idempotency_key"],
                                    condition=Q(user__isnull=False, idempotency_key__isnull=False),
                                    name="transaction_idempotency_per_user"),
            models.UniqueConstraint(fields=["session", "idempotency_key"],
                                    condition=Q(user__isnull=True, idempotency_key__isnull=False),
                                    name="transaction_idempotency_per_session"),
        ]

    def __str__(self):
        return f"{number_format(self.amount, 2)} {self.currency} · {self.get_status_display()}"

    @property
    def source_format(self) -> str:
        return self.conversion_details.get("source_format", "")

    @property
    def target_format(self) -> str:
        return self.conversion_details.get("target_format", "")


class TransactionItem(models.Model):
    """One priced file of a payment; consumed by exactly one conversion (given back if it fails)."""

    transaction = models.ForeignKey(ConversionTransaction, verbose_name=_("transacción"), on_delete=models.CASCADE,
                                    related_name="items")
    position = models.PositiveSmallIntegerField(_("posición"))
    name = models.CharField(_("nombre"), max_length=255, blank=True)
    source_format = models.CharField(_("formato de origen"), max_length=16)
    target_format = models.CharField(_("formato de destino"), max_length=16)
    quality = models.CharField(_("calidad"), max_length=16)
    file_size_mb = models.DecimalField(_("tamaño (MB)"), max_digits=10, decimal_places=2)
    size_category = models.CharField(_("categoría de tamaño"), max_length=16)
    amount = models.DecimalField(_("importe"), max_digits=10, decimal_places=2)
    consumed_by = models.OneToOneField("conversions.Conversion", verbose_name=_("consumido por"), null=True,
                                       blank=True, on_delete=models.SET_NULL,
                                       related_name="+")
    # Set with consumed_by and cleared only by a give-back (a deleted conversion does not free the item).
    consumed_at = models.DateTimeField(_("consumido el"), null=True, blank=True)

    class Meta:
        ordering = ["transaction", "position"]
        verbose_name = _("archivo pagado")
        verbose_name_plural = _("archivos pagados")
        constraints = [
            models.UniqueConstraint(fields=["transaction", "position"], name="transaction_item_position"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="transaction_item_amount_gte_0"),
        ]

    def __str__(self):
        return f"{self.source_format}→{self.target_format} {self.file_size_mb} MB · {self.amount}"


class AnonymousAllowanceUse(models.Model):
    """Free conversions charged to anonymous sessions from one client address in one calendar month (UTC).

    Every anonymous session has Gratuito's allowance, but all sessions of one address share at most
    ANONYMOUS_FREE_CONVERSIONS_PER_ADDRESS a month: a new session_id does not reopen the free plan.
    The address is kept only as an HMAC-SHA256 under SECRET_KEY (accounts.abuse.address_hash). The
    row is locked while an allowance is decided; `count` moves with F() (give-backs included).
    """

    address_hash = models.CharField(_("huella de la dirección"), max_length=64)
    month = models.DateField(_("mes"))
    count = models.PositiveIntegerField(_("cantidad"), default=0)
    updated_at = models.DateTimeField(_("actualizado el"), auto_now=True)

    class Meta:
        verbose_name = _("cuota anónima por dirección")
        verbose_name_plural = _("cuotas anónimas por dirección")
        constraints = [
            models.UniqueConstraint(fields=["address_hash", "month"], name="anonymous_allowance_use_unique"),
            models.CheckConstraint(condition=Q(count__gte=0), name="anonymous_allowance_use_count_gte_0"),
        ]

    def __str__(self):
        return f"{self.address_hash[:12]}… {self.month:%Y-%m}: {self.count}"


class ConversionCharge(models.Model):
    """What one conversion consumed; `refunded` once given back (failed or cancelled job)."""

    class Kind(models.TextChoices):
        ALLOWANCE = "allowance", _("cuota del plan")
        CREDIT = "credit", _("crédito")
        PAYMENT = "payment", _("pago")

    conversion = models.OneToOneField("conversions.Conversion", verbose_name=_("conversión"),
                                      on_delete=models.CASCADE, related_name="charge")
    kind = models.CharField(_("pagado con"), max_length=16, choices=Kind.choices)
    transaction = models.ForeignKey(ConversionTransaction, verbose_name=_("transacción"), null=True, blank=True,
                                    on_delete=models.SET_NULL,
                                    related_name="charges")
    item = models.ForeignKey(TransactionItem, verbose_name=_("línea"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    refunded = models.BooleanField(_("reembolsado"), default=False)
    created_at = models.DateTimeField(_("creado el"), auto_now_add=True, db_index=True)
    refunded_at = models.DateTimeField(_("reembolsado el"), null=True, blank=True)
    # An anonymous allowance charge also counts for the caller's address (given back with it).
    anonymous_use = models.ForeignKey(AnonymousAllowanceUse, verbose_name=_("uso anónimo"), null=True, blank=True,
                                      on_delete=models.SET_NULL,
                                      related_name="+")

    class Meta:
        verbose_name = _("cargo de conversión")
        verbose_name_plural = _("cargos de conversión")
        constraints = [
            models.CheckConstraint(condition=~Q(kind="payment") | Q(transaction__isnull=False),
                                   name="charge_payment_has_transaction"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.conversion_id}"


class StripeEvent(models.Model):
    """Every webhook event, stored once (its effect is applied in the same transaction)."""

    event_id = models.CharField(_("id del evento"), max_length=255, unique=True)
    type = models.CharField(_("tipo"), max_length=100, db_index=True)
    payload = models.JSONField(_("contenido"))
    received_at = models.DateTimeField(_("recibido el"), auto_now_add=True)
    processed_at = models.DateTimeField(_("procesado el"), null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("evento de Stripe")
        verbose_name_plural = _("eventos de Stripe")

    def __str__(self):
        return f"{self.type} {self.event_id}"


class BillingCustomer(models.Model):
    user = models.OneToOneField(User, verbose_name=_("usuario"), on_delete=models.CASCADE,
                                related_name="billing_customer")
    stripe_customer_id = models.CharField(_("id de cliente en Stripe"), max_length=255, unique=True)
    created_at = models.DateTimeField(_("creado el"), auto_now_add=True)

    class Meta:
        verbose_name = _("cliente de Stripe")
        verbose_name_plural = _("clientes de Stripe")

    def __str__(self):
        return self.stripe_customer_id


class StripeSubscription(models.Model):
    """A Stripe subscription to a paid plan; the plan applies once Stripe says it is paid."""

    class Status(models.TextChoices):
        INCOMPLETE = "incomplete", _("pendiente de pago")
        ACTIVE = "active", _("activa")
        CANCELED = "canceled", _("cancelada")

    user = models.ForeignKey(User, verbose_name=_("usuario"), on_delete=models.CASCADE,
                             related_name="stripe_subscriptions")
    plan = models.ForeignKey(SubscriptionPlan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="+")
    stripe_subscription_id = models.CharField(_("id de suscripción en Stripe"), max_length=255, unique=True)
    status = models.CharField(_("estado"), max_length=16, choices=Status.choices, default=Status.INCOMPLETE)
    cancel_at_period_end = models.BooleanField(_("cancela al final del periodo"), default=False)
    current_period_end = models.DateTimeField(_("fin del periodo"), null=True, blank=True)
    applied_at = models.DateTimeField(_("aplicada el"), null=True, blank=True)
    created_at = models.DateTimeField(_("creado el"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("suscripción de Stripe")
        verbose_name_plural = _("suscripciones de Stripe")

    def __str__(self):
        return f"{self.user} · {self.plan} ({self.get_status_display()})"
