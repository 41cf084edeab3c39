"""Celery entry points: take ids, call services."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(acks_late=True, soft_time_limit=30, time_limit=40)
def webhook_delivery_task(delivery_id: str) -> str:
    return services.webhook_delivery_attempt(delivery_id=delivery_id)


@shared_task
def webhook_deliveries_due_task() -> int:
    return services.webhook_deliveries_due()
