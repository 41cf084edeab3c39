"""Payments end to end with the real stripe SDK against localstripe, and signed webhooks."""

import json
import threading
import time
import uuid
from decimal import Decimal

import pytest
import stripe
from django.db import connection
from djstripe.models import Event

from billing.models import ConversionTransaction
from billing.providers import get_provider
from factories import upload

from .conftest import WEBHOOK_SECRET, event_payload, post_webhook, sign

pytestmark = pytest.mark.django_db

REQUEST = {"source_format": "png", "target_format": "jpg", "file_size_mb": 0.01, "quality": "standard"}


def _exhaust(client, sample, n=5):
    for _ in range(n):
        assert upload(client, [sample("png")], "jpg").status_code == 202


def _create(client, **extra):
    response = client.post("/api/payments/create-payment-intent", {"conversion_request": REQUEST, **extra},
                           format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _client():
    provider = get_provider()
    return provider.client


def test_create_payment_intent_seed_shape_and_idempotency(api_client, make_user, localstripe):
    user = make_user()
    api_client.force_authenticate(user)
    body = _create(api_client, idempotency_key="retry-1")
    assert set(body) >= {"client_secret", "payment_intent_id", "transaction_id", "amount", "currency",
                         "pricing_breakdown"}
    assert body["amount"] == 0.07 and body["currency"] == "EUR"
    assert body["pricing_breakdown"] == {"base_price": 0.05, "size_multiplier": 1.0, "quality_multiplier": 1.3,
                                         "total": 0.07}
    assert body["payment_intent_id"].startswith("pi_") and body["client_secret"].startswith(body["payment_intent_id"])
    intent = _client().v1.payment_intents.retrieve(body["payment_intent_id"])
    assert intent.amount == 7 and intent.currency == "eur"
    assert intent.metadata["transaction_id"] == body["transaction_id"]
    tx = ConversionTransaction.objects.get(pk=body["transaction_id"])
    assert (tx.status, tx.amount, tx.user_id) == ("pending", Decimal("0.07"), user.pk)
    again = _create(api_client, idempotency_key="retry-1")
    assert (again["payment_intent_id"], again["transaction_id"]) == (body["payment_intent_id"],
                                                                      body["transaction_id"])
    assert ConversionTransaction.objects.count() == 1


def test_create_payment_intent_bad_input(api_client, localstripe):
    response = api_client.post("/api/payments/create-payment-intent",
                               {"conversion_request": {**REQUEST, "quality": "ultra"}}, format="json")
    assert response.status_code == 400 and "quality" in response.json()["details"]
    response = api_client.post("/api/payments/create-payment-intent", {}, format="json")
    assert response.status_code == 400 and "conversion_request" in response.json()["details"]


def test_pay_confirm_signed_webhook_releases_the_conversion(api_client, make_user, sample, no_worker, localstripe):
    events = []
    from anclora.core import events as bus

    def handler(**payload):
        events.append(payload)

    bus.subscribe("payment_succeeded", handler)
    user = make_user()
    api_client.force_authenticate(user)
    _exhaust(api_client, sample)
    refused = upload(api_client, [sample("png")], "jpg")
    assert refused.status_code == 402
    conversion_request = refused.json()["details"]["how_to_pay"]["conversion_request"]
    body = api_client.post("/api/payments/create-payment-intent", {"conversion_request": conversion_request},
                           format="json").json()
    # not paid yet: the conversion is still refused
    assert upload(api_client, [sample("png")], "jpg", transaction_id=body["transaction_id"]).status_code == 402
    client = _client()
    client.v1.payment_intents.update(body["payment_intent_id"], params={"payment_method": "pm_card_visa"})
    intent = client.v1.payment_intents.confirm(body["payment_intent_id"])
    assert intent.status == "succeeded"
    payload = event_payload("payment_intent.succeeded", intent.to_dict())
    assert post_webhook(api_client, payload).status_code == 200
    assert post_webhook(api_client, payload).json()["result"] == "duplicate"
    tx = ConversionTransaction.objects.get(pk=body["transaction_id"])
    assert tx.status == "completed"
    try:
        assert [e["transaction_id"] for e in events] == [tx.pk]
        assert events[0]["amount_eur"] == Decimal("0.07") and events[0]["user_id"] == user.pk
    finally:
        bus._subscribers["payment_succeeded"].remove(handler)
    released = upload(api_client, [sample("png")], "jpg", transaction_id=body["transaction_id"])
    assert released.status_code == 202, released.content
    assert released.json()["conversions"][0]["paid_by"] == "payment"
    assert upload(api_client, [sample("png")], "jpg", transaction_id=body["transaction_id"]).status_code == 402


def test_forged_succeeded_event_does_not_complete_an_unpaid_intent(api_client, localstripe):
    body = _create(api_client)
    fake = {"id": body["payment_intent_id"], "object": "payment_intent", "status": "succeeded", "amount": 7,
            "currency": "eur"}
    assert post_webhook(api_client, event_payload("payment_intent.succeeded", fake)).status_code == 200
    assert ConversionTransaction.objects.get(pk=body["transaction_id"]).status == "pending"  # re-read from Stripe


@pytest.mark.parametrize("case", ["bad_signature", "tampered", "stale", "missing", "wrong_secret", "garbage"])
def test_bad_webhooks_are_400_and_change_nothing(api_client, localstripe, case):
    body = _create(api_client)
    client = _client()
    client.v1.payment_intents.update(body["payment_intent_id"], params={"payment_method": "pm_card_visa"})
    intent = client.v1.payment_intents.confirm(body["payment_intent_id"]).to_dict()
    payload = event_payload("payment_intent.succeeded", intent)
    signature = sign(payload)
    if case == "bad_signature":
        signature = signature[:-4] + "0000"
    elif case == "tampered":
        payload = payload.replace(b'"livemode": false', b'"livemode": true')
    elif case == "stale":
        signature = sign(payload, timestamp=int(time.time()) - 301)
    elif case == "missing":
        signature = ""
    elif case == "wrong_secret":
        signature = sign(payload, secret="whsec_other")
    elif case == "garbage":
        payload = b"not json"
        signature = sign(payload)
    response = post_webhook(api_client, payload, signature)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_signature"
    assert Event.objects.count() == 0
    assert ConversionTransaction.objects.get(pk=body["transaction_id"]).status == "pending"


def test_declined_card_fails_the_transaction(api_client, localstripe):
    body = _create(api_client)
    client = _client()
    client.v1.payment_intents.update(body["payment_intent_id"],
                                     params={"payment_method": "pm_card_chargeCustomerFail"})
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.confirm(body["payment_intent_id"])
    intent = client.v1.payment_intents.retrieve(body["payment_intent_id"]).to_dict()
    assert post_webhook(api_client, event_payload("payment_intent.payment_failed", intent)).status_code == 200
    assert ConversionTransaction.objects.get(pk=body["transaction_id"]).status == "failed"


def test_pay_test_card_endpoint_decline_and_success(api_client, localstripe):
    body = _create(api_client)
    session = {"session_id": body["session_id"]}
    url = f"/api/payments/transactions/{body['transaction_id']}/pay-test"
    response = api_client.post(url, {"card": "decline", **session}, format="json")
    assert response.status_code == 402
    assert ConversionTransaction.objects.get(pk=body["transaction_id"]).status == "failed"
    assert api_client.post(url, {"card": "visa", **session}, format="json").status_code == 409  # make a new one
    body = _create(api_client, **session)
    url = f"/api/payments/transactions/{body['transaction_id']}/pay-test"
    response = api_client.post(url, {"card": "visa", **session}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "completed"


def test_out_of_order_failed_after_succeeded_stays_completed(api_client, localstripe):
    body = _create(api_client)
    client = _client()
    client.v1.payment_intents.update(body["payment_intent_id"], params={"payment_method": "pm_card_visa"})
    intent = client.v1.payment_intents.confirm(body["payment_intent_id"]).to_dict()
    stale_failure = {**intent, "status": "requires_payment_method"}
    post_webhook(api_client, event_payload("payment_intent.succeeded", intent))
    post_webhook(api_client, event_payload("payment_intent.payment_failed", stale_failure))
    assert ConversionTransaction.objects.get(pk=body["transaction_id"]).status == "completed"
    # and the other way round: the failure arrives first, the success later
    other = _create(api_client)
    client.v1.payment_intents.update(other["payment_intent_id"], params={"payment_method": "pm_card_visa"})
    intent = client.v1.payment_intents.confirm(other["payment_intent_id"]).to_dict()
    post_webhook(api_client, event_payload("payment_intent.payment_failed", {**intent, "status": "x"}))
    assert ConversionTransaction.objects.get(pk=other["transaction_id"]).status == "completed"


def _completed(api_client):
    body = _create(api_client)
    client = _client()
    client.v1.payment_intents.update(body["payment_intent_id"], params={"payment_method": "pm_card_visa"})
    intent = client.v1.payment_intents.confirm(body["payment_intent_id"]).to_dict()
    post_webhook(api_client, event_payload("payment_intent.succeeded", intent))
    return body, intent


def test_refund_twice_refunds_once(api_client, localstripe, admin_user, otp_login):
    body, intent = _completed(api_client)
    url = f"/api/payments/transactions/{body['transaction_id']}/refund"
    assert api_client.post(url).status_code in (401, 403)
    password_only = type(api_client)()
    password_only.force_authenticate(admin_user)  # a staff JWT without the second factor
    assert password_only.post(url).status_code == 403
    staff = otp_login(type(api_client)(), admin_user)
    first = staff.post(url)
    assert first.status_code == 200, first.content
    assert first.json()["status"] == "refunded" and first.json()["refunded_amount"] == 0.07
    second = staff.post(url)
    assert second.status_code == 409 and second.json()["code"] == "already_refunded"
    refunds = _client().v1.refunds.list(params={"payment_intent": body["payment_intent_id"]})
    assert len([r for r in refunds.data if r.payment_intent == body["payment_intent_id"]]) == 1
    # Stripe's charge.refunded afterwards (even claiming more) never exceeds what was paid
    charge = {**intent["latest_charge"], "amount_refunded": 5000, "refunded": True} \
        if isinstance(intent.get("latest_charge"), dict) else {"payment_intent": body["payment_intent_id"],
                                                               "amount_refunded": 5000}
    charge["payment_intent"] = body["payment_intent_id"]
    assert post_webhook(api_client, event_payload("charge.refunded", charge)).status_code == 200
    tx = ConversionTransaction.objects.get(pk=body["transaction_id"])
    assert (tx.status, tx.refunded_amount) == ("refunded", Decimal("0.07"))
    # a refunded payment no longer pays for a conversion
    assert not ConversionTransaction.objects.filter(pk=tx.pk, status="completed").exists()


def test_charge_refunded_webhook_marks_refunded(api_client, localstripe):
    """A refund made at the provider (e.g. from Stripe's dashboard) reaches us as charge.refunded."""
    body, intent = _completed(api_client)
    charge_id = _charge_id(intent)
    _client().v1.refunds.create(params={"payment_intent": body["payment_intent_id"], "amount": 7})
    # the event's own numbers are ignored: what counts is the charge re-read from the provider
    charge = {"id": charge_id, "object": "charge", "payment_intent": body["payment_intent_id"], "amount_refunded": 1}
    assert post_webhook(api_client, event_payload("charge.refunded", charge)).status_code == 200
    tx = ConversionTransaction.objects.get(pk=body["transaction_id"])
    assert (tx.status, tx.refunded_amount) == ("refunded", Decimal("0.07"))
    # a late succeeded event does not bring it back to completed
    intent = _client().v1.payment_intents.retrieve(body["payment_intent_id"]).to_dict()
    post_webhook(api_client, event_payload("payment_intent.succeeded", intent))
    assert ConversionTransaction.objects.get(pk=body["transaction_id"]).status == "refunded"


def _charge_id(intent: dict) -> str:
    latest = intent.get("latest_charge")
    return latest["id"] if isinstance(latest, dict) else latest


def test_transactions_list_is_the_callers(api_client, make_user, localstripe):
    me, other = make_user(), make_user()
    api_client.force_authenticate(other)
    _create(api_client)
    api_client.force_authenticate(me)
    mine = _create(api_client)
    body = api_client.get("/api/payments/transactions").json()
    assert [t["id"] for t in body["results"]] == [mine["transaction_id"]]
    other_id = ConversionTransaction.objects.exclude(pk=mine["transaction_id"]).get().pk
    assert api_client.get(f"/api/payments/transactions/{other_id}").status_code == 404


def test_subscribe_pro_through_localstripe_lifts_the_limit(api_client, make_user, sample, no_worker, localstripe):
    user = make_user()
    api_client.force_authenticate(user)
    _exhaust(api_client, sample)
    assert upload(api_client, [sample("png")], "jpg").status_code == 402
    response = api_client.post("/api/payments/subscribe", {"plan": "pro"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "active"
    sub_id = response.json()["stripe_subscription_id"]
    stripe_sub = _client().v1.subscriptions.retrieve(sub_id)
    assert stripe_sub.status == "active" and stripe_sub["items"].data[0].plan.amount == 1499
    assert user.subscriptions.get(status="active").plan.slug == "pro"
    assert upload(api_client, [sample("png")], "jpg").status_code == 202
    plans = api_client.get("/api/payments/plans").json()["plans"]
    assert [p["slug"] for p in plans if p["current"]] == ["pro"]
    cancel = api_client.post("/api/payments/subscription/cancel")
    assert cancel.status_code == 200 and cancel.json()["cancel_at_period_end"] is True
    assert _client().v1.subscriptions.retrieve(sub_id).cancel_at_period_end is True
    assert user.subscriptions.get(status="active").plan.slug == "pro"  # until the period ends
    from billing.services import subscription_periods_roll

    later = user.subscriptions.get(status="active").current_period_end
    subscription_periods_roll(now=later)
    assert user.subscriptions.get(status="active").plan.slug == "gratuito"


@pytest.mark.django_db(transaction=True)
def test_same_event_concurrently_has_one_effect(api_client, localstripe):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent webhook deliveries need real Postgres (set DATABASE_URL); SQLite serialises writes")
    from anclora.core import events as bus
    from billing import services

    seen = []

    def handler(**payload):
        seen.append(payload["transaction_id"])

    bus.subscribe("payment_succeeded", handler)
    try:
        body, intent = _completed_without_webhook(api_client)
        payload = event_payload("payment_intent.succeeded", intent)
        signature = sign(payload)
        results = []
        barrier = threading.Barrier(8)

        def deliver():
            from django.db import connection as conn

            try:
                barrier.wait()
                results.append(services.webhook_receive(payload=payload, signature=signature))
            finally:
                conn.close()

        threads = [threading.Thread(target=deliver) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results).count("duplicate") == 7
        assert Event.objects.count() == 1
        assert seen == [uuid.UUID(body["transaction_id"])]
    finally:
        bus._subscribers["payment_succeeded"].remove(handler)


def _completed_without_webhook(api_client):
    body = _create(api_client)
    client = _client()
    client.v1.payment_intents.update(body["payment_intent_id"], params={"payment_method": "pm_card_visa"})
    intent = client.v1.payment_intents.confirm(body["payment_intent_id"]).to_dict()
    return body, intent


@pytest.mark.django_db(transaction=True)
def test_webhook_delivered_by_localstripe_to_the_live_server(live_server, localstripe, sample, no_worker):
    if connection.vendor != "postgresql":
        pytest.skip("a live server with an in-memory SQLite test database locks; runs on Postgres (CI)")
    import urllib.request

    name = f"anclora{uuid.uuid4().hex[:8]}"
    data = f"url={live_server.url}/api/payments/webhook&secret={WEBHOOK_SECRET}".encode()
    request = urllib.request.Request(f"{localstripe}/_config/webhooks/{name}", data=data, method="POST")
    request.add_header("Authorization", "Bearer sk_test_x")
    urllib.request.urlopen(request, timeout=5).read()
    from rest_framework.test import APIClient

    api_client = APIClient()
    body = _create(api_client)
    client = _client()
    client.v1.payment_intents.update(body["payment_intent_id"], params={"payment_method": "pm_card_visa"})
    client.v1.payment_intents.confirm(body["payment_intent_id"])
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if ConversionTransaction.objects.get(pk=body["transaction_id"]).status == "completed":
            break
        time.sleep(0.2)
    tx = ConversionTransaction.objects.get(pk=body["transaction_id"])
    assert tx.status == "completed"
    # dj-stripe stored the event and its re-read copy of the PaymentIntent
    event = Event.objects.get(type="payment_intent.succeeded", data__object__id=body["payment_intent_id"])
    assert json.dumps(event.data)
    from djstripe.models import PaymentIntent

    assert PaymentIntent.objects.get(id=body["payment_intent_id"]).stripe_data["status"] == "succeeded"


def test_payments_are_stored_and_synced_by_djstripe(api_client, localstripe, admin_user, otp_login):
    """Our transaction is linked to dj-stripe's copy of the PaymentIntent; a refund syncs Charge and Refund."""
    from djstripe.models import Charge, PaymentIntent, Refund

    body, intent = _completed(api_client)
    tx = ConversionTransaction.objects.get(pk=body["transaction_id"])
    assert tx.djstripe_payment_intent == PaymentIntent.objects.get(id=body["payment_intent_id"])
    assert tx.djstripe_payment_intent.stripe_data["status"] == "succeeded"
    assert Event.objects.filter(type="payment_intent.succeeded").count() == 1
    staff = otp_login(type(api_client)(), admin_user)
    assert staff.post(f"/api/payments/transactions/{tx.pk}/refund").status_code == 200
    charge = Charge.objects.get(id=_charge_id(intent))
    assert charge.stripe_data["amount_refunded"] == 7
    assert Refund.objects.filter(stripe_data__payment_intent=body["payment_intent_id"]).count() == 1
