"""Who pays for a conversion: plan allowance, else a credit (if asked), else a payment for it.

Plugged in with settings.CONVERSION_AUTHORIZER (see conversions/authorization.py). `authorize`
runs inside the transaction that creates the jobs and consumes there; `attach` records one
ConversionCharge per conversion; `charge_give_back` (on `conversion_failed`) returns it.
Redemption rules, file by file in the order sent:
- allowance: the plan's monthly_conversions per period (Gratuito 5, Básico 50, Pro/Enterprise
  unlimited), counted from non-refunded allowance charges since the period start; anonymous
  sessions get Gratuito's per session and calendar month (UTC), and all anonymous sessions of
  one client address share at most ANONYMOUS_FREE_CONVERSIONS_PER_ADDRESS a calendar month
  (AnonymousAllowanceUse, locked after the session row; a give-back returns the slot). A file
  above the plan's size limit is never covered by the allowance.
- credit: one `conversion_credits` per file, spent with a conditional update (never negative).
- payment: one unconsumed TransactionItem of a completed ConversionTransaction of the same owner
  (the one named by `transaction_id`, else any of the owner's) with the same source/target
  format and quality whose paid size tier is at least the file's. A payment is priced for a
  whole request (one item per file that nothing else covers), so one payment releases every
  file it was priced for, and no more.
A request that is not fully covered is refused as a whole (402) with what pays each file and
the amount due for the rest (`payment_quote` answers the same question without consuming).
Credit- and payment-covered files go to the priority queue.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.abuse import address_hash
from accounts.credits import CreditReason, credits_spend
from accounts.models import AnonymousSession, User, UserSubscription
from accounts.owners import Owner
from accounts.selectors import plan_for_user
from anclora.core.errors import ApplicationError
from anclora.core.templatetags.ui import money, plan_name
from conversions.authorization import Authorization, Limits, PlannedConversion
from conversions.models import Conversion

from . import pricing, selectors, services
from .models import AnonymousAllowanceUse, ConversionCharge, ConversionTransaction, TransactionItem

MB = 1024 * 1024
DUE = "due"  # a file nothing covers yet: it must be paid


@dataclass
class Decision:
    kind: str  # allowance, credit, payment (an item already paid) or DUE
    item: TransactionItem | None = None


@dataclass
class EntitlementAuthorization(Authorization):
    decisions: list[Decision] = field(default_factory=list)
    plan_priority: bool = False
    anonymous_use_id: int | None = None  # the address's monthly counter the allowance charges also count in

    def attach(self, conversions) -> None:
        now = timezone.now()
        for conversion, decision in zip(conversions, self.decisions, strict=True):
            kind, item = decision.kind, decision.item
            priority = self.plan_priority or kind != ConversionCharge.Kind.ALLOWANCE
            ConversionCharge.objects.create(
                conversion=conversion, kind=kind, item=item, transaction_id=item.transaction_id if item else None,
                anonymous_use_id=self.anonymous_use_id if kind == ConversionCharge.Kind.ALLOWANCE else None)
            if item is not None:
                TransactionItem.objects.filter(pk=item.pk).update(consumed_by=conversion, consumed_at=now)
                # The payment counts as used once every file it paid for is converting.
                ConversionTransaction.objects.filter(pk=item.transaction_id).exclude(
                    items__consumed_at__isnull=True).update(consumed_by=conversion)
            if conversion.paid_by != kind or conversion.priority != priority:
                Conversion.objects.filter(pk=conversion.pk).update(paid_by=kind, priority=priority)
                conversion.paid_by, conversion.priority = kind, priority


def _usable_transaction(owner: Owner, transaction_id, *, lock: bool = False) -> ConversionTransaction | None:
    """The owner's completed transaction with at least one file left to convert."""
    if not transaction_id:
        return None
    queryset = ConversionTransaction.objects.filter(owner.filter(), pk=transaction_id,
                                                    status=ConversionTransaction.Status.COMPLETED)
    if lock:
        queryset = queryset.select_for_update()
    try:
        tx = queryset.first()
    except (ValueError, TypeError):
        return None
    if tx is None or not tx.items.filter(consumed_at__isnull=True).exists():
        return None
    return tx


