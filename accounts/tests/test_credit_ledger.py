"""One writer per balance: every change of conversion credits has exactly one ledger row."""

import uuid

import pytest
from django.db import connection
from django.db.models import Sum

from accounts.credits import CreditReason, credits_change, credits_grant, credits_spend
from accounts.models import CreditLedgerEntry, User
from anclora.core.errors import ApplicationError
from anclora.core.tests.parallel import run_in_parallel

pytestmark = pytest.mark.django_db


def _ledger_matches(user) -> bool:
    total = CreditLedgerEntry.objects.filter(user=user).aggregate(s=Sum("delta"))["s"] or 0
    return total == User.objects.get(pk=user.pk).conversion_credits


def test_grant_and_spend_write_rows_with_the_balance_after(make_user):
    user = make_user()
    assert credits_grant(user=user, credits=3, reason=CreditReason.ADMIN_GRANT, idempotency_key="g1") == 3
    assert credits_spend(user=user, credits=2, reason=CreditReason.CONVERSION, idempotency_key="s1",
                         subject=("files", 2)) == 1
    rows = list(CreditLedgerEntry.objects.filter(user=user).order_by("created_at", "id")
                .values_list("reason", "delta", "balance_after", "subject_type"))
    assert rows == [("admin_grant", 3, 3, ""), ("conversion", -2, 1, "files")]
    assert _ledger_matches(user)


def test_same_key_applies_once(make_user):
    user = make_user()
    assert credits_change(user_id=user.pk, delta=1, reason=CreditReason.GIVE_BACK, idempotency_key="c1") == 1
    assert credits_change(user_id=user.pk, delta=1, reason=CreditReason.GIVE_BACK, idempotency_key="c1") is None
    assert User.objects.get(pk=user.pk).conversion_credits == 1 and _ledger_matches(user)


def test_overspend_is_refused_and_leaves_no_row(make_user):
    user = make_user()
    credits_grant(user=user, credits=1, reason=CreditReason.ADMIN_GRANT, idempotency_key="g")
    with pytest.raises(ApplicationError) as refused:
        credits_spend(user=user, credits=2, reason=CreditReason.CONVERSION, idempotency_key="s")
    assert refused.value.code == "insufficient_credits"
    assert CreditLedgerEntry.objects.filter(user=user).count() == 1 and _ledger_matches(user)


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "2"])
def test_only_positive_integers(make_user, bad):
    user = make_user()
    with pytest.raises(ApplicationError):
        credits_grant(user=user, credits=bad, reason=CreditReason.ADMIN_GRANT, idempotency_key="x")
    assert not CreditLedgerEntry.objects.exists()


def test_redemption_retention_and_give_back_each_leave_a_row(api_client, make_user, settings):
    """Points → credits, credits → retention, and a failed credit-paid conversion giving one back."""
    from billing.models import ConversionCharge
    from billing.services import charge_give_back
    from gamification.services import rewards_award, rewards_redeem_credits

    user = make_user()
    rewards_award(user=user, action="admin_grant", points=300, idempotency_key="p")
    rewards_redeem_credits(user=user, points=300)
    assert User.objects.get(pk=user.pk).conversion_credits == 3
    from factories import ConversionFactory, StoredFileFactory
    from storage import services as storage_services

    stored = StoredFileFactory(user=user)
    storage_services.stored_file_extend_retention(stored_file=stored, user=user, credits=1)
    conversion = ConversionFactory(user=user, source=stored, status="failed")
    ConversionCharge.objects.create(conversion=conversion, kind="credit")
    assert charge_give_back(conversion_id=conversion.pk) == "credit"
    assert charge_give_back(conversion_id=conversion.pk) is None
    reasons = list(CreditLedgerEntry.objects.filter(user=user).order_by("created_at", "id")
                   .values_list("reason", "delta"))
    assert reasons == [("redemption", 3), ("retention_extension", -1), ("give_back", 1)]
    assert User.objects.get(pk=user.pk).conversion_credits == 3 and _ledger_matches(user)


@pytest.mark.django_db(transaction=True)
def test_parallel_spends_never_overdraw(make_user):
    if connection.vendor != "postgresql":
        pytest.skip("row-level concurrency runs on PostgreSQL (CI)")
    user = make_user()
    credits_grant(user=user, credits=5, reason=CreditReason.ADMIN_GRANT, idempotency_key="g")
    def spend():
        try:
            credits_spend(user=User.objects.get(pk=user.pk), credits=1, reason=CreditReason.CONVERSION,
                          idempotency_key=uuid.uuid4().hex)
            return "ok"
        except ApplicationError:
            return "short"

    outcomes, errors = run_in_parallel(spend, 20)
    assert not errors, errors
    assert outcomes.count("ok") == 5 and outcomes.count("short") == 15
    assert User.objects.get(pk=user.pk).conversion_credits == 0 and _ledger_matches(user)


def test_admin_shows_the_ledger_read_only(verified_admin_client, make_user):
    client = verified_admin_client
    user = make_user()
    credits_grant(user=user, credits=2, reason=CreditReason.ADMIN_GRANT, idempotency_key="g")
    listing = client.get("/admin/accounts/creditledgerentry/")
    assert listing.status_code == 200 and user.email.encode() in listing.content
    assert client.get("/admin/accounts/creditledgerentry/add/").status_code == 403
    entry = CreditLedgerEntry.objects.get(user=user)
    response = client.post(f"/admin/accounts/creditledgerentry/{entry.pk}/change/", {"delta": 100})
    assert response.status_code in (403, 302, 200)
    entry.refresh_from_db()
    assert entry.delta == 2
