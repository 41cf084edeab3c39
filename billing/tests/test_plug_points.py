"""billing's plug points: providers hand back their own events; the authorizer's checkout for pages."""

import uuid

import pytest

from accounts.owners import Owner
from anclora.core.errors import ApplicationError
from billing.entitlements import EntitlementAuthorizer
from billing.providers import OfflineTestProvider, ProviderError
from conversions.authorization import PlanAllowanceAuthorizer
from factories import UserFactory


def _intent(provider):
    return provider.create_intent(amount_cents=150, currency="EUR", metadata={}, idempotency_key=uuid.uuid4().hex)


def test_offline_provider_returns_the_events_it_produces_instead_of_applying_them():
    provider = OfflineTestProvider()
    intent = provider.confirm_test_card(_intent(provider)["id"])
    events = provider.events_take()
    assert [(e["type"], e["data"]["object"]["id"], e["data"]["object"]["status"]) for e in events] == [
        ("payment_intent.succeeded", intent["id"], "succeeded")]
    assert provider.events_take() == []


def test_offline_provider_decline_raises_and_still_hands_back_the_failure_event():
    provider = OfflineTestProvider()
    intent_id = _intent(provider)["id"]
    with pytest.raises(ProviderError):
        provider.confirm_test_card(intent_id, card="decline")
    assert [e["type"] for e in provider.events_take()] == ["payment_intent.payment_failed"]


@pytest.mark.django_db
def test_checkout_url_only_for_a_refusal_that_says_how_to_pay():
    owner = Owner(user=UserFactory())
    too_big = ApplicationError("too big", code="file_too_large", status=413)
    bare_402 = ApplicationError("pay", code="payment_required", status=402, details={"files": []})
    assert EntitlementAuthorizer().checkout_url(owner=owner, refusal=too_big) is None
    assert EntitlementAuthorizer().checkout_url(owner=owner, refusal=bare_402) is None
    assert PlanAllowanceAuthorizer().checkout_url(owner=owner, refusal=bare_402) is None
