from decimal import Decimal

import pytest

from anclora.core.errors import ApplicationError
from gamification import services
from gamification.models import RewardAction, UserReward

from .conftest import points_of

pytestmark = pytest.mark.django_db


def test_award_writes_ledger_and_balances(make_user):
    user = make_user()
    assert services.rewards_award(user=user, action=RewardAction.SHARE, points=20, idempotency_key="k",
                                  subject=("thing", 7)) is True
    row = UserReward.objects.get(user=user)
    assert (row.action, row.points, row.subject_type, row.subject_id) == ("share", 20, "thing", "7")
    assert points_of(user) == (20, 20)


def test_duplicate_key_changes_nothing(make_user):
    user = make_user()
    assert services.rewards_award(user=user, action=RewardAction.SHARE, points=20, idempotency_key="k")
    assert not services.rewards_award(user=user, action=RewardAction.SHARE, points=20, idempotency_key="k")
    assert UserReward.objects.filter(user=user).count() == 1
    assert points_of(user) == (20, 20)
    # the same key under another action is another award
    assert services.rewards_award(user=user, action=RewardAction.FEEDBACK, points=15, idempotency_key="k")
    assert points_of(user) == (35, 35)


def test_negative_award_needs_the_balance(make_user):
    user = make_user()
    services.rewards_award(user=user, action=RewardAction.ADMIN_GRANT, points=50, idempotency_key="g")
    with pytest.raises(ApplicationError) as exc:
        services.rewards_award(user=user, action=RewardAction.REDEMPTION, points=-100, idempotency_key="r")
    assert exc.value.code == "insufficient_points"
    assert not UserReward.objects.filter(action=RewardAction.REDEMPTION).exists()
    assert points_of(user) == (50, 50)


@pytest.mark.parametrize(("points", "code"), [(0, "below_minimum"), (50, "below_minimum"), (-100, "below_minimum"),
                                              (150, "not_multiple"), (101, "not_multiple"),
                                              ("abc", "invalid_points"), (100.5, "invalid_points")])
def test_redeem_rules(make_user, points, code):
    user = make_user()
    services.rewards_award(user=user, action=RewardAction.ADMIN_GRANT, points=900, idempotency_key="g")
    with pytest.raises(ApplicationError) as exc:
        services.rewards_redeem_credits(user=user, points=points)
    assert (exc.value.code, exc.value.status) == (code, 400)
    assert "points" in exc.value.details
    user.refresh_from_db()
    assert (user.total_points, user.conversion_credits) == (900, 0)


def test_redeem_converts_100_points_to_a_credit(make_user):
    user = make_user()
    user.conversion_credits = 3
    user.save()
    services.rewards_award(user=user, action=RewardAction.ADMIN_GRANT, points=1250, idempotency_key="g")
    result = services.rewards_redeem_credits(user=user, points=500)
    assert (result.points_redeemed, result.credits_awarded, result.remaining_points, result.total_credits) == (
        500, 5, 750 + 200, 8)  # +200: the level-5 achievement
    row = UserReward.objects.get(user=user, action=RewardAction.REDEMPTION)
    assert row.points == -500
    user.refresh_from_db()
    assert user.lifetime_points == 1450


def test_redeem_short_of_points_is_400(make_user):
    user = make_user()
    services.rewards_award(user=user, action=RewardAction.ADMIN_GRANT, points=99, idempotency_key="g")
    with pytest.raises(ApplicationError) as exc:
        services.rewards_redeem_credits(user=user, points=100)
    assert (exc.value.code, exc.value.status) == ("insufficient_points", 400)
    user.refresh_from_db()
    assert (user.total_points, user.conversion_credits) == (99, 0)


@pytest.mark.parametrize(("amount", "points"), [("12.50", 125), ("4.99", 49), ("0.09", 0), ("49.99", 499)])
def test_payment_points_floor(amount, points):
    assert services.payment_points(Decimal(amount)) == points


def test_payment_event_idempotent_and_first_payment(make_user):
    from anclora.core import events

    user = make_user()
    for _ in range(2):
        events.publish("payment_succeeded", transaction_id="tx-1", user_id=user.pk, amount_eur=Decimal("12.50"))
    # 125 + first_payment 50 (level 2 reached, no level achievement yet)
    assert points_of(user) == (175, 175)
    events.publish("payment_succeeded", transaction_id="tx-2", user_id=user.pk, amount_eur=Decimal("4.99"))
    assert points_of(user) == (224, 224)
    from gamification import selectors

    assert selectors.total_spent_eur(user=user) == Decimal("17.49")
    # anonymous payments are ignored
    events.publish("payment_succeeded", transaction_id="tx-3", user_id=None, amount_eur=Decimal("5"))
    assert UserReward.objects.filter(action=RewardAction.PAYMENT).count() == 2


def test_feedback_once_per_conversion(make_user, make_conversion):
    user = make_user()
    conversion = make_conversion(user)
    first = services.rewards_feedback(user=user, conversion_id=conversion.pk)
    again = services.rewards_feedback(user=user, conversion_id=conversion.pk)
    assert (first.awarded, first.points, first.total_points) == (True, 15, 15)
    assert (again.awarded, again.points, again.total_points) == (False, 0, 15)


def test_feedback_on_someone_elses_or_unfinished_conversion_is_404(make_user, make_conversion):
    user, other = make_user(), make_user()
    for conversion in (make_conversion(other), make_conversion(user, status="pending")):
        with pytest.raises(ApplicationError) as exc:
            services.rewards_feedback(user=user, conversion_id=conversion.pk)
        assert exc.value.status == 404


def test_share_once_per_local_day(make_user, time_machine):
    user = make_user(time_zone="Europe/Madrid")
    time_machine.move_to("2025-07-14T21:30:00+00:00")  # 23:30 in Madrid
    assert services.rewards_share(user=user).awarded
    assert not services.rewards_share(user=user).awarded
    time_machine.move_to("2025-07-14T22:30:00+00:00")  # 00:30 next day in Madrid
    assert services.rewards_share(user=user).awarded
    assert points_of(user) == (40, 40)


def test_period_rollup_matches_the_ledger(make_user):
    from datetime import UTC, datetime, timedelta

    from gamification import selectors
    from gamification.models import PeriodPoints

    user = make_user()
    sunday_night = datetime(2025, 8, 31, 23, 30, tzinfo=UTC)  # last hour of a week and of a month (UTC)
    for i, when in enumerate([sunday_night, sunday_night + timedelta(hours=1), sunday_night + timedelta(days=3)]):
        services.rewards_award(user=user, action=RewardAction.ADMIN_GRANT, points=100 + i, idempotency_key=f"k{i}",
                               now=when)
    services.rewards_award(user=user, action=RewardAction.REDEMPTION, points=-100, idempotency_key="r",
                           now=sunday_night + timedelta(days=3))
    assert sorted(UserReward.objects.values_list("created_at", flat=True))[0] == sunday_night
    rollup = {(p.period, str(p.period_start)): p.points for p in PeriodPoints.objects.filter(user=user)}
    # redemptions do not count: the period boards rank points earned
    assert rollup == {("week", "2025-08-25"): 100, ("month", "2025-08-01"): 100,
                      ("week", "2025-09-01"): 203, ("month", "2025-09-01"): 203}
    assert selectors.period_keys(sunday_night) == [("week", datetime(2025, 8, 25).date()),
                                                   ("month", datetime(2025, 8, 1).date())]
