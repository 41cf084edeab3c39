"""Celery entry points for rewards (scheduled in anclora/core/schedules.py). Both are idempotent."""

import logging

from celery import shared_task

from . import services

logger = logging.getLogger(__name__)


@shared_task
def weekly_challenges_task() -> list[str]:
    """Monday 00:00 UTC: draw this week's 3 challenges (a second run creates nothing)."""
    return [challenge.kind for challenge in services.challenges_generate_week()]


@shared_task
def streaks_refresh_task() -> int:
    """Daily: reset the streaks of users inactive for more than a day."""
    return services.streaks_refresh()