def _paid_items(owner: Owner, transaction_id, *, lock: bool = False) -> list[TransactionItem]:
    """Unconsumed paid files: of the named transaction, else of every completed one of the owner."""
    queryset = TransactionItem.objects.select_related("transaction").filter(
        consumed_at__isnull=True, transaction__status=ConversionTransaction.Status.COMPLETED)
    if transaction_id:
        tx = _usable_transaction(owner, transaction_id, lock=lock)
        if tx is None:
            return []
        queryset = queryset.filter(transaction=tx)
    else:
        queryset = queryset.filter(transaction__in=ConversionTransaction.objects.filter(owner.filter()))
    queryset = queryset.order_by("transaction__created_at", "position")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    return list(queryset)


def _rank_of_size(size_mb: Decimal) -> int:
    return pricing.size_rank(pricing.size_category(Decimal(size_mb))[0])


def _matches(paid, planned: PlannedConversion) -> bool:
    """A paid file (TransactionItem, or a transaction's details) covers this planned conversion."""
    if isinstance(paid, TransactionItem):
        formats, quality, size = (paid.source_format, paid.target_format), paid.quality, paid.file_size_mb
    else:
        d = paid.conversion_details
        formats, quality, size = (d.get("source_format"), d.get("target_format")), d.get("quality"), \
            d.get("file_size_mb")
    try:
        paid_rank = _rank_of_size(Decimal(str(size)))
    except (ValueError, ArithmeticError):
        return False
    file_rank = _rank_of_size(Decimal(planned.size_bytes) / MB)
    return formats == (planned.source_format, planned.target_format) and quality == planned.quality \
        and file_rank <= paid_rank


def _decide(planned: list[PlannedConversion], *, plan, remaining: int | None, credits: int,
            items: list[TransactionItem]) -> list[Decision]:
    """What pays each file: allowance, then a credit, then a paid item (best fit), else DUE."""
    decisions: list[Decision] = []
    for item in planned:
        fits_plan = item.size_bytes <= plan.max_file_size_mb * MB
        if fits_plan and (remaining is None or remaining > 0):
            decisions.append(Decision(ConversionCharge.Kind.ALLOWANCE))
            if remaining is not None:
                remaining -= 1
        elif credits > 0:
            decisions.append(Decision(ConversionCharge.Kind.CREDIT))
            credits -= 1
        else:
            decisions.append(Decision(DUE))
    # Paid items to the uncovered files, the largest file first, each taking the smallest tier that fits.
    free = list(items)
    due = sorted((i for i, d in enumerate(decisions) if d.kind == DUE),
                 key=lambda i: -planned[i].size_bytes)
    for index in due:
        fitting = [paid for paid in free if _matches(paid, planned[index])]
        if fitting:
            best = min(fitting, key=lambda paid: _rank_of_size(paid.file_size_mb))
            free.remove(best)
            decisions[index] = Decision(ConversionCharge.Kind.PAYMENT, best)
    return decisions


def _address_use_locked(owner: Owner, period_start) -> AnonymousAllowanceUse | None:
    """The anonymous caller's address counter for this month, locked (after the session row)."""
    if owner.user is not None or owner.address is None:
        return None
    key = {"address_hash": address_hash(owner.address, "anon-allowance"), "month": period_start.date()}
    AnonymousAllowanceUse.objects.get_or_create(**key)
    return AnonymousAllowanceUse.objects.select_for_update().get(**key)


