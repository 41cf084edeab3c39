from __future__ import annotations

import math
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.owners import Owner
from anclora.core.errors import ApplicationError

from .catalog import family_of
from .engines.registry import default_registry
from .models import Conversion


def conversion_list_for_owner(*, owner: Owner | None) -> QuerySet[Conversion]:
    if owner is None:
        return Conversion.objects.none()
    return (Conversion.objects.filter(owner.filter()).select_related("source", "output")
            .order_by("-created_at"))


def conversion_get_for_owner(*, owner: Owner | None, conversion_id) -> Conversion:
    """The caller's conversion or 404 (another user's or session's looks like none)."""
    conversion = conversion_list_for_owner(owner=owner).filter(pk=conversion_id).first()
    if conversion is None:
        raise ApplicationError(_("Conversión no encontrada."), code="not_found", status=404)
    return conversion


def queue_status(*, now=None) -> dict:
    now = now or timezone.now()
    counts = Conversion.objects.aggregate(
        pending=Count("pk", filter=Q(status=Conversion.Status.PENDING)),
        processing=Count("pk", filter=Q(status=Conversion.Status.PROCESSING)),
    )
    wait = (Conversion.objects.filter(started_at__isnull=False, started_at__gte=now - timedelta(hours=1))
            .aggregate(avg=Avg(ExpressionWrapper(F("started_at") - F("queued_at"),
                                                 output_field=DurationField())))["avg"])
    depth_per_worker = (counts["pending"] + counts["processing"]) / max(settings.CONVERSION_WORKERS, 1)
    return {
        "pending_conversions": counts["pending"],
        "processing_conversions": counts["processing"],
        "average_wait_time_minutes": round(wait.total_seconds() / 60, 2) if wait else 0.0,
        "server_load": load_label(depth_per_worker),
    }


DURATION_SAMPLE = 200  # latest completed jobs the averages are taken from
DURATION_WINDOW = timedelta(days=7)


def conversion_average_durations(*, now=None) -> dict:
    """Average run time in seconds of the latest completed jobs (the last DURATION_SAMPLE within
    DURATION_WINDOW), per family of their source format, and over all of them under the key None.
    {} when no job has completed lately."""
    now = now or timezone.now()
    rows = (Conversion.objects.filter(status=Conversion.Status.COMPLETED, started_at__isnull=False,
                                      finished_at__isnull=False, finished_at__gte=now - DURATION_WINDOW)
            .order_by("-finished_at").values_list("original_format", "started_at", "finished_at")[:DURATION_SAMPLE])
    totals: dict = {}
    for fmt, start, end in rows:
        seconds = max((end - start).total_seconds(), 0.0)
        for key in (family_of(fmt), None):
            total, n = totals.get(key, (0.0, 0))
            totals[key] = (total + seconds, n + 1)
    return {key: total / n for key, (total, n) in totals.items()}


AVERAGES_CACHE_KEY = "conversions:average-durations"
AVERAGES_CACHE_SECONDS = 30


def conversion_average_durations_cached() -> dict:
    """The averages above, computed at most every AVERAGES_CACHE_SECONDS (the status endpoint is polled
    every second per pending job)."""
    return cache.get_or_set(AVERAGES_CACHE_KEY, conversion_average_durations, AVERAGES_CACHE_SECONDS)


def conversion_queue_estimate(*, conversion: Conversion, averages: dict | None = None) -> dict | None:
    """For a queued job: its place in the queue (1 = next) and the expected seconds until it is
    done, from the jobs ahead of it (queued earlier on its queue, every queued priority job when it
    is not one, and the running ones), each counted at its family's recent average run time, shared
    among the workers, plus its own. None for a job not queued; estimated_seconds is None while no
    job has completed lately (nothing real to go by)."""
    if conversion.status != Conversion.Status.PENDING:
        return None
    averages = conversion_average_durations() if averages is None else averages
    same_queue_earlier = Q(priority=conversion.priority, queued_at__lt=conversion.queued_at)
    ahead_filter = same_queue_earlier | Q(priority=True) if not conversion.priority else same_queue_earlier
    ahead = list(Conversion.objects.filter(Q(status=Conversion.Status.PENDING) & ahead_filter)
                 .exclude(pk=conversion.pk).values_list("original_format", flat=True))
    running = list(Conversion.objects.filter(status=Conversion.Status.PROCESSING)
                   .values_list("original_format", flat=True))
    estimate = None
    if averages:
        def duration(fmt):
            return averages.get(family_of(fmt), averages[None])

        workers = max(settings.CONVERSION_WORKERS, 1)
        wait = sum(duration(fmt) for fmt in ahead + running) / workers
        estimate = max(1, math.ceil(wait + duration(conversion.original_format)))
    return {"position": len(ahead) + 1, "estimated_seconds": estimate}


