"""Abuse limits per client address: the free anonymous allowance, new anonymous sessions, sign-ups."""

import uuid

import pytest
from django.test import Client
from rest_framework.test import APIClient

from billing.models import AnonymousAllowanceUse, ConversionCharge
from conversions.models import Conversion
from conversions.services import conversion_fail
from factories import upload

pytestmark = pytest.mark.django_db

HOME = "203.0.113.7"
OTHER = "198.51.100.20"
PASSWORD = "Secreta123!"


def _anonymous(address=HOME, **extra):
    return APIClient(REMOTE_ADDR=address, **extra)


def _convert_without_session(sample, address=HOME, **extra):
    """A fresh caller each time: no session_id, so the API opens a new anonymous session."""
    return upload(_anonymous(address, **extra), [sample("png")], "jpg")


def test_new_sessions_from_one_address_share_the_free_allowance(sample, no_worker):
    statuses = [_convert_without_session(sample).status_code for _ in range(7)]
    assert statuses == [202] * 5 + [402] * 2
    assert Conversion.objects.count() == 5
    assert len({c.session_id for c in Conversion.objects.all()}) == 5  # five sessions, one allowance
    refused = _convert_without_session(sample)
    body = refused.json()
    assert body["code"] == "payment_required"
    assert body["details"]["estimated_price"] > 0 and body["details"]["currency"] == "EUR"
    assert body["details"]["how_to_pay"]["create_payment_intent"] == "/api/payments/create-payment-intent"
    assert body["details"]["allowance"]["per_address"] == 5
    assert "crear una cuenta" in body["error"]
    # a session that still has its own allowance is bound by the address too
    session_id = Conversion.objects.first().session_id
    again = upload(_anonymous(), [sample("png")], "jpg", session_id=str(session_id))
    assert again.status_code == 402
    # and an invented session_id does not reopen it either
    assert upload(_anonymous(), [sample("png")], "jpg", session_id=str(uuid.uuid4())).status_code == 402


def test_another_address_keeps_its_own_allowance(sample, no_worker):
    for _ in range(5):
        assert _convert_without_session(sample).status_code == 202
    assert _convert_without_session(sample).status_code == 402
    assert _convert_without_session(sample, OTHER).status_code == 202


def test_a_logged_in_user_is_not_affected(sample, no_worker, make_user):
    for _ in range(5):
        assert _convert_without_session(sample).status_code == 202
    client = _anonymous()
    client.force_authenticate(make_user())
    for _ in range(5):
        response = upload(client, [sample("png")], "jpg")
        assert response.status_code == 202 and response.json()["conversions"][0]["paid_by"] == "allowance"


def test_one_session_keeps_its_own_limit_of_five(sample, no_worker, settings):
    settings.ANONYMOUS_FREE_CONVERSIONS_PER_ADDRESS = 50
    first = _convert_without_session(sample)
    session_id = first.json()["session_id"]
    for _ in range(4):
        assert upload(_anonymous(), [sample("png")], "jpg", session_id=session_id).status_code == 202
    assert upload(_anonymous(), [sample("png")], "jpg", session_id=session_id).status_code == 402
    assert _convert_without_session(sample).status_code == 202  # a new session, the address has room


def test_a_batch_is_bounded_by_what_the_address_has_left(sample, no_worker):
    for _ in range(3):
        assert _convert_without_session(sample).status_code == 202
    response = upload(_anonymous(), [sample("png"), sample("png"), sample("png")], "jpg")
    assert response.status_code == 402
    files = response.json()["details"]["files"]
    assert [f["paid_by"] for f in files] == ["allowance", "allowance", "payment"]


def test_a_failed_conversion_gives_the_address_slot_back(sample, no_worker):
    for _ in range(5):
        assert _convert_without_session(sample).status_code == 202
    assert AnonymousAllowanceUse.objects.get().count == 5
    conversion_fail(conversion_id=Conversion.objects.first().pk, code="engine_error", message="roto")
    assert AnonymousAllowanceUse.objects.get().count == 4
    assert ConversionCharge.objects.filter(refunded=True).count() == 1
    assert _convert_without_session(sample).status_code == 202
    assert _convert_without_session(sample).status_code == 402


