"""Who pays for a conversion: plan allowance, else a credit (if asked), else a payment for it.

Plugged in with settings.CONVERSION_AUTHORIZER (see conversions/authorization.py). `authorize`
runs inside the transaction that creates the jobs and consumes there; `attach` records one
ConversionCharge per conversion; `charge_give_back` (on `conversion_failed`) returns it.
Redemption rules:
- allowance: the plan's monthly_conversions per period (Gratuito 5, Básico 50, Pro/Enterprise
  unlimited), counted from non-refunded allowance charges since the period start; anonymous
  sessions get Gratuito's per session and calendar month (UTC). A file above the plan's size
  limit is never covered by the allowance.
- credit: one `conversion_credits` per file, spent with a conditional update (never negative).
- payment: a completed, unconsumed ConversionTransaction of the same owner with the same
  source/target format and quality whose paid size tier is at least the file's; it covers
  exactly one file.
Credit- and payment-covered files go to the priority queue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AnonymousSession, User, UserSubscription
from accounts.selectors import plan_for_user
from anclora.core.errors import ApplicationError
from conversions.authorization import Authorization, Limits, PlannedConversion
from storage.owners import Owner

from . import pricing, selectors, services
from .models import ConversionCharge, ConversionTransaction

MB = 1024 * 1024


@dataclass
class EntitlementAuthorization(Authorization):
    decisions: list[tuple[str, ConversionTransaction | None]] = field(default_factory=list)
    plan_priority: bool = False

    def attach(self, conversions) -> None:
        from conversions.models import Conversion

        for conversion, (kind, tx) in zip(conversions, self.decisions, strict=True):
            priority = self.plan_priority or kind != ConversionCharge.Kind.ALLOWANCE
            ConversionCharge.objects.create(conversion=conversion, kind=kind, transaction=tx)
            if tx is not None:
                ConversionTransaction.objects.filter(pk=tx.pk).update(consumed_by=conversion)
            if conversion.paid_by != kind or conversion.priority != priority:
                Conversion.objects.filter(pk=conversion.pk).update(paid_by=kind, priority=priority)
                conversion.paid_by, conversion.priority = kind, priority


def _usable_transaction(owner: Owner, transaction_id, *, lock: bool = False) -> ConversionTransaction | None:
    if not transaction_id:
        return None
    queryset = ConversionTransaction.objects.filter(owner.filter(), pk=transaction_id,
                                                    status=ConversionTransaction.Status.COMPLETED,
                                                    consumed_by__isnull=True)
    if lock:
        queryset = queryset.select_for_update()
    try:
        return queryset.first()
    except (ValueError, TypeError):
        return None


def _matches(tx: ConversionTransaction, planned: PlannedConversion) -> bool:
    d = tx.conversion_details
    try:
        paid_rank = pricing.size_rank(pricing.size_category(Decimal(d["file_size_mb"]))[0])
    except (KeyError, ValueError, ArithmeticError):
        return False
    file_rank = pricing.size_rank(pricing.size_category(Decimal(planned.size_bytes) / MB)[0])
    return (d.get("source_format") == planned.source_format and d.get("target_format") == planned.target_format
            and d.get("quality") == planned.quality and file_rank <= paid_rank)


class EntitlementAuthorizer:
    def limits(self, *, owner: Owner, use_credit: bool = False, transaction_id=None) -> Limits:
        plan = plan_for_user(owner.user)
        extended = (use_credit and owner.user is not None and owner.user.conversion_credits > 0) or \
            _usable_transaction(owner, transaction_id) is not None
        if extended:
            return Limits(max_size_mb=settings.MAX_UPLOAD_MB, priority=True)
        return Limits(max_size_mb=min(plan.max_file_size_mb, settings.MAX_UPLOAD_MB), priority=plan.priority_queue)

    def _lock_period(self, owner: Owner):
        """Lock the owner's row (serialises allowance use) and return the period start."""
        now = timezone.now()
        if owner.user is not None:
            sub = (UserSubscription.objects.select_for_update().select_related("user", "plan")
                   .filter(user=owner.user, status=UserSubscription.Status.ACTIVE).first())
            if sub is not None:
                sub = services.subscription_period_roll(subscription=sub, now=now)
                return sub.current_period_start
            User.objects.select_for_update().filter(pk=owner.user.pk).first()
            return selectors.month_start(now)
        AnonymousSession.objects.select_for_update().filter(pk=owner.session.pk).first()
        return selectors.month_start(now)

    def authorize(self, *, owner: Owner, planned: list[PlannedConversion], use_credit: bool = False,
                  transaction_id=None) -> Authorization:
        period_start = self._lock_period(owner)
        plan = plan_for_user(owner.user)
        used = selectors.allowance_used(owner=owner, since=period_start)
        remaining = None if plan.monthly_conversions is None else max(0, plan.monthly_conversions - used)
        credits = 0
        if use_credit and owner.user is not None:
            credits = User.objects.values_list("conversion_credits", flat=True).get(pk=owner.user.pk)
        tx = _usable_transaction(owner, transaction_id, lock=True)
        decisions: list[tuple[str, ConversionTransaction | None]] = []
        credits_needed = 0
        for item in planned:
            fits_plan = item.size_bytes <= plan.max_file_size_mb * MB
            if fits_plan and (remaining is None or remaining > 0):
                decisions.append((ConversionCharge.Kind.ALLOWANCE, None))
                if remaining is not None:
                    remaining -= 1
            elif use_credit and credits_needed < credits:
                decisions.append((ConversionCharge.Kind.CREDIT, None))
                credits_needed += 1
            elif tx is not None and _matches(tx, item):
                decisions.append((ConversionCharge.Kind.PAYMENT, tx))
                tx = None
            else:
                raise self._payment_required(owner=owner, item=item, plan=plan, used=used, credits=credits,
                                             transaction_id=transaction_id)
        if credits_needed:
            spent = User.objects.filter(pk=owner.user.pk, conversion_credits__gte=credits_needed).update(
                conversion_credits=F("conversion_credits") - credits_needed)
            if not spent:
                raise self._payment_required(owner=owner, item=planned[0], plan=plan, used=used, credits=0,
                                             transaction_id=transaction_id)
            owner.user.conversion_credits = max(0, owner.user.conversion_credits - credits_needed)
        priority = plan.priority_queue or any(kind != ConversionCharge.Kind.ALLOWANCE for kind, _tx in decisions)
        return EntitlementAuthorization(paid_by=decisions[0][0], priority=priority,
                                        details={"decisions": [kind for kind, _tx in decisions]},
                                        decisions=decisions, plan_priority=plan.priority_queue)

    def _payment_required(self, *, owner, item: PlannedConversion, plan, used: int, credits: int,
                          transaction_id) -> ApplicationError:
        size_mb = services.size_mb_for_bytes(item.size_bytes)
        breakdown = pricing.price(source_format=item.source_format, target_format=item.target_format,
                                  file_size_mb=size_mb, quality=item.quality, server_load=selectors.server_load())
        conversion_request = {"source_format": item.source_format, "target_format": item.target_format,
                              "file_size_mb": float(size_mb), "quality": item.quality}
        details = {
            **services.estimate_response(breakdown),
            "how_to_pay": {
                "create_payment_intent": "/api/payments/create-payment-intent",
                "conversion_request": conversion_request,
                "then": _("Repite la conversión con transaction_id cuando el pago esté completado."),
                "use_credit": credits > 0,
                "conversion_credits": credits if owner.user is not None else 0,
                "plans": "/api/payments/plans",
            },
            "allowance": {"plan": plan.slug, "limit": plan.monthly_conversions, "used": used},
        }
        if transaction_id:
            details["transaction_id"] = [_("La transacción no está pagada, ya se usó o no corresponde a "
                                           "esta conversión.")]
        from anclora.core.templatetags.ui import money, plan_name

        message = _("Has agotado las conversiones de tu plan (%(plan)s). Esta conversión cuesta %(price)s.") % {
            "plan": plan_name(plan.name), "price": money(breakdown.total_price)}
        return ApplicationError(message, code="payment_required", status=402, details=details)
