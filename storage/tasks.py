"""Celery entry points for the scheduled upkeep (schedules: anclora/core/schedules.py)."""

from celery import shared_task

from . import maintenance


@shared_task
def delete_expired_files_task() -> int:
    return maintenance.stored_files_delete_expired()


@shared_task
def orphan_sweep_task() -> dict:
    return maintenance.orphans_sweep()


@shared_task
def expiry_notices_task() -> int:
    return maintenance.expiry_notices_send()


@shared_task
def purge_anonymous_sessions_task() -> int:
    return maintenance.anonymous_sessions_purge()
