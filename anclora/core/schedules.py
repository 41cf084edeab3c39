"""Periodic tasks, kept in the database (django-celery-beat) and created by `seed`.

Only one beat process may run per installation; tasks are idempotent anyway.
"""

from __future__ import annotations

import json

from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

# name -> (task, schedule kind, schedule spec, queue)
PERIODIC_TASKS: dict[str, tuple[str, str, dict, str]] = {
    "flush-expired-jwt": ("anclora.core.tasks.flush_expired_tokens", "crontab",
                          {"minute": "30", "hour": "3"}, "priority"),
    "delete-expired-files": ("storage.tasks.delete_expired_files_task", "crontab",
                             {"minute": "15", "hour": "2"}, "priority"),
    "file-expiry-notices": ("storage.tasks.expiry_notices_task", "crontab", {"minute": "0"}, "priority"),
    "orphan-sweep": ("storage.tasks.orphan_sweep_task", "crontab",
                     {"minute": "45", "hour": "3", "day_of_week": "0"}, "priority"),
    "purge-anonymous-sessions": ("storage.tasks.purge_anonymous_sessions_task", "crontab",
                                 {"minute": "0", "hour": "4", "day_of_month": "1"}, "priority"),
    "purge-broker-messages": ("anclora.core.tasks.purge_delivered_broker_messages", "crontab",
                              {"minute": "50", "hour": "3"}, "priority"),
    "reap-stuck-conversions": ("conversions.tasks.conversions_reap_task", "interval",
                               {"every": 5}, "priority"),
    "uploads-cleanup": ("uploads.tasks.uploads_cleanup_task", "crontab", {"minute": "20"}, "priority"),
    "webhook-deliveries-due": ("webhooks.tasks.webhook_deliveries_due_task", "interval",
                               {"every": 1}, "priority"),
    "roll-subscription-periods": ("billing.tasks.subscription_periods_roll_task", "crontab",
                                  {"minute": "10", "hour": "0"}, "priority"),
    "weekly-challenges": ("gamification.tasks.weekly_challenges_task", "crontab",
                          {"minute": "0", "hour": "0", "day_of_week": "1"}, "priority"),
    "refresh-streaks": ("gamification.tasks.streaks_refresh_task", "crontab",
                        {"minute": "15", "hour": "0"}, "priority"),
    "purge-idempotency-keys": ("idempotency.tasks.idempotency_records_purge_task", "crontab",
                               {"minute": "25"}, "priority"),
}


@transaction.atomic
def periodic_tasks_ensure() -> int:
    created = 0
    for name, (task, kind, spec, queue) in PERIODIC_TASKS.items():
        if kind == "crontab":
            schedule, _ = CrontabSchedule.objects.get_or_create(
                minute=spec.get("minute", "*"), hour=spec.get("hour", "*"),
                day_of_week=spec.get("day_of_week", "*"), day_of_month=spec.get("day_of_month", "*"),
                month_of_year=spec.get("month_of_year", "*"), timezone="UTC",
            )
            extra = {"crontab": schedule}
        else:
            schedule, _ = IntervalSchedule.objects.get_or_create(
                every=spec["every"], period=spec.get("period", IntervalSchedule.MINUTES)
            )
            extra = {"interval": schedule}
        _, was_created = PeriodicTask.objects.get_or_create(
            name=name,
            defaults={"task": task, "queue": queue, "kwargs": json.dumps({}), **extra},
        )
        created += was_created
    return created
