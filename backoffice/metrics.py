"""The domain series of /metrics, read through the domains' selectors when scraped, so they are right
whichever web or worker process did the work (registered with anclora.core.metrics in apps.py)."""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily

from billing import selectors as billing_selectors
from conversions import selectors as conversion_selectors

DURATION_BUCKETS = (1, 2, 5, 10, 30, 60, 120, 300, 600)


class DomainCollector:
    def collect(self):
        by_status = GaugeMetricFamily("anclora_conversions", "Conversions by status and engine",
                                      labels=["status", "engine"])
        for row in conversion_selectors.conversion_counts_by_status_engine():
            by_status.add_metric([row["status"], row["engine"] or "-"], row["n"])
        yield by_status

        depth = GaugeMetricFamily("anclora_queue_depth", "Conversions waiting or running", labels=["status"])
        for status, n in conversion_selectors.conversion_active_counts().items():
            depth.add_metric([status], n)
        yield depth

        seconds = conversion_selectors.conversion_recent_durations(limit=10000)
        buckets = [(str(b), sum(1 for s in seconds if s <= b)) for b in DURATION_BUCKETS]
        buckets.append(("+Inf", len(seconds)))
        histogram = HistogramMetricFamily("anclora_conversion_duration_seconds",
                                          "Duration of the latest completed conversions")
        histogram.add_metric([], buckets, sum(seconds))
        yield histogram

        payments = GaugeMetricFamily("anclora_payments", "Payments by status", labels=["status"])
        for status, n in billing_selectors.transaction_counts_by_status():
            payments.add_metric([status], n)
        yield payments
