"""Webhook deliveries against slow receivers (a real socket server in a thread that trickles).

A receiver that answers one byte at a time never lets a per-read timeout fire: the attempt must end
at its total deadline (WEBHOOK_DELIVERY_TIMEOUT, small here), be recorded as a failed attempt and be
retried later like any other failure.
"""

import time
import uuid
from datetime import timedelta

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
    event = {"id": str(uuid.uuid4()), "type": "conversion.completed", "created": 1, "data": {}}
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


@pytest.mark.parametrize("part", ["headers", "body"])
def test_a_trickled_answer_ends_at_the_total_deadline(make_user, part):
    body = b"ok" if part == "headers" else b"x" * 400
    head = http_head(Content_Length=str(len(body)), **({"X_Padding": PADDING} if part == "headers" else {}))
    with TrickleServer(head=head, body=body, trickle_head=part == "headers", trickle_body=part == "body") as receiver:
        delivery = _delivery(make_user(), receiver.url("/hook"))
        elapsed = _attempt(delivery)
        assert receiver.request_seen.is_set() and not receiver.finished.is_set()
    assert elapsed < DEADLINE + MARGIN, f"the attempt took {elapsed:.1f}s with a {DEADLINE}s deadline"
    _failed_and_retried_later(delivery)


def test_a_prompt_receiver_still_succeeds(make_user):
    with TrickleServer(head=http_head(Content_Length="2"), body=b"ok") as receiver:
        delivery = _delivery(make_user(), receiver.url("/hook"))
        assert services.webhook_delivery_attempt(delivery_id=delivery.pk) == "succeeded"


# --- deliveries in flight per owner -------------------------------------------------------------------
@pytest.fixture
def enqueued(monkeypatch):
    """(delivery id, countdown) of every delivery task enqueued (none is run)."""
    sent = []
    monkeypatch.setattr(services, "_enqueue", lambda delivery_id, countdown=0: sent.append((delivery_id, countdown)))
    return sent


@pytest.mark.django_db(transaction=True)
def test_past_the_owners_in_flight_cap_a_delivery_waits_instead_of_taking_a_worker(make_user, settings, enqueued):
    """One receiver that holds the connection; the owner's cap is 1: a second due delivery of that owner is
    put back (no attempt spent, due again shortly), another owner's delivery goes out meanwhile."""
    import threading

    settings.WEBHOOK_DELIVERIES_IN_FLIGHT_MAX = 1
    settings.WEBHOOK_DELIVERY_WAIT_SECONDS = 7
    settings.WEBHOOK_DELIVERY_TIMEOUT = 30  # the held attempt ends when released, not by its deadline
    release = threading.Event()
    owner, other = make_user(), make_user()
    with TrickleServer(head=http_head(Content_Length="2"), body=b"ok", release=release) as held, \
            TrickleServer(head=http_head(Content_Length="2"), body=b"ok") as prompt:
        first = _delivery(owner, held.url("/hook"))
        second = _delivery(owner, prompt.url("/hook"))
        others = _delivery(other, prompt.url("/hook"))
        results = {}

        def attempt_first():
            from django.db import connection

            try:
                results["first"] = services.webhook_delivery_attempt(delivery_id=first.pk)
            finally:
                connection.close()

        thread = threading.Thread(target=attempt_first)
        thread.start()
        try:
            assert held.request_seen.wait(10), "the first attempt never reached the receiver"
            before = timezone.now()
            assert services.webhook_delivery_attempt(delivery_id=second.pk) == "waiting"
            second.refresh_from_db()
            assert second.attempts == 0 and second.status == "pending" and second.leased_until is None
            assert second.next_attempt_at >= before + timedelta(seconds=7)
            assert enqueued == [(second.pk, 7)]  # due again shortly, not dropped
            assert prompt.request_seen.is_set() is False
            assert services.webhook_delivery_attempt(delivery_id=others.pk) == "succeeded"  # another owner
        finally:
            release.set()
            thread.join(30)
    assert results["first"] == "succeeded"
    first.refresh_from_db()
    assert first.leased_until is None  # the slot is free again
    WebhookDelivery.objects.filter(pk=second.pk).update(next_attempt_at=timezone.now())  # its wait is over
    with TrickleServer(head=http_head(Content_Length="2"), body=b"ok") as receiver:
        WebhookDelivery.objects.filter(pk=second.pk).update(url=receiver.url("/hook"))
        assert services.webhook_delivery_attempt(delivery_id=second.pk) == "succeeded"
    second.refresh_from_db()
    assert second.attempts == 1


def test_a_lease_left_by_a_dead_worker_does_not_hold_a_slot(make_user, settings):
    settings.WEBHOOK_DELIVERIES_IN_FLIGHT_MAX = 1
    owner = make_user()
    with TrickleServer(head=http_head(Content_Length="2"), body=b"ok") as receiver:
        stale = _delivery(owner, receiver.url("/hook"))
        WebhookDelivery.objects.filter(pk=stale.pk).update(
            leased_until=timezone.now() - timedelta(seconds=1),
            next_attempt_at=timezone.now() + timedelta(hours=1))
        delivery = _delivery(owner, receiver.url("/hook"))
        assert services.webhook_delivery_attempt(delivery_id=delivery.pk) == "succeeded"
