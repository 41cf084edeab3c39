from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def idempotency_records_purge_task() -> int:
    return services.idempotency_records_purge()
