import logging

from celery import shared_task
from django.core.management import call_command

logger = logging.getLogger(__name__)


@shared_task
def flush_expired_tokens() -> None:
    call_command("flushexpiredtokens")
    logger.info("flushed expired JWT refresh tokens")
