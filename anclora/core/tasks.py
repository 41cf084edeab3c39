import logging

from celery import shared_task
from django.conf import settings
from django.core.management import call_command

from .broker import purge_delivered_messages

logger = logging.getLogger(__name__)


@shared_task
def flush_expired_tokens() -> None:
    call_command("flushexpiredtokens")
    logger.info("flushed expired JWT refresh tokens")


@shared_task
def purge_delivered_broker_messages() -> int:
    """The embedded SQLite broker keeps delivered messages as invisible rows; drop day-old ones."""
    removed = purge_delivered_messages(settings.CELERY_BROKER_URL)
    logger.info("embedded broker: %d delivered messages purged", removed)
    return removed