def test_the_address_is_stored_only_as_an_hmac(sample, no_worker):
    _convert_without_session(sample)
    row = AnonymousAllowanceUse.objects.get()
    assert len(row.address_hash) == 64 and HOME not in row.address_hash
    assert row.month.day == 1


def test_ipv6_counts_by_its_64_network(sample, no_worker):
    for n in range(5):
        assert _convert_without_session(sample, f"2001:db8:1:2::{n + 1}").status_code == 202
    assert _convert_without_session(sample, "2001:db8:1:2:ffff::9").status_code == 402
    assert _convert_without_session(sample, "2001:db8:1:3::1").status_code == 202


def test_the_trusted_proxy_address_is_used(sample, no_worker, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(5):
        assert _convert_without_session(sample, "10.0.0.1", HTTP_X_FORWARDED_FOR=HOME).status_code == 202
    # another client behind the same proxy is another address; a forged hop in front changes nothing
    assert _convert_without_session(sample, "10.0.0.1", HTTP_X_FORWARDED_FOR=OTHER).status_code == 202
    forged = _convert_without_session(sample, "10.0.0.1", HTTP_X_FORWARDED_FOR=f"{OTHER}, {HOME}")
    assert forged.status_code == 402


def test_new_anonymous_sessions_per_address_are_capped(sample, no_worker, settings):
    settings.ANONYMOUS_SESSIONS_PER_ADDRESS_HOUR = 3
    settings.ANONYMOUS_FREE_CONVERSIONS_PER_ADDRESS = 50
    assert [_convert_without_session(sample).status_code for _ in range(3)] == [202] * 3
    refused = _convert_without_session(sample)
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert refused.json()["code"] == "too_many_sessions"
    # an invented session_id would open a new session: counted the same way
    assert upload(_anonymous(), [sample("png")], "jpg", session_id=str(uuid.uuid4())).status_code == 429
    # a known session keeps working, and so does another address
    known = Conversion.objects.first().session_id
    assert upload(_anonymous(), [sample("png")], "jpg", session_id=str(known)).status_code == 202
    assert _convert_without_session(sample, OTHER).status_code == 202


def _register(client, n):
    return client.post("/api/auth/register", {"email": f"nuevo{n}@example.com", "password": PASSWORD},
                       format="json")


def test_sign_ups_per_address_are_throttled_on_the_api():
    client = _anonymous()
    assert [_register(client, n).status_code for n in range(5)] == [201] * 5
    refused = _register(client, 5)
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert refused.json()["code"] == "too_many_signups"
    assert _register(_anonymous(OTHER), 6).status_code == 201


def test_a_failed_sign_up_does_not_use_a_slot():
    client = _anonymous()
    for n in range(3):
        bad = client.post("/api/auth/register", {"email": f"malo{n}@example.com", "password": "corta"}, format="json")
        assert bad.status_code == 400
    assert _register(client, 0).status_code == 201
    assert _register(client, 0).status_code == 409  # already exists: no slot taken either
    assert [_register(client, n).status_code for n in range(1, 5)] == [201] * 4
    assert _register(client, 5).status_code == 429


def test_sign_ups_per_address_are_throttled_on_the_page():
    for n in range(5):
        page = Client(REMOTE_ADDR=HOME)
        resp = page.post("/signup/", {"email": f"web{n}@example.com", "password": PASSWORD,
                                      "first_name": "", "last_name": ""})
        assert resp.status_code == 302, resp.content.decode()[:2000]
    page = Client(REMOTE_ADDR=HOME)
    resp = page.post("/signup/", {"email": "web5@example.com", "password": PASSWORD,
                                  "first_name": "", "last_name": ""})
    assert resp.status_code == 429
    assert "Demasiadas cuentas creadas desde esta dirección" in resp.content.decode()


def test_the_home_page_still_renders_for_cookie_less_visitors(settings):
    settings.ANONYMOUS_SESSIONS_PER_ADDRESS_HOUR = 2
    assert [Client(REMOTE_ADDR=HOME).get("/").status_code for _ in range(4)] == [200] * 4