class EntitlementAuthorizer:
    def limits(self, *, owner: Owner, use_credit: bool = False, transaction_id=None) -> Limits:
        plan = plan_for_user(owner.user)
        extended = (use_credit and owner.user is not None and owner.user.conversion_credits > 0) or \
            _usable_transaction(owner, transaction_id) is not None
        if extended:
            return Limits(max_size_mb=settings.MAX_UPLOAD_MB, priority=True)
        return Limits(max_size_mb=min(plan.max_file_size_mb, settings.MAX_UPLOAD_MB), priority=plan.priority_queue)

    def checkout_url(self, *, owner: Owner, refusal: ApplicationError) -> str | None:
        """Without JavaScript a refused (402) request goes to the checkout page: one pending payment for
        every file that nothing else covers (the page lists what pays each file)."""
        details = refusal.details if refusal.status == 402 and isinstance(refusal.details, dict) else {}
        how_to_pay = details.get("how_to_pay")
        if not how_to_pay:
            return None
        created = services.transaction_create(
            owner=owner, conversion_requests=how_to_pay.get("conversion_requests") or None,
            conversion_request=how_to_pay.get("conversion_request"), files=details.get("files"))
        return reverse("billing:checkout", kwargs={"transaction_id": created["transaction"].pk})

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
        address_use = _address_use_locked(owner, period_start)
        address_exhausted = False
        if address_use is not None:
            address_left = max(0, settings.ANONYMOUS_FREE_CONVERSIONS_PER_ADDRESS - address_use.count)
            address_exhausted = remaining is None or address_left < remaining  # the address is what binds
            remaining = address_left if remaining is None else min(remaining, address_left)
        credits = 0
        if use_credit and owner.user is not None:
            credits = User.objects.values_list("conversion_credits", flat=True).get(pk=owner.user.pk)
        items = _paid_items(owner, transaction_id, lock=True)
        decisions = _decide(planned, plan=plan, remaining=remaining, credits=credits, items=items)
        if any(d.kind == DUE for d in decisions):
            raise _payment_required(owner=owner, planned=planned, decisions=decisions, plan=plan, used=used,
                                    remaining=remaining, credits=credits, transaction_id=transaction_id,
                                    address_exhausted=address_exhausted)
        credits_needed = sum(1 for d in decisions if d.kind == ConversionCharge.Kind.CREDIT)
        if credits_needed:
            try:
                credits_spend(user=owner.user, credits=credits_needed, reason=CreditReason.CONVERSION,
                              idempotency_key=uuid.uuid4().hex, subject=("files", len(planned)))
            except ApplicationError as short:
                decisions = _decide(planned, plan=plan, remaining=remaining, credits=0, items=items)
                raise _payment_required(owner=owner, planned=planned, decisions=decisions, plan=plan, used=used,
                                        remaining=remaining, credits=0, transaction_id=transaction_id) from short
        priority = plan.priority_queue or any(d.kind != ConversionCharge.Kind.ALLOWANCE for d in decisions)
        allowance_taken = sum(1 for d in decisions if d.kind == ConversionCharge.Kind.ALLOWANCE)
        if address_use is not None and allowance_taken:
            AnonymousAllowanceUse.objects.filter(pk=address_use.pk).update(count=F("count") + allowance_taken)
        return EntitlementAuthorization(paid_by=decisions[0].kind, priority=priority,
                                        details={"decisions": [d.kind for d in decisions]},
                                        decisions=decisions, plan_priority=plan.priority_queue,
                                        anonymous_use_id=address_use.pk if address_use is not None else None)


def _quote(*, owner: Owner | None, planned: list[PlannedConversion], decisions: list[Decision], plan, used: int,
           credits: int) -> dict:
    """What pays each file and what is due for the rest (the 402 details and the quote endpoint)."""
    load = selectors.server_load()
    files, requests, first_due = [], [], None
    total_due = Decimal("0.00")
    for item, decision in zip(planned, decisions, strict=True):
        size_mb = services.size_mb_for_bytes(item.size_bytes)
        breakdown = pricing.price(source_format=item.source_format, target_format=item.target_format,
                                  file_size_mb=size_mb, quality=item.quality, server_load=load)
        due = decision.kind == DUE
        if due:
            total_due += breakdown.total_price
            first_due = first_due or breakdown
            requests.append({"source_format": item.source_format, "target_format": item.target_format,
                             "file_size_mb": float(size_mb), "quality": item.quality, "name": item.name})
        files.append({
            "name": item.name, "source_format": item.source_format, "target_format": item.target_format,
            "file_size_mb": float(size_mb), "quality": item.quality,
            "paid_by": ConversionCharge.Kind.PAYMENT if due else decision.kind,
            "prepaid": decision.item is not None,
            "price": float(breakdown.total_price if due else Decimal("0.00")),
            "estimated_price": float(breakdown.total_price),
        })
    shown = first_due or pricing.price(source_format=planned[0].source_format,
                                       target_format=planned[0].target_format,
                                       file_size_mb=services.size_mb_for_bytes(planned[0].size_bytes),
                                       quality=planned[0].quality, server_load=load)
    response = services.estimate_response(shown)
    response["estimated_price"] = float(total_due) if requests else response["estimated_price"]
    return {
        **response,
        "amount_due": float(total_due),
        "files": files,
        "how_to_pay": {
            "create_payment_intent": "/api/payments/create-payment-intent",
            "conversion_request": requests[0] if requests else None,
            "conversion_requests": requests,
            "then": _("Repite la conversión con transaction_id cuando el pago esté completado."),
            "use_credit": credits > 0,
            "conversion_credits": credits if owner is not None and owner.user is not None else 0,
            "plans": "/api/payments/plans",
        },
        "allowance": {"plan": plan.slug, "limit": plan.monthly_conversions, "used": used},
    }


