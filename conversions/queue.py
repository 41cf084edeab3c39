"""Enqueueing a conversion job: the one module conversions' services use to reach Celery.

tasks.py (the Celery entry points) calls services; services never import tasks: the job goes to
its task by name, which ConversionsConfig.ready() registers in every process.
"""

from __future__ import annotations

from celery import current_app

from .models import Conversion

CONVERSION_RUN_TASK = "conversions.tasks.conversion_run"


def conversion_enqueue(*, conversion: Conversion) -> None:
    current_app.tasks[CONVERSION_RUN_TASK].apply_async(
        args=[str(conversion.pk)], queue="priority" if conversion.priority else "default")
