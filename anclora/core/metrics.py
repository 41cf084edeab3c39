"""/metrics in Prometheus format: request series plus the series apps register here.

Database-backed series (backoffice/metrics.py: conversions by status and engine, queue depth,
conversion durations, payments by status) are computed when scraped, so they are right whichever
web or worker process did the work. Access: loopback / METRICS_ALLOWED_IPS, or `Authorization: Bearer
<METRICS_TOKEN>`.
"""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

_collectors: list = []


def collector_register(collector) -> None:
    """Apps add their own series (an object with ``collect()`` yielding metric families), read at
    scrape time; backoffice registers the domain figures. Core itself knows no domain."""
    if not any(type(known) is type(collector) for known in _collectors):
        _collectors.append(collector)


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
    for collector in _collectors:
        registry.register(collector)
    body = generate_latest(REGISTRY) + generate_latest(registry)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
