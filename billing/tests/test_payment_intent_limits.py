"""Issue 24: payment intents created per hour are capped per owner and per client address; the body
field ``idempotency_key`` behaves like the Idempotency-Key header (409 for another request)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from billing.models import ConversionTransaction
from billing.providers import OfflineTestProvider

pytestmark = pytest.mark.django_db

URL = "/api/payments/create-payment-intent"
HOME = "203.0.113.50"
OTHER = "198.51.100.60"


def one_file(size_mb=1):
    return {"source_format": "png", "target_format": "jpg", "file_size_mb": size_mb, "quality": "basic"}


@pytest.fixture
def provider_calls(offline, monkeypatch):
    """How many PaymentIntents the (offline) provider was asked to create."""
    calls = []
    original = OfflineTestProvider.create_intent

    def counting(self, **kwargs):
        calls.append(kwargs["idempotency_key"])
        return original(self, **kwargs)

    monkeypatch.setattr(OfflineTestProvider, "create_intent", counting)
    return calls


def anonymous(address=HOME):
    client = APIClient(REMOTE_ADDR=address)
    first = client.post(URL, {"conversion_request": one_file()}, format="json")
    assert first.status_code == 201, first.content
    return client, first.json()["session_id"]


def test_intents_per_owner_are_capped_with_retry_after_and_nothing_created(settings, provider_calls):
    settings.PAYMENT_INTENTS_PER_HOUR = 3
    settings.PAYMENT_INTENTS_PER_ADDRESS_HOUR = 100
    client, sid = anonymous()
    answers = [client.post(URL, {"conversion_request": one_file(), "session_id": sid}, format="json")
               for _ in range(4)]
    assert [a.status_code for a in answers] == [201, 201, 429, 429]
    refused = answers[-1]
    assert refused.json()["code"] == "too_many_payment_intents"
    assert 1 <= int(refused["Retry-After"]) <= 3601
    assert refused.json()["details"]["retry_after"] == int(refused["Retry-After"])
    assert ConversionTransaction.objects.count() == 3
    assert len(provider_calls) == 3
    # another owner (a signed-in user) from another address still may pay
    other = APIClient(REMOTE_ADDR=OTHER)
    assert other.post(URL, {"conversion_request": one_file()}, format="json").status_code == 201


def test_intents_per_address_are_capped_across_owners(settings, provider_calls, make_user):
    settings.PAYMENT_INTENTS_PER_HOUR = 100
    settings.PAYMENT_INTENTS_PER_ADDRESS_HOUR = 3
    statuses = []
    for number in range(4):
        client = APIClient(REMOTE_ADDR=HOME)
        client.force_authenticate(make_user(email=f"u{number}@example.com"))
        statuses.append(client.post(URL, {"conversion_request": one_file()}, format="json").status_code)
    assert statuses == [201, 201, 201, 429]
    assert len(provider_calls) == 3
    far = APIClient(REMOTE_ADDR=OTHER)
    far.force_authenticate(make_user(email="far@example.com"))
    assert far.post(URL, {"conversion_request": one_file()}, format="json").status_code == 201


def test_idempotent_replays_use_no_slot(settings, provider_calls, make_user):
    settings.PAYMENT_INTENTS_PER_HOUR = 2
    client = APIClient(REMOTE_ADDR=HOME)
    client.force_authenticate(make_user())
    by_body = {"conversion_request": one_file(), "idempotency_key": "cart-1"}
    first = client.post(URL, by_body, format="json")
    assert first.status_code == 201
    by_header = client.post(URL, {"conversion_request": one_file(2)}, format="json", HTTP_IDEMPOTENCY_KEY="cart-2")
    assert by_header.status_code == 201
    for _ in range(3):  # both slots are used; replays still answer the same intent
        again = client.post(URL, by_body, format="json")
        assert again.status_code == 201 and again.json()["transaction_id"] == first.json()["transaction_id"]
        replay = client.post(URL, {"conversion_request": one_file(2)}, format="json", HTTP_IDEMPOTENCY_KEY="cart-2")
        assert replay.status_code == 201
        assert replay.json()["transaction_id"] == by_header.json()["transaction_id"]
    assert client.post(URL, {"conversion_request": one_file(3)}, format="json").status_code == 429
    assert ConversionTransaction.objects.count() == 2 and len(provider_calls) == 2


def test_body_idempotency_key_with_another_request_is_a_conflict_like_the_header(offline, make_user):
    client = APIClient(REMOTE_ADDR=HOME)
    client.force_authenticate(make_user())
    first = client.post(URL, {"conversion_request": one_file(1), "idempotency_key": "k-1"}, format="json")
    assert first.status_code == 201
    other_amount = client.post(URL, {"conversion_request": one_file(40), "idempotency_key": "k-1"}, format="json")
    assert other_amount.status_code == 409
    assert other_amount.json()["code"] == "idempotency_conflict"
    assert "idempotency_key" in other_amount.json()["details"]
    other_target = client.post(URL, {"conversion_request": {**one_file(1), "quality": "premium"},
                                     "idempotency_key": "k-1"}, format="json")
    assert other_target.status_code == 409
    same = client.post(URL, {"conversion_request": one_file(1), "idempotency_key": "k-1"}, format="json")
    assert same.status_code == 201
    assert same.json()["transaction_id"] == first.json()["transaction_id"]
    assert same.json()["amount"] == first.json()["amount"]
    assert ConversionTransaction.objects.count() == 1

    # The header path answers the same code for another body.
    header = client.post(URL, {"conversion_request": one_file(1)}, format="json", HTTP_IDEMPOTENCY_KEY="h-1")
    assert header.status_code == 201
    header_other = client.post(URL, {"conversion_request": one_file(40)}, format="json",
                               HTTP_IDEMPOTENCY_KEY="h-1")
    assert header_other.status_code == 409 and header_other.json()["code"] == "idempotency_conflict"
