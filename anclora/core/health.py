"""Health checks of the services the app depends on."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from celery import current_app
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

logger = logging.getLogger(__name__)


def check_database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone()[0] == 1
    except Exception:  # noqa: BLE001 - any failure means unhealthy
        logger.warning("health: database check failed", exc_info=True)
        return False


def check_broker() -> bool:
    try:
        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=settings.HEALTH_BROKER_TIMEOUT)
            # Some transports connect lazily: touching the default channel proves it.
            _ = conn.default_channel
        return True
    except Exception:  # noqa: BLE001
        logger.warning("health: broker check failed", exc_info=True)
        return False


def check_storage() -> bool:
    name = f"health/{uuid.uuid4().hex}.txt"
    try:
        saved = default_storage.save(name, ContentFile(b"ok"))
        with default_storage.open(saved) as fh:
            ok = fh.read() == b"ok"
        default_storage.delete(saved)
        return ok
    except Exception:  # noqa: BLE001
        logger.warning("health: storage check failed", exc_info=True)
        return False


_reports: dict[str, Callable[[], dict]] = {}


def report_register(name: str, report: Callable[[], dict]) -> None:
    """Apps add an informational section to the answer (conversions: which engines this host has);
    it never makes the status degraded. Core itself knows no domain."""
    _reports[name] = report


def health_report() -> dict:
    checks = {
        "database": check_database(),
        "broker": check_broker(),
        "storage": check_storage(),
    }
    return {
        "status": "ok" if all(checks.values()) else "degraded",
        "checks": {name: "ok" if ok else "error" for name, ok in checks.items()},
        **{name: report() for name, report in _reports.items()},
    }