def load_label(depth_per_worker: float) -> str:
    """low below 2 jobs per worker, medium below 10, high from there."""
    if depth_per_worker < 2:
        return "low"
    if depth_per_worker < 10:
        return "medium"
    return "high"


def conversion_get(*, conversion_id) -> Conversion | None:
    """One conversion by id, whoever owns it (for reactions to domain events, not for requests)."""
    return Conversion.objects.select_related("source", "output").filter(pk=conversion_id).first()


def conversion_list_completed_for_user(*, user) -> QuerySet[Conversion]:
    """A signed-in user's completed conversions (what rewards and achievements count)."""
    return Conversion.objects.filter(user=user, status=Conversion.Status.COMPLETED)


def conversion_get_completed_of_user(*, conversion_id) -> Conversion | None:
    """A completed conversion that belongs to a signed-in user (with its source and user), else None."""
    return (Conversion.objects.select_related("source", "user")
            .filter(pk=conversion_id, status=Conversion.Status.COMPLETED, user__isnull=False).first())


def conversion_list_for_batch(*, batch_id) -> QuerySet[Conversion]:
    return Conversion.objects.select_related("source").filter(batch_id=batch_id).order_by("created_at")


# --- back office and metrics (backoffice/) ------------------------------------------
CONVERSION_STATUS_LABELS = dict(Conversion.Status.choices)


def conversion_figures(*, since) -> dict:
    """All conversions, those created since a moment, the failed among them, and the average run time
    of the completed ones (None when there is none)."""
    return Conversion.objects.aggregate(
        total=Count("pk"),
        today=Count("pk", filter=Q(created_at__gte=since)),
        failed_today=Count("pk", filter=Q(created_at__gte=since, status=Conversion.Status.FAILED)),
        avg=Avg(ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField()),
                filter=Q(status=Conversion.Status.COMPLETED, started_at__isnull=False)),
    )


def conversion_user_ids_since(*, since) -> QuerySet:
    """Ids of the users who requested a conversion since a moment (a subquery for other apps)."""
    return Conversion.objects.filter(created_at__gte=since, user__isnull=False).values("user_id")


def conversion_recent(*, limit: int) -> list[dict]:
    return list(Conversion.objects.order_by("-created_at").values(
        "user_id", "original_format", "target_format", "status", "created_at")[:limit])


def conversion_counts_per_day(*, since) -> dict:
    """{date: conversions created that day} from a moment on (days without any are absent)."""
    return dict(Conversion.objects.filter(created_at__gte=since).annotate(day=TruncDate("created_at"))
                .values_list("day").annotate(n=Count("pk")).order_by())


def conversion_counts_by_status_engine() -> list[dict]:
    return list(Conversion.objects.values("status", "engine").annotate(n=Count("pk")).order_by())


def conversion_active_counts() -> dict[str, int]:
    """{status: n} for every status of a job waiting or running (0 when none)."""
    counts = dict(Conversion.objects.filter(status__in=Conversion.ACTIVE_STATUSES)
                  .values_list("status").annotate(n=Count("pk")).order_by())
    return {status: counts.get(status, 0) for status in Conversion.ACTIVE_STATUSES}


def conversion_recent_durations(*, limit: int) -> list[float]:
    """Run time in seconds of the latest completed conversions."""
    rows = (Conversion.objects.filter(status=Conversion.Status.COMPLETED, started_at__isnull=False,
                                      finished_at__isnull=False)
            .order_by("-finished_at").values_list("started_at", "finished_at")[:limit])
    return [(end - start).total_seconds() for start, end in rows]


def engine_availability() -> dict[str, bool]:
    """Which conversion engines this host has (the health answer: a missing optional engine is not an outage)."""
    return {engine.name: engine.is_available() for engine in default_registry().engines}