def _payment_required(*, owner: Owner, planned, decisions, plan, used: int, remaining: int | None, credits: int,
                      transaction_id, address_exhausted: bool = False) -> ApplicationError:
    details = _quote(owner=owner, planned=planned, decisions=decisions, plan=plan, used=used, credits=credits)
    if transaction_id:  # named, yet it does not cover what is due
        details["transaction_id"] = [_("La transacción no está pagada, ya se usó o no corresponde a "
                                       "esta conversión.")]
    due = sum(1 for d in decisions if d.kind == DUE)
    covered = len(decisions) - due
    values = {"plan": plan_name(plan.name), "price": money(Decimal(str(details["amount_due"]))),
              "n": len(decisions), "covered": covered, "due": due}
    if address_exhausted:
        details["allowance"]["per_address"] = settings.ANONYMOUS_FREE_CONVERSIONS_PER_ADDRESS
    if address_exhausted and not covered:
        message = _("Las conversiones gratuitas sin cuenta desde tu conexión se han agotado este mes. "
                    "Puedes pagar %(price)s o crear una cuenta gratuita.") % values
    elif covered:
        message = ngettext(
            "Tu plan (%(plan)s), tus créditos o pagos anteriores cubren %(covered)d de estos %(n)d archivos; "
            "el que falta cuesta %(price)s.",
            "Tu plan (%(plan)s), tus créditos o pagos anteriores cubren %(covered)d de estos %(n)d archivos; "
            "los %(due)d que faltan cuestan %(price)s en total.", due) % values
    elif remaining is not None and remaining <= 0:
        message = (_("Has agotado las conversiones de tu plan (%(plan)s). Esta conversión cuesta %(price)s.")
                   if due == 1 else _("Has agotado las conversiones de tu plan (%(plan)s). Estos %(n)d archivos "
                                      "cuestan %(price)s en total.")) % values
    else:
        message = ngettext("Este archivo supera lo que cubre tu plan (%(plan)s). Esta conversión cuesta %(price)s.",
                           "Estos archivos superan lo que cubre tu plan (%(plan)s). Cuestan %(price)s en total.",
                           due) % values
    return ApplicationError(message, code="payment_required", status=402, details=details)


def payment_quote(*, owner: Owner | None, planned: list[PlannedConversion], use_credit: bool = False) -> dict:
    """Read only: what would pay each of these files now and the amount due (the convert page)."""
    if owner is None:
        plan, used, remaining, credits, items = plan_for_user(None), 0, None, 0, []
        remaining = plan.monthly_conversions
    else:
        plan = plan_for_user(owner.user)
        start, _end = selectors.allowance_period(owner=owner)
        used = selectors.allowance_used(owner=owner, since=start)
        remaining = None if plan.monthly_conversions is None else max(0, plan.monthly_conversions - used)
        address_left = selectors.anonymous_address_left(owner=owner, since=start)
        if address_left is not None:
            remaining = address_left if remaining is None else min(remaining, address_left)
        credits = owner.user.conversion_credits if (use_credit and owner.user is not None) else 0
        items = _paid_items(owner, None)
    decisions = _decide(planned, plan=plan, remaining=remaining, credits=credits, items=items)
    return _quote(owner=owner, planned=planned, decisions=decisions, plan=plan, used=used, credits=credits)


def files_payment_quote(*, owner: Owner | None, files: list[dict], target_format: str, quality: str,
                        use_credit: bool = False) -> dict:
    """What would pay each file (name, source_format, size_bytes, optionally its own target_format)
    now, and the amount due; reads only."""
    planned = []
    for entry in files:
        size_mb = max(services.size_mb_for_bytes(entry["size_bytes"]), Decimal("0.01"))
        details = services.conversion_request_validate(source_format=entry["source_format"],
                                                       target_format=entry.get("target_format") or target_format,
                                                       file_size_mb=size_mb,
                                                       quality=quality)
        planned.append(PlannedConversion(source_format=details["source_format"],
                                         target_format=details["target_format"], size_bytes=entry["size_bytes"],
                                         quality=details["quality"], name=entry.get("name", "")))
    return payment_quote(owner=owner, planned=planned, use_credit=use_credit)
