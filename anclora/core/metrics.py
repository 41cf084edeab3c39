"""/metrics in Prometheus format: request series plus figures read from the database at scrape time.

Database-backed series (conversions by status and engine, queue depth, conversion durations,
payments by status) are computed when scraped, so they are right whichever web or worker
process did the work. Access: loopback / METRICS_ALLOWED_IPS, or `Authorization: Bearer
<METRICS_TOKEN>`.
"""

from __future__ import annotations

import hmac
import ipaddress

from django.apps import apps
from django.conf import settings
from django.db.models import Count
from django.http import HttpResponse, HttpResponseForbidden
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily

DURATION_BUCKETS = (1, 2, 5, 10, 30, 60, 120, 300, 600)


class DatabaseCollector:
    def collect(self):
        from conversions.models import Conversion

        by_status = GaugeMetricFamily("anclora_conversions", "Conversions by status and engine",
                                      labels=["status", "engine"])
        for row in Conversion.objects.values("status", "engine").annotate(n=Count("pk")).order_by():
            by_status.add_metric([row["status"], row["engine"] or "-"], row["n"])
        yield by_status

        depth = GaugeMetricFamily("anclora_queue_depth", "Conversions waiting or running", labels=["status"])
        counts = dict(Conversion.objects.filter(status__in=Conversion.ACTIVE_STATUSES)
                      .values_list("status").annotate(n=Count("pk")).order_by())
        for status in Conversion.ACTIVE_STATUSES:
            depth.add_metric([status], counts.get(status, 0))
        yield depth

        durations = list(Conversion.objects.filter(status=Conversion.Status.COMPLETED, started_at__isnull=False,
                                                   finished_at__isnull=False)
                         .order_by("-finished_at").values_list("started_at", "finished_at")[:10000])
        seconds = [(end - start).total_seconds() for start, end in durations]
        buckets = [(str(b), sum(1 for s in seconds if s <= b)) for b in DURATION_BUCKETS]
        buckets.append(("+Inf", len(seconds)))
        histogram = HistogramMetricFamily("anclora_conversion_duration_seconds",
                                          "Duration of the latest completed conversions")
        histogram.add_metric([], buckets, sum(seconds))
        yield histogram

        if apps.is_installed("billing"):
            try:
                Transaction = apps.get_model("billing", "ConversionTransaction")
            except LookupError:
                return
            payments = GaugeMetricFamily("anclora_payments", "Payments by status", labels=["status"])
            for status, n in Transaction.objects.values_list("status").annotate(n=Count("pk")).order_by():
                payments.add_metric([status], n)
            yield payments


def _allowed(request) -> bool:
    token = getattr(settings, "METRICS_TOKEN", "")
    header = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(header, f"Bearer {token}"):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    allowed = getattr(settings, "METRICS_ALLOWED_IPS", ["127.0.0.1", "::1"])
    return any(address in ipaddress.ip_network(net, strict=False) for net in allowed)


def metrics_view(request):
    if not _allowed(request):
        return HttpResponseForbidden("forbidden\n", content_type="text/plain")
    registry = CollectorRegistry()
    registry.register(DatabaseCollector())
    body = generate_latest(REGISTRY) + generate_latest(registry)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
