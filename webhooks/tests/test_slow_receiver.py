"""Webhook deliveries against slow receivers (a real socket server in a thread that trickles).

A receiver that answers one byte at a time never lets a per-read timeout fire: the attempt must end
at its total deadline (WEBHOOK_DELIVERY_TIMEOUT, small here), be recorded as a failed attempt and be
retried later like any other failure.
"""

import time

import pytest
from django.utils import timezone

from anclora.core.tests.trickle import TrickleServer, http_head
from webhooks import services
from webhooks.models import WebhookDelivery

pytestmark = [pytest.mark.django_db]

DEADLINE = 1.0  # WEBHOOK_DELIVERY_TIMEOUT in these tests (seconds)
MARGIN = 1.5  # scheduling slack on a busy machine; the old code took the whole trickle (20 s+)
PADDING = "a" * 400  # 400 bytes at one per 50 ms: 20 s of trickle


@pytest.fixture(autouse=True)
def _short_deadline(settings):
    settings.CONVERSION_WEBHOOK_ALLOW_PRIVATE = True
    settings.WEBHOOK_DELIVERY_TIMEOUT = DEADLINE


def _delivery(user, url) -> WebhookDelivery:
    event = {"id": "0b6f0d59-62a4-4f7e-9d0e-8d1b1e6f7a10", "type": "conversion.completed", "created": 1, "data": {}}
    return WebhookDelivery.objects.create(user=user, url=url, event_type=event["type"], event_id=event["id"],
                                          payload=event, next_attempt_at=timezone.now())


def _attempt(delivery) -> float:
    started = time.monotonic()
    services.webhook_delivery_attempt(delivery_id=delivery.pk)
    return time.monotonic() - started


def _failed_and_retried_later(delivery) -> None:
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.attempts == 1
    assert delivery.last_error.startswith("TimeoutError"), delivery.last_error
    assert delivery.next_attempt_at > timezone.now()  # the usual backoff


def test_trickled_answer_headers_end_at_the_total_deadline(make_user):
    head = http_head(Content_Length="2", X_Padding=PADDING)
    with TrickleServer(head=head, body=b"ok", trickle_head=True) as receiver:
        delivery = _delivery(make_user(), receiver.url("/hook"))
        elapsed = _attempt(delivery)
        assert receiver.request_seen.is_set() and not receiver.finished.is_set()
    assert elapsed < DEADLINE + MARGIN, f"the attempt took {elapsed:.1f}s with a {DEADLINE}s deadline"
    _failed_and_retried_later(delivery)


def test_trickled_answer_body_ends_at_the_total_deadline(make_user):
    body = b"x" * 400
    with TrickleServer(head=http_head(Content_Length=str(len(body))), body=body, trickle_body=True) as receiver:
        delivery = _delivery(make_user(), receiver.url("/hook"))
        elapsed = _attempt(delivery)
        assert receiver.request_seen.is_set() and not receiver.finished.is_set()
    assert elapsed < DEADLINE + MARGIN, f"the attempt took {elapsed:.1f}s with a {DEADLINE}s deadline"
    _failed_and_retried_later(delivery)


def test_a_prompt_receiver_still_succeeds(make_user):
    with TrickleServer(head=http_head(Content_Length="2"), body=b"ok") as receiver:
        delivery = _delivery(make_user(), receiver.url("/hook"))
        assert services.webhook_delivery_attempt(delivery_id=delivery.pk) == "succeeded"
