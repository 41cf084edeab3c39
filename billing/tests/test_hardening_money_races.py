"""20 parallel requests at every endpoint that spends or takes something (real PostgreSQL).

Each test fires the same request from 20 threads at once, through the whole HTTP stack
(APIClient: middleware, authentication, views), and checks that exactly what one request
may spend was spent, that nobody got a 5xx, and that the ledgers agree.
"""

import uuid
from decimal import Decimal

import pytest
from django.db import connection

from accounts.models import CreditLedgerEntry
from accounts.services import anonymous_session_get_or_create, tokens_for_user
from anclora.core.tests.parallel import run_in_parallel
from billing.models import ConversionTransaction, StripeSubscription
from billing.providers import get_provider
from factories import give_credits, upload

pytestmark = pytest.mark.django_db(transaction=True)

N = 20
REQUEST = {"source_format": "png", "target_format": "jpg", "file_size_mb": 0.01, "quality": "standard"}


@pytest.fixture(autouse=True)
def _postgres_only(offline):
    if connection.vendor != "postgresql":
        pytest.skip("20 concurrent connections need real PostgreSQL: set DATABASE_URL (CI does)")


def race(call) -> list:
    """Run `call(client)` in N threads released together, each with its own APIClient; the responses."""
    from rest_framework.test import APIClient

    responses, errors = run_in_parallel(lambda: call(APIClient()), N)
    assert not errors, errors
    assert not [r for r in responses if r.status_code >= 500], [r.content for r in responses if r.status_code >= 500]
    return responses


def _bearer(user) -> str:
    return f"Bearer {tokens_for_user(user)['access_token']}"


def test_same_idempotency_key_creates_one_payment(make_user):
    session = anonymous_session_get_or_create()
    body = {"conversion_request": REQUEST, "session_id": str(session.pk), "idempotency_key": "checkout-1"}
    responses = race(lambda c: c.post("/api/payments/create-payment-intent", body, format="json"))
    assert {r.status_code for r in responses} <= {200, 201}
    assert len({r.json()["transaction_id"] for r in responses}) == 1
    assert ConversionTransaction.objects.count() == 1


def test_paying_one_transaction_twenty_times_completes_it_once(make_user):
    from gamification.models import UserReward

    user = make_user()
    auth = _bearer(user)
    tx = _create(user)
    url = f"/api/payments/transactions/{tx['transaction_id']}/pay-test"
    responses = race(lambda c: c.post(url, {"card": "visa"}, format="json", HTTP_AUTHORIZATION=auth))
    assert {r.status_code for r in responses} <= {200, 409}
    assert ConversionTransaction.objects.get(pk=tx["transaction_id"]).status == "completed"
    assert UserReward.objects.filter(user=user, action="payment").count() == 1  # points for one payment


def test_one_paid_file_converts_once(make_user, sample, no_worker):
    user = make_user()
    auth = _bearer(user)
    client = _client(auth)
    for _ in range(5):  # the month's allowance
        assert upload(client, [sample("png")], "jpg").status_code == 202
    tx = _create(user)
    assert client.post(f"/api/payments/transactions/{tx['transaction_id']}/pay-test", {"card": "visa"},
                       format="json").status_code == 200
    path = sample("png")

    def convert(c):
        c.credentials(HTTP_AUTHORIZATION=auth)
        return upload(c, [path], "jpg", transaction_id=tx["transaction_id"])

    responses = race(convert)
    assert sorted(r.status_code for r in responses) == [202] + [402] * (N - 1)


def test_points_for_one_credit_redeemed_once(make_user):
    from gamification.services import rewards_award

    user = make_user()
    rewards_award(user=user, action="admin_grant", points=100, idempotency_key="seed")
    auth = _bearer(user)
    responses = race(lambda c: c.post("/api/rewards/redeem-credits", {"points": 100}, format="json",
                                      HTTP_AUTHORIZATION=auth))
    assert sorted(r.status_code for r in responses) == [200] + [400] * (N - 1)
    user.refresh_from_db()
    assert (user.total_points, user.conversion_credits) == (0, 1)
    assert CreditLedgerEntry.objects.filter(user=user, reason="redemption").count() == 1


def test_one_credit_extends_retention_once(make_user, sample, no_worker):
    user = make_user()
    auth = _bearer(user)
    client = _client(auth)
    file_id = upload(client, [sample("png")], "jpg").json()["conversions"][0]["id"]
    from conversions.models import Conversion

    stored_id = Conversion.objects.get(pk=file_id).source_id
    give_credits(user, 1)
    url = f"/api/files/{stored_id}/extend-retention"
    responses = race(lambda c: c.post(url, {"credits": 1}, format="json", HTTP_AUTHORIZATION=auth))
    assert sorted(r.status_code for r in responses) == [200] + [400] * (N - 1)
    user.refresh_from_db()
    assert user.conversion_credits == 0
    assert CreditLedgerEntry.objects.filter(user=user, reason="retention_extension").count() == 1


def test_refund_twenty_times_refunds_once(make_user, admin_user, otp_login):
    from rest_framework.test import APIClient

    user = make_user()
    tx = _create(user)
    _client(_bearer(user)).post(f"/api/payments/transactions/{tx['transaction_id']}/pay-test", {"card": "visa"},
                                format="json")
    staff_session = otp_login(APIClient(), admin_user).cookies  # staff refunds need the second factor
    url = f"/api/payments/transactions/{tx['transaction_id']}/refund"

    def refund(c):
        c.cookies = staff_session
        return c.post(url)

    responses = race(refund)
    assert sorted(r.status_code for r in responses) == [200] + [409] * (N - 1)
    row = ConversionTransaction.objects.get(pk=tx["transaction_id"])
    assert (row.status, row.refunded_amount) == ("refunded", Decimal("0.07"))
    intent = get_provider().retrieve_intent(row.stripe_payment_intent_id)
    assert intent["amount_refunded"] == 7  # the provider refunded once, not 20 times


def test_subscribing_twenty_times_subscribes_once(make_user):
    user = make_user()
    auth = _bearer(user)
    responses = race(lambda c: c.post("/api/payments/subscribe", {"plan": "basico"}, format="json",
                                      HTTP_AUTHORIZATION=auth))
    assert sorted(r.status_code for r in responses) == [201] + [409] * (N - 1), [r.content for r in responses]
    assert StripeSubscription.objects.filter(user=user).count() == 1
    assert user.subscriptions.get(status="active").plan.slug == "basico"


def _client(auth):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=auth)
    return client


def _create(user) -> dict:
    response = _client(_bearer(user)).post("/api/payments/create-payment-intent",
                                           {"conversion_request": REQUEST, "idempotency_key": uuid.uuid4().hex},
                                           format="json")
    assert response.status_code == 201, response.content
    return response.json()
