"""The farming path (issue 17): an account whose e-mail is not verified converts but earns nothing;
what it would have earned is credited at verification as one ledger row, once."""

from decimal import Decimal

import pytest
from django.db.models import Sum

from accounts import verification
from accounts.models import User
from anclora.core import events
from gamification import rules, selectors, services
from gamification.models import HeldReward, RewardAction, UserAchievement, UserReward

from .conftest import points_of

pytestmark = pytest.mark.django_db


def verify(user) -> User:
    """Open the e-mailed link the way the page and the API do (publishes email_verified)."""
    user.refresh_from_db()
    token = verification.email_verification_token(user=user, address=verification.verification_target(user))
    verified = verification.email_verify(token=token)
    user.refresh_from_db()
    return verified


def catch_up_rows(user):
    return UserReward.objects.filter(user=user, action=RewardAction.EMAIL_VERIFIED)


def board_ids(period="all_time"):
    return {entry["user_id"] for entry in selectors.leaderboard(period=period, limit=100)["leaderboard"]}


def test_an_unverified_account_earns_nothing_then_one_catch_up_row(make_user, complete, api_client):
    user = make_user(verified=False)
    complete(user, "png", "jpg")
    complete(user, "png", "webp")
    complete(user, "docx", "pdf")
    events.publish("user_logged_in", user=user)
    events.publish("payment_succeeded", transaction_id="tx-1", user_id=user.pk, amount_eur=Decimal("4.99"))

    # nothing earned: no ledger rows, no balances, no achievements, not on any board
    assert points_of(user) == (0, 0)
    assert not UserReward.objects.filter(user=user).exists()
    assert not UserAchievement.objects.filter(user=user).exists()
    services.rewards_admin_grant(user=User.objects.get(pk=user.pk), points=300)  # staff grants are not held
    assert user.pk not in board_ids() and user.pk not in board_ids("weekly") and user.pk not in board_ids("monthly")

    # ... and cannot redeem
    api_client.force_authenticate(user)
    refused = api_client.post("/api/rewards/redeem-credits", {"points": 100}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "email_not_verified"
    user.refresh_from_db()
    assert user.conversion_credits == 0 and user.total_points == 300

    # what would have been earned is kept: 3 x 10 + 50 first bonus + 5 daily login + 49 for 4.99 EUR
    held = HeldReward.objects.filter(user=user)
    by_action = dict(held.values_list("action").annotate(s=Sum("points")))
    assert by_action[RewardAction.CONVERSION_COMPLETED] == 30
    assert by_action[RewardAction.FIRST_CONVERSION] == 50
    assert by_action[RewardAction.DAILY_LOGIN] == 5
    assert by_action[RewardAction.PAYMENT] == 49
    expected = held.aggregate(s=Sum("points"))["s"]

    verify(user)
    rows = list(catch_up_rows(user))
    assert len(rows) == 1 and rows[0].points == expected
    assert not held.filter(credited_at__isnull=True).exists()
    # the conversions' achievements unlock at verification (each pays its own points, as always)
    assert {"first_conversion"} <= set(UserAchievement.objects.filter(user=user).values_list(
        "achievement_id", flat=True))
    achievement_points = UserReward.objects.filter(user=user, action=RewardAction.ACHIEVEMENT_UNLOCKED).aggregate(
        s=Sum("points"))["s"] or 0
    assert points_of(user) == (300 + expected + achievement_points,) * 2
    assert user.pk in board_ids()
    assert selectors.total_spent_eur(user=user) == Decimal("4.99")

    # verifying again (the event again, a new address confirmed later) credits nothing more
    services.rewards_on_email_verified(user=user)
    events.publish("email_verified", user=user, first_verification=False)
    assert catch_up_rows(user).count() == 1
    api_client.patch("/api/users/me", {"email": "otra-direccion@example.com", "old_password": "Secreta123!"},
                     format="json")
    verify(user)
    assert user.email == "otra-direccion@example.com"
    assert catch_up_rows(user).count() == 1
    total = points_of(user)

    # a replayed event for a conversion held before verification does not pay it a second time
    conversion_id = held.filter(action=RewardAction.CONVERSION_COMPLETED).values_list("subject_id", flat=True)[0]
    events.publish("conversion_completed", conversion_id=conversion_id)
    assert points_of(user) == total
    assert not UserReward.objects.filter(user=user, action=RewardAction.CONVERSION_COMPLETED).exists()

    # from now on it earns as usual and can redeem
    complete(user, "mp3", "wav")
    assert points_of(user)[0] == total[0] + rules.POINTS_CONVERSION
    assert api_client.post("/api/rewards/redeem-credits", {"points": 100}, format="json").status_code == 200


def test_verifying_with_nothing_held_writes_no_row(make_user):
    user = make_user(verified=False)
    verify(user)
    assert not catch_up_rows(user).exists() and points_of(user) == (0, 0)


def test_feedback_and_share_are_refused_until_verified(make_user, make_conversion, api_client):
    user = make_user(verified=False)
    conversion = make_conversion(user)
    api_client.force_authenticate(user)
    for url, body in (("/api/rewards/feedback", {"conversion_id": str(conversion.pk)}),
                      ("/api/rewards/share", {})):
        resp = api_client.post(url, body, format="json")
        assert resp.status_code == 403 and resp.json()["code"] == "email_not_verified", url
    assert points_of(user) == (0, 0)


def test_early_adopter_goes_to_the_first_verified_accounts(make_user, complete, monkeypatch):
    monkeypatch.setattr(rules, "EARLY_ADOPTER_USERS", 1)
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    unverified_first = make_user(verified=False, date_joined=now - timedelta(days=5))
    verified_later = make_user(date_joined=now - timedelta(days=1))
    complete(unverified_first)
    events.publish("user_logged_in", user=unverified_first)
    complete(verified_later)

    def has(user):
        return UserAchievement.objects.filter(user=user, achievement_id="early_adopter").exists()

    assert not has(unverified_first)  # unverified: no achievement, and it takes no slot
    assert has(verified_later)
    verify(unverified_first)
    assert not has(unverified_first)  # the one slot went to the account that verified first

    monkeypatch.setattr(rules, "EARLY_ADOPTER_USERS", 100)
    newcomer = make_user(verified=False)
    events.publish("user_logged_in", user=newcomer)
    assert not has(newcomer)
    verify(newcomer)
    assert has(newcomer)


def test_the_rewards_page_says_so_and_offers_the_resend(client, make_user):
    user = make_user(verified=False)
    client.force_login(user)
    page = client.get("/rewards/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Verifica tu email" in html and "Reenviar el enlace" in html
    assert "Verifica tu email para canjear puntos por créditos." in html

    resp = client.post("/rewards/", {"points": 100}, follow=True)
    assert "Verifica tu email para ganar y canjear puntos." in resp.content.decode()

    verify(user)
    assert "Reenviar el enlace" not in client.get("/rewards/").content.decode()
