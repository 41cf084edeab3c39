"""Back-office figures (GET /api/admin/stats and the staff dashboard), aggregated in the database."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Avg, Count, DecimalField, DurationField, ExpressionWrapper, F, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

CACHE_SECONDS = 30
ZERO = Decimal("0.00")


def _today_start(now=None):
    now = timezone.localtime(now or timezone.now())
    return timezone.make_aware(datetime.combine(now.date(), time.min), now.tzinfo)


def _transactions():
    try:
        return apps.get_model("billing", "ConversionTransaction").objects.all()
    except LookupError:
        return None


def _net_revenue(queryset) -> Decimal:
    if queryset is None:
        return ZERO
    net = ExpressionWrapper(F("amount") - F("refunded_amount"), output_field=DecimalField(max_digits=12,
                                                                                        decimal_places=2))
    total = queryset.filter(status__in=["completed", "refunded"]).aggregate(
        total=Coalesce(Sum(net), Value(ZERO), output_field=DecimalField(max_digits=12, decimal_places=2))
    )["total"]
    return Decimal(total).quantize(Decimal("0.01"))


def system_stats(*, now=None) -> dict:
    from conversions.models import Conversion
    from storage.models import StoredFile

    now = now or timezone.now()
    today = _today_start(now)
    User = get_user_model()
    users = User.objects.aggregate(
        total=Count("pk", distinct=True),
        active=Count("pk", filter=Q(last_login__gte=today) | Q(conversions__created_at__gte=today),
                     distinct=True),
    )
    conversions = Conversion.objects.aggregate(
        total=Count("pk"),
        today=Count("pk", filter=Q(created_at__gte=today)),
        avg=Avg(ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField()),
                filter=Q(status=Conversion.Status.COMPLETED, started_at__isnull=False)),
    )
    storage_bytes = StoredFile.objects.filter(is_deleted=False).aggregate(s=Coalesce(Sum("size"), 0))["s"]
    transactions = _transactions()
    return {
        "total_users": users["total"],
        "active_users_today": users["active"],
        "total_conversions": conversions["total"],
        "conversions_today": conversions["today"],
        "total_revenue_eur": float(_net_revenue(transactions)),
        "revenue_today_eur": float(_net_revenue(
            transactions.filter(completed_at__gte=today) if transactions is not None else None)),
        "storage_used_gb": round(storage_bytes / 1024**3, 3),
        "average_conversion_time_seconds": round(conversions["avg"].total_seconds(), 2) if conversions["avg"]
        else 0.0,
        "failed_today": Conversion.objects.filter(status=Conversion.Status.FAILED, created_at__gte=today).count(),
    }


def recent_activity(*, limit: int = 20) -> list[dict]:
    from conversions.models import Conversion

    items = [
        {"type": "conversion", "user_id": str(c["user_id"]) if c["user_id"] else None,
         "details": f"{c['original_format'].upper()} to {c['target_format'].upper()} conversion ({c['status']})",
         "params": {"source": c["original_format"], "target": c["target_format"], "status": c["status"]},
         "timestamp": c["created_at"]}
        for c in Conversion.objects.order_by("-created_at").values(
            "user_id", "original_format", "target_format", "status", "created_at")[:limit]
    ]
    transactions = _transactions()
    if transactions is not None:
        items += [
            {"type": "payment", "user_id": str(t["user_id"]) if t["user_id"] else None,
             "details": f"{t['amount']} EUR ({t['status']})",
             "params": {"amount": str(t["amount"]), "status": t["status"]}, "timestamp": t["created_at"]}
            for t in transactions.order_by("-created_at").values("user_id", "amount", "status", "created_at")[:limit]
        ]
    items.sort(key=lambda item: item["timestamp"], reverse=True)
    for item in items:
        item["timestamp"] = item["timestamp"].isoformat()
    return items[:limit]


def admin_stats() -> dict:
    cached = cache.get("admin-stats")
    if cached is None:
        cached = {"system_stats": system_stats(), "recent_activity": recent_activity()}
        cache.set("admin-stats", cached, CACHE_SECONDS)
    return cached


def daily_series(*, days: int = 30, now=None) -> list[dict]:
    """Conversions and net revenue per day for the last `days` days (oldest first)."""
    from conversions.models import Conversion

    now = now or timezone.now()
    start = _today_start(now) - timedelta(days=days - 1)
    conversions = dict(Conversion.objects.filter(created_at__gte=start).annotate(day=TruncDate("created_at"))
                       .values_list("day").annotate(n=Count("pk")).order_by())
    revenue: dict = {}
    transactions = _transactions()
    if transactions is not None:
        net = ExpressionWrapper(F("amount") - F("refunded_amount"),
                                output_field=DecimalField(max_digits=12, decimal_places=2))
        revenue = dict(transactions.filter(status__in=["completed", "refunded"], completed_at__gte=start)
                       .annotate(day=TruncDate("completed_at")).values_list("day").annotate(s=Sum(net)).order_by())
    series = []
    for offset in range(days):
        day = (start + timedelta(days=offset)).date()
        series.append({"day": day, "conversions": conversions.get(day, 0),
                       "revenue": float(revenue.get(day) or 0)})
    return series
