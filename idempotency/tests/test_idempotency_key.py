"""Idempotency-Key on creating conversions and payments: once per caller and key."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import anonymous_session_get_or_create, tokens_for_user
from anclora.core.tests.parallel import run_in_parallel
from billing.models import ConversionTransaction
from conversions.models import Conversion
from factories import upload
from idempotency.models import IdempotencyRecord

REQUEST = {"source_format": "png", "target_format": "jpg", "file_size_mb": 0.01, "quality": "standard"}
PAY = "/api/payments/create-payment-intent"


@pytest.fixture(autouse=True)
def _offline_payments(settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_API_BASE = ""


def _client(user=None, key=None) -> APIClient:
    client = APIClient()
    headers = {}
    if user is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {tokens_for_user(user)['access_token']}"
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    client.credentials(**headers)
    return client


# --- conversions --------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_convert_same_key_same_body_answers_the_same_response_once(make_user, sample, no_worker):
    user = make_user()
    client = _client(user, key="convert-1")
    path = sample("png")
    first = upload(client, [path], "jpg")
    assert first.status_code == 202, first.content
    again = upload(client, [path], "jpg")
    assert again.status_code == 202 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Conversion.objects.count() == 1


@pytest.mark.django_db
def test_convert_same_key_other_body_is_409(make_user, sample, no_worker):
    user = make_user()
    client = _client(user, key="convert-2")
    assert upload(client, [sample("png")], "jpg").status_code == 202
    other_target = upload(client, [sample("png")], "webp")
    assert other_target.status_code == 409 and other_target.json()["code"] == "idempotency_conflict"
    other_file = upload(client, [sample("bmp", "sample-0.png")], "jpg")  # same name, other bytes
    assert other_file.status_code == 409
    assert Conversion.objects.count() == 1


@pytest.mark.django_db
def test_keys_are_scoped_to_the_caller(make_user, sample, no_worker):
    path = sample("png")
    a, b = make_user(), make_user()
    assert upload(_client(a, key="shared"), [path], "jpg").status_code == 202
    resp = upload(_client(b, key="shared"), [path], "jpg")
    assert resp.status_code == 202
    assert "Idempotent-Replayed" not in resp
    assert Conversion.objects.filter(user=b).count() == 1


@pytest.mark.django_db
def test_anonymous_session_scope_and_unknown_caller(sample, no_worker):
    session = anonymous_session_get_or_create()
    client = _client(key="anon-1")
    path = sample("png")
    first = upload(client, [path], "jpg", session_id=str(session.pk))
    again = upload(client, [path], "jpg", session_id=str(session.pk))
    assert first.status_code == again.status_code == 202 and first.json() == again.json()
    assert Conversion.objects.count() == 1
    nobody = upload(client, [path], "jpg")
    assert nobody.status_code == 400 and nobody.json()["code"] == "idempotency_caller_unknown"


@pytest.mark.django_db
def test_a_failed_request_is_not_stored(make_user, sample, no_worker):
    client = _client(make_user(), key="retry-me")
    path = sample("png")
    assert upload(client, [path], "nope").status_code == 400
    assert not IdempotencyRecord.objects.exists()
    assert upload(client, [path], "nope").status_code == 400  # done again, not replayed


@pytest.mark.django_db
def test_invalid_keys_are_400(make_user):
    for bad in ("", "x" * 256, "con espacio"):
        resp = _client(make_user(), key=bad).post(PAY, {"conversion_request": REQUEST}, format="json")
        assert resp.status_code == 400 and resp.json()["code"] == "invalid_idempotency_key"


@pytest.mark.django_db
def test_keys_expire_after_24_hours(make_user, sample, no_worker):
    from idempotency.services import idempotency_records_purge

    client = _client(make_user(), key="daily")
    path = sample("png")
    assert upload(client, [path], "jpg").status_code == 202
    IdempotencyRecord.objects.update(created=timezone.now() - timedelta(hours=25))
    assert upload(client, [path], "jpg").status_code == 202  # a new request: the old key expired
    assert Conversion.objects.count() == 2
    IdempotencyRecord.objects.update(created=timezone.now() - timedelta(hours=25))
    assert idempotency_records_purge() == 1 and not IdempotencyRecord.objects.exists()


# --- payments -----------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_payment_same_key_same_body_one_transaction(make_user):
    client = _client(make_user(), key="pay-1")
    first = client.post(PAY, {"conversion_request": REQUEST}, format="json")
    assert first.status_code == 201, first.content
    again = client.post(PAY, {"conversion_request": REQUEST}, format="json")
    assert again.status_code == 201 and again.json() == first.json()
    assert ConversionTransaction.objects.count() == 1
    other = client.post(PAY, {"conversion_request": {**REQUEST, "quality": "high"}}, format="json")
    assert other.status_code == 409 and other.json()["code"] == "idempotency_conflict"
    assert ConversionTransaction.objects.count() == 1


@pytest.mark.django_db
def test_body_idempotency_key_still_works_without_the_header(make_user):
    client = _client(make_user())
    body = {"conversion_request": REQUEST, "idempotency_key": "body-key"}
    first = client.post(PAY, body, format="json").json()
    assert client.post(PAY, body, format="json").json()["transaction_id"] == first["transaction_id"]
    assert ConversionTransaction.objects.count() == 1


# --- races (real PostgreSQL) --------------------------------------------------------------------------
@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("parallel connections need real PostgreSQL: set DATABASE_URL (CI does)")


@pytest.mark.django_db(transaction=True)
def test_ten_parallel_converts_with_one_key_create_one(postgres_only, make_user, sample, no_worker):
    user = make_user()
    path = sample("png")
    responses, errors = run_in_parallel(lambda: upload(_client(user, key="race-convert"), [path], "jpg"), 10)
    assert not errors, errors
    codes = sorted(r.status_code for r in responses)
    assert all(c in (202, 409) for c in codes), codes
    assert Conversion.objects.count() == 1
    ids = {r.json()["conversions"][0]["id"] for r in responses if r.status_code == 202}
    assert len(ids) == 1
    busy = [r.json()["code"] for r in responses if r.status_code == 409]
    assert set(busy) <= {"idempotency_in_progress"}


@pytest.mark.django_db(transaction=True)
def test_ten_parallel_payments_with_one_key_create_one(postgres_only, make_user):
    user = make_user()
    responses, errors = run_in_parallel(
        lambda: _client(user, key="race-pay").post(PAY, {"conversion_request": REQUEST}, format="json"), 10)
    assert not errors, errors
    assert all(r.status_code in (201, 409) for r in responses), [r.content for r in responses]
    assert ConversionTransaction.objects.count() == 1
    assert len({r.json()["transaction_id"] for r in responses if r.status_code == 201}) == 1
