"""Back-office figures (GET /api/admin/stats and the staff dashboard), aggregated in the database
through each domain's selectors."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.core.cache import cache
from django.utils import timezone

from accounts import selectors as account_selectors
from billing import selectors as billing_selectors
from conversions import selectors as conversion_selectors
from storage import selectors as storage_selectors

CACHE_SECONDS = 30


def _today_start(now=None):
    now = timezone.localtime(now or timezone.now())
    return timezone.make_aware(datetime.combine(now.date(), time.min), now.tzinfo)


def system_stats(*, now=None) -> dict:
    today = _today_start(now or timezone.now())
    users = account_selectors.user_counts(
        active_since=today, also_active_ids=conversion_selectors.conversion_user_ids_since(since=today))
    conversions = conversion_selectors.conversion_figures(since=today)
    storage_bytes = storage_selectors.storage_bytes_used()
    return {
        "total_users": users["total"],
        "active_users_today": users["active"],
        "total_conversions": conversions["total"],
        "conversions_today": conversions["today"],
        "total_revenue_eur": float(billing_selectors.revenue_net()),
        "revenue_today_eur": float(billing_selectors.revenue_net(since=today)),
        "storage_used_gb": round(storage_bytes / 1024**3, 3),
        "average_conversion_time_seconds": round(conversions["avg"].total_seconds(), 2) if conversions["avg"]
        else 0.0,
        "failed_today": conversions["failed_today"],
    }


def recent_activity(*, limit: int = 20) -> list[dict]:
    items = [
        {"type": "conversion", "user_id": str(c["user_id"]) if c["user_id"] else None,
         "details": f"{c['original_format'].upper()} to {c['target_format'].upper()} conversion ({c['status']})",
         "params": {"source": c["original_format"], "target": c["target_format"], "status": c["status"]},
         "timestamp": c["created_at"]}
        for c in conversion_selectors.conversion_recent(limit=limit)
    ]
    items += [
        {"type": "payment", "user_id": str(t["user_id"]) if t["user_id"] else None,
         "details": f"{t['amount']} EUR ({t['status']})",
         "params": {"amount": str(t["amount"]), "status": t["status"]}, "timestamp": t["created_at"]}
        for t in billing_selectors.transaction_recent(limit=limit)
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
    start = _today_start(now or timezone.now()) - timedelta(days=days - 1)
    conversions = conversion_selectors.conversion_counts_per_day(since=start)
    revenue = billing_selectors.revenue_per_day(since=start)
    series = []
    for offset in range(days):
        day = (start + timedelta(days=offset)).date()
        series.append({"day": day, "conversions": conversions.get(day, 0),
                       "revenue": float(revenue.get(day) or 0)})
    return series
