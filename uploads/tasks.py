"""Celery entry points of uploads: take ids, call services."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.utils.translation import gettext as _

from conversions import services as conversion_services

from . import imports, resumable, s3multipart

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT, time_limit=settings.CELERY_TASK_TIME_LIMIT)
def url_import_run(conversion_id: str, address: str | None = None) -> str:
    try:
        return imports.url_import_execute(conversion_id=conversion_id, address=address)
    except SoftTimeLimitExceeded:
        return conversion_services.conversion_fail(conversion_id=conversion_id, code="source_timeout",
                                                   message=_("La descarga de la URL de origen tardó demasiado."))
    except Exception:
        logger.exception("url import %s crashed", conversion_id)
        return conversion_services.conversion_fail(conversion_id=conversion_id, code="internal_error",
                                                   message=_("Error interno durante la conversión"))


@shared_task
def uploads_cleanup_task() -> dict:
    """Expired resumable uploads (tus bytes removed, S3 multipart uploads aborted), S3 multipart uploads
    left without a row, and stale URL downloads."""
    return {"expired_uploads": resumable.uploads_delete_expired(),
            "orphaned_s3_uploads": s3multipart.multipart_abort_orphans(),
            "stale_imports": imports.url_imports_fail_stale()}
