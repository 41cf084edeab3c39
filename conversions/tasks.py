"""Celery entry points: take ids, call services."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import OperationalError
from django.utils.translation import gettext as _

from anclora.core.observability import bind_conversion

from . import services

logger = logging.getLogger(__name__)

# Only these are worth a retry; anything else is a real failure of the job.
TRANSIENT_ERRORS = (OperationalError, ConnectionError, TimeoutError)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
)
def conversion_run(self, conversion_id: str) -> str:
    bind_conversion(conversion_id)  # every log line of this job carries its id
    try:
        return services.conversion_execute(conversion_id=conversion_id)
    except SoftTimeLimitExceeded:
        return services.conversion_fail(conversion_id=conversion_id, code="timeout",
                                        message=_("La conversión superó el tiempo máximo permitido"))
    except TRANSIENT_ERRORS:
        # Put the job back so the retry can claim it.
        services.conversion_release(conversion_id=conversion_id)
        raise
    except Exception:
        logger.exception("conversion %s crashed", conversion_id)
        return services.conversion_fail(conversion_id=conversion_id, code="internal_error",
                                        message=_("Error interno durante la conversión"))


@shared_task
def conversions_reap_task() -> dict:
    return services.conversions_reap()
