"""Reads: server load for pricing, the caller's transactions, allowance left."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, DecimalField, ExpressionWrapper, F, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from accounts.abuse import address_hash
from accounts.models import UserSubscription
from accounts.owners import Owner
from accounts.periods import next_period
from accounts.selectors import plan_for_user
from conversions.models import Conversion
from conversions.selectors import load_label

from .models import AnonymousAllowanceUse, ConversionCharge, ConversionTransaction, StripeSubscription

_load_cache: dict[str, tuple[float, str]] = {}


def server_load(*, max_age: float = 0.0) -> str:
    """The queue's label (low/medium/high), computed like GET /api/conversion/queue/status.

    `max_age` > 0 lets a process reuse a label that old (the estimate endpoint, for throughput);
    prices that are charged always read the queue.
    """
    if max_age > 0:
        cached = _load_cache.get("label")
        if cached is not None and time.monotonic() - cached[0] < max_age:
            return cached[1]
    depth = Conversion.objects.filter(status__in=Conversion.ACTIVE_STATUSES).count()
    label = load_label(depth / max(settings.CONVERSION_WORKERS, 1))
    _load_cache["label"] = (time.monotonic(), label)
    return label


def transaction_list_for_owner(*, owner: Owner | None) -> QuerySet[ConversionTransaction]:
    if owner is None:
        return ConversionTransaction.objects.none()
    return ConversionTransaction.objects.filter(owner.filter()).order_by("-created_at")


def month_start(now: datetime) -> datetime:
    now = now.astimezone(UTC)
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def allowance_period(*, owner: Owner, now=None) -> tuple[datetime, datetime | None]:
    """(start, end) of the period the plan allowance counts in; calendar month for sessions."""
    now = now or timezone.now()
    if owner.user is not None:
        sub = UserSubscription.objects.filter(user=owner.user, status=UserSubscription.Status.ACTIVE).first()
        if sub is not None and sub.current_period_end > now:
            return sub.current_period_start, sub.current_period_end
        if sub is not None:  # ended, not rolled yet: the rolled period starts where the old one ended

            return next_period(sub.current_period_start, sub.current_period_end, now)
    start = month_start(now)
    end = (start.replace(month=start.month + 1) if start.month < 12
           else start.replace(year=start.year + 1, month=1))
    return start, end


def allowance_used(*, owner: Owner, since: datetime) -> int:
    charges = ConversionCharge.objects.filter(kind=ConversionCharge.Kind.ALLOWANCE, refunded=False,
                                              created_at__gte=since)
    if owner.user is not None:
        return charges.filter(conversion__user=owner.user).count()
    return charges.filter(conversion__session=owner.session, conversion__user__isnull=True).count()


def anonymous_address_left(*, owner: Owner, since: datetime) -> int | None:
    """Free anonymous conversions left this month for the owner's address (None: not bounded here)."""
    if owner.user is not None or owner.address is None:
        return None
    used = AnonymousAllowanceUse.objects.filter(address_hash=address_hash(owner.address, "anon-allowance"),
                                                month=since.date()).values_list("count", flat=True).first() or 0
    return max(0, settings.ANONYMOUS_FREE_CONVERSIONS_PER_ADDRESS - used)


def entitlement_status(*, owner: Owner | None, now=None) -> dict:
    """What would pay for the caller's next conversion (the convert page shows it)."""
    if owner is None:
        plan = plan_for_user(None)
        limit = plan.monthly_conversions
        return {"plan": plan.slug, "plan_name": plan.name, "allowance_limit": limit, "allowance_used": 0,
                "allowance_remaining": limit, "period_end": None, "conversion_credits": 0}
    plan = plan_for_user(owner.user)
    start, end = allowance_period(owner=owner, now=now)
    used = allowance_used(owner=owner, since=start)
    limit = plan.monthly_conversions
    remaining = None if limit is None else max(0, limit - used)
    address_left = anonymous_address_left(owner=owner, since=start)
    if address_left is not None:  # every anonymous session of the address shares a monthly bound
        remaining = address_left if remaining is None else min(remaining, address_left)
    return {
        "plan": plan.slug, "plan_name": plan.name, "allowance_limit": limit, "allowance_used": used,
        "allowance_remaining": remaining, "period_end": end,
        "conversion_credits": owner.user.conversion_credits if owner.user else 0,
    }


def stripe_subscription_current(*, user) -> StripeSubscription | None:
    return (StripeSubscription.objects.select_related("plan")
            .filter(user=user, status=StripeSubscription.Status.ACTIVE).first())


def checkout_rows(*, tx: ConversionTransaction) -> list[dict]:
    """One row per file of the request this payment was priced for: what pays it and, for the files
    this payment pays, their price (files the plan, a credit or an earlier payment cover cost nothing)."""
    items = list(tx.items.all())
    unmatched = iter(items)
    rows = []
    for entry in tx.conversion_details.get("files") or []:
        if entry.get("paid_by") == "payment" and not entry.get("prepaid"):
            item = next(unmatched, None)
            if item is not None:
                rows.append({"name": entry.get("name") or item.name, "paid_by": "payment", "prepaid": False,
                             "item": item})
                continue
        rows.append({"name": entry.get("name", ""), "paid_by": entry.get("paid_by"),
                     "prepaid": bool(entry.get("prepaid")), "item": None,
                     "source_format": entry.get("source_format", ""),
                     "target_format": entry.get("target_format", "")})
    rows += [{"name": item.name, "paid_by": "payment", "prepaid": False, "item": item} for item in unmatched]
    return rows


# --- back office and metrics (backoffice/) ------------------------------------------
TRANSACTION_STATUS_LABELS = dict(ConversionTransaction.Status.choices)
_MONEY = DecimalField(max_digits=12, decimal_places=2)
_NET = ExpressionWrapper(F("amount") - F("refunded_amount"), output_field=_MONEY)
_PAID = [ConversionTransaction.Status.COMPLETED, ConversionTransaction.Status.REFUNDED]


def revenue_net(*, since=None) -> Decimal:
    """What payments brought in (amount less refunds), all time or completed since a moment."""
    rows = ConversionTransaction.objects.filter(status__in=_PAID)
    if since is not None:
        rows = rows.filter(completed_at__gte=since)
    total = rows.aggregate(total=Coalesce(Sum(_NET), Value(Decimal("0.00")), output_field=_MONEY))["total"]
    return Decimal(total).quantize(Decimal("0.01"))


def revenue_per_day(*, since) -> dict:
    """{date: net revenue of the payments completed that day} from a moment on."""
    return dict(ConversionTransaction.objects.filter(status__in=_PAID, completed_at__gte=since)
                .annotate(day=TruncDate("completed_at")).values_list("day").annotate(s=Sum(_NET)).order_by())


def transaction_recent(*, limit: int) -> list[dict]:
    return list(ConversionTransaction.objects.order_by("-created_at").values(
        "user_id", "amount", "status", "created_at")[:limit])


def transaction_counts_by_status() -> list[tuple[str, int]]:
    return list(ConversionTransaction.objects.values_list("status").annotate(n=Count("pk")).order_by())
