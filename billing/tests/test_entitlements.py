"""Who pays: allowance, then credit (if asked), then a payment; 402 otherwise. Through the real convert API."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from accounts.models import SubscriptionPlan
from accounts.services import subscription_start
from billing.models import ConversionCharge
from conversions.models import Conversion
from conversions.services import conversion_cancel, conversion_fail
from factories import TransactionFactory, give_credits, upload

pytestmark = pytest.mark.django_db


def _use_allowance(client, sample, n=5, **extra):
    for _ in range(n):
        response = upload(client, [sample("png")], "jpg", **extra)
        assert response.status_code == 202, response.content
        assert response.json()["conversions"][0]["paid_by"] == "allowance"


def _paid_transaction(owner_fields, *, fmt=("png", "jpg"), size="0.01", quality="standard", status="completed"):
    """A payment for one file (with its item) of this owner ({"user": ...} or {"user": None, "session": ...})."""
    return TransactionFactory(**{"user": None, **owner_fields}, amount=Decimal("0.07"), status=status,
                              source_format=fmt[0], target_format=fmt[1], file_size_mb=Decimal(size), quality=quality)


def test_sixth_conversion_on_gratuito_asks_for_payment(api_client, make_user, sample, no_worker):
    user = make_user()
    api_client.force_authenticate(user)
    _use_allowance(api_client, sample)
    response = upload(api_client, [sample("png")], "jpg")
    assert response.status_code == 402, response.content
    body = response.json()
    assert body["code"] == "payment_required"
    details = body["details"]
    assert details["currency"] == "EUR"
    assert details["estimated_price"] == 0.07
    assert details["breakdown"]["conversion_type"] == "image_to_image"
    how = details["how_to_pay"]
    assert how["create_payment_intent"] == "/api/payments/create-payment-intent"
    assert how["conversion_request"]["source_format"] == "png"
    assert how["conversion_request"]["target_format"] == "jpg"
    assert how["conversion_request"]["quality"] == "standard"
    assert how["use_credit"] is False
    assert details["allowance"] == {"plan": "gratuito", "limit": 5, "used": 5}
    assert Conversion.objects.filter(user=user).count() == 5  # nothing stored for the refused one


def test_credit_pays_when_asked_and_only_then(api_client, make_user, sample, no_worker):
    user = make_user()
    give_credits(user, 1)
    api_client.force_authenticate(user)
    _use_allowance(api_client, sample)
    assert upload(api_client, [sample("png")], "jpg").status_code == 402  # credit not asked for
    response = upload(api_client, [sample("png")], "jpg", use_credit="true")
    assert response.status_code == 202, response.content
    (item,) = response.json()["conversions"]
    assert item["paid_by"] == "credit"
    user.refresh_from_db()
    assert user.conversion_credits == 0
    conversion = Conversion.objects.get(pk=item["id"])
    assert conversion.priority is True
    assert conversion.charge.kind == "credit"
    response = upload(api_client, [sample("png")], "jpg", use_credit="true")
    assert response.status_code == 402
    assert response.json()["details"]["how_to_pay"]["use_credit"] is False


def test_allowance_is_used_before_a_credit(api_client, make_user, sample, no_worker):
    user = make_user()
    give_credits(user, 3)
    api_client.force_authenticate(user)
    response = upload(api_client, [sample("png")], "jpg", use_credit="true")
    assert response.json()["conversions"][0]["paid_by"] == "allowance"
    user.refresh_from_db()
    assert user.conversion_credits == 3


def test_completed_payment_for_exactly_this_conversion(api_client, make_user, sample, no_worker):
    user = make_user()
    api_client.force_authenticate(user)
    _use_allowance(api_client, sample)
    wrong_pair = _paid_transaction({"user": user}, fmt=("png", "webp"))
    wrong_quality = _paid_transaction({"user": user}, quality="high")
    pending = _paid_transaction({"user": user}, status="pending")
    other_user = _paid_transaction({"user": make_user()})
    for tx in (wrong_pair, wrong_quality, pending, other_user):
        response = upload(api_client, [sample("png")], "jpg", transaction_id=str(tx.pk))
        assert response.status_code == 402, tx
        assert "transaction_id" in response.json()["details"]
    good = _paid_transaction({"user": user})
    response = upload(api_client, [sample("png")], "jpg", transaction_id=str(good.pk))
    assert response.status_code == 202, response.content
    (item,) = response.json()["conversions"]
    assert item["paid_by"] == "payment"
    good.refresh_from_db()
    assert str(good.consumed_by_id) == item["id"]
    # used once only
    assert upload(api_client, [sample("png")], "jpg", transaction_id=str(good.pk)).status_code == 402


def test_paid_size_tier_must_cover_the_file(api_client, make_user, sample, no_worker, settings):
    from billing import entitlements
    from conversions.authorization import PlannedConversion

    user = make_user()
    tx = _paid_transaction({"user": user}, size="10")
    small = PlannedConversion("png", "jpg", 10 * 1024 * 1024, "standard")
    medium = PlannedConversion("png", "jpg", 10 * 1024 * 1024 + 20000, "standard")
    assert entitlements._matches(tx, small)
    assert not entitlements._matches(tx, medium)


def test_batch_takes_one_entitlement_per_file(api_client, make_user, sample, no_worker):
    user = make_user()
    give_credits(user, 1)
    api_client.force_authenticate(user)
    _use_allowance(api_client, sample, n=3)
    tx = _paid_transaction({"user": user})
    response = upload(api_client, [sample("png") for _ in range(4)], "jpg", use_credit="true",
                      transaction_id=str(tx.pk))
    assert response.status_code == 202, response.content
    assert [c["paid_by"] for c in response.json()["conversions"]] == ["allowance", "allowance", "credit", "payment"]
    # one file more than what is available: nothing is consumed
    give_credits(user, 1)
    response = upload(api_client, [sample("png"), sample("png")], "jpg", use_credit="true")
    assert response.status_code == 402
    user.refresh_from_db()
    assert user.conversion_credits == 1


def test_failed_or_cancelled_conversion_gives_back_once(api_client, make_user, sample, no_worker):
    user = make_user()
    give_credits(user, 1)
    api_client.force_authenticate(user)
    _use_allowance(api_client, sample)
    allowance_conv = Conversion.objects.filter(user=user).first()
    conversion_fail(conversion_id=allowance_conv.pk, message="boom")
    conversion_fail(conversion_id=allowance_conv.pk, message="boom again")  # no second give-back
    assert ConversionCharge.objects.filter(conversion__user=user, refunded=True).count() == 1
    # the allowance slot is free again
    response = upload(api_client, [sample("png")], "jpg")
    assert response.json()["conversions"][0]["paid_by"] == "allowance"
    # credit: cancel gives it back
    credit_conv = Conversion.objects.get(pk=upload(api_client, [sample("png")], "jpg",
                                                   use_credit="true").json()["conversions"][0]["id"])
    conversion_cancel(conversion=credit_conv)
    user.refresh_from_db()
    assert user.conversion_credits == 1
    # payment: the transaction becomes reusable (not refunded)
    tx = _paid_transaction({"user": user})
    paid = Conversion.objects.get(pk=upload(api_client, [sample("png")], "jpg",
                                            transaction_id=str(tx.pk)).json()["conversions"][0]["id"])
    conversion_fail(conversion_id=paid.pk, message="engine broke")
    tx.refresh_from_db()
    assert tx.consumed_by_id is None and tx.status == "completed"
    again = upload(api_client, [sample("png")], "jpg", transaction_id=str(tx.pk))
    assert again.status_code == 202 and again.json()["conversions"][0]["paid_by"] == "payment"


def test_allowance_resets_with_the_period(api_client, make_user, sample, no_worker):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        user = make_user()
        api_client.force_authenticate(user)
        _use_allowance(api_client, sample)
        assert upload(api_client, [sample("png")], "jpg").status_code == 402
    with time_machine.travel(start + timedelta(days=29), tick=False):
        assert upload(api_client, [sample("png")], "jpg").status_code == 402
    with time_machine.travel(start + timedelta(days=30, minutes=1), tick=False):
        response = upload(api_client, [sample("png")], "jpg")
        assert response.status_code == 202, response.content
        sub = user.subscriptions.get(status="active")
        assert sub.current_period_start <= timezone.now() < sub.current_period_end


def test_daily_task_rolls_ended_periods(make_user):
    from billing.services import subscription_periods_roll

    user = make_user()
    sub = user.subscriptions.get(status="active")
    later = sub.current_period_end + timedelta(days=45)
    assert subscription_periods_roll(now=later) == 1
    sub.refresh_from_db()
    assert sub.current_period_start <= later < sub.current_period_end
    assert subscription_periods_roll(now=later) == 0


def test_pro_is_unlimited_and_enterprise_has_priority(api_client, make_user, sample, no_worker):
    user = make_user()
    subscription_start(user=user, plan=SubscriptionPlan.objects.get(slug="pro"))
    api_client.force_authenticate(user)
    _use_allowance(api_client, sample, n=7)
    assert not Conversion.objects.filter(user=user, priority=True).exists()
    subscription_start(user=user, plan=SubscriptionPlan.objects.get(slug="enterprise"))
    response = upload(api_client, [sample("png")], "jpg")
    assert Conversion.objects.get(pk=response.json()["conversions"][0]["id"]).priority is True


def test_anonymous_sessions_get_gratuito_per_session(api_client, sample, no_worker):
    first = upload(api_client, [sample("png")], "jpg")
    session_id = first.json()["session_id"]
    _use_allowance(api_client, sample, n=4, session_id=session_id)
    response = upload(api_client, [sample("png")], "jpg", session_id=session_id)
    assert response.status_code == 402
    assert response.json()["details"]["how_to_pay"]["conversion_credits"] == 0
    # another session starts with its own allowance, but from the same address the month's free
    # conversions are spent (they are bounded per address too: test_abuse_limits.py)
    from rest_framework.test import APIClient

    assert upload(APIClient(), [sample("png")], "jpg").status_code == 402
    assert upload(APIClient(REMOTE_ADDR="198.51.100.9"), [sample("png")], "jpg").status_code == 202


def test_limits_allow_bigger_files_with_a_credit(make_user, settings):
    from accounts.owners import Owner
    from billing.entitlements import EntitlementAuthorizer

    user = make_user()
    authorizer = EntitlementAuthorizer()
    assert authorizer.limits(owner=Owner(user=user)).max_size_mb == 50
    assert authorizer.limits(owner=Owner(user=user), use_credit=True).max_size_mb == 50  # no credits
    give_credits(user, 1)
    limits = authorizer.limits(owner=Owner(user=user), use_credit=True)
    assert (limits.max_size_mb, limits.priority) == (settings.MAX_UPLOAD_MB, True)


def test_entitlement_endpoint(api_client, make_user, sample, no_worker):
    user = make_user()
    give_credits(user, 2)
    api_client.force_authenticate(user)
    _use_allowance(api_client, sample, n=2)
    body = api_client.get("/api/payments/entitlement").json()
    assert body["plan"] == "gratuito"
    assert (body["allowance_limit"], body["allowance_used"], body["allowance_remaining"]) == (5, 2, 3)
    assert body["conversion_credits"] == 2
