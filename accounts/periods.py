"""Subscription period arithmetic (no database access)."""

from __future__ import annotations

from datetime import datetime, timedelta

PERIOD = timedelta(days=30)


def next_period(start: datetime, end: datetime, now: datetime) -> tuple[datetime, datetime]:
    """Roll a period forward in whole steps until it contains now."""
    length = max(end - start, timedelta(days=1))
    while end <= now:
        start, end = end, end + length
    return start, end
