"""Redemption under real concurrency: only meaningful where writers really run in parallel."""

import threading

import pytest
from django.db import connection, connections

from accounts.models import User
from anclora.core.errors import ApplicationError
from gamification import services
from gamification.models import RewardAction, UserReward

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor == "sqlite",
                       reason="SQLite serialises every writer (one database lock), so threads cannot race; "
                              "run with DATABASE_URL=postgres://… to exercise the conditional UPDATE"),
]


def test_50_concurrent_redemptions_of_a_balance_covering_one(make_user):
    user = make_user()
    User.objects.filter(pk=user.pk).update(total_points=100, lifetime_points=100, level=2)
    barrier = threading.Barrier(50)
    outcomes: list[str] = []
    lock = threading.Lock()

    def redeem():
        try:
            me = User.objects.get(pk=user.pk)
            barrier.wait(timeout=30)
            try:
                services.rewards_redeem_credits(user=me, points=100)
                result = "ok"
            except ApplicationError as exc:
                result = exc.code
            with lock:
                outcomes.append(result)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=redeem) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(outcomes) == 50
    assert outcomes.count("ok") == 1
    assert set(outcomes) == {"ok", "insufficient_points"}
    user.refresh_from_db()
    assert (user.total_points, user.conversion_credits, user.lifetime_points) == (0, 1, 100)
    assert list(UserReward.objects.filter(user=user).values_list("action", "points")) == [
        (RewardAction.REDEMPTION, -100)]


def test_concurrent_duplicate_awards_pay_once(make_user):
    user = make_user()
    barrier = threading.Barrier(20)
    results: list[bool] = []

    def award():
        try:
            me = User.objects.get(pk=user.pk)
            barrier.wait(timeout=30)
            results.append(services.rewards_award(user=me, action=RewardAction.SHARE, points=20,
                                                  idempotency_key="same-day"))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=award) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [False] * 19 + [True]
    user.refresh_from_db()
    assert (user.total_points, user.lifetime_points) == (20, 20)


def test_concurrent_conversion_events_of_one_user(make_user, make_conversion):
    """Workers finishing jobs of the same user at once: every event pays, nothing deadlocks."""
    from anclora.core import events

    user = make_user()
    conversions = [make_conversion(user) for _ in range(10)]
    barrier = threading.Barrier(len(conversions))

    def finish(conversion_id):
        try:
            barrier.wait(timeout=30)
            events.publish("conversion_completed", conversion_id=conversion_id)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=finish, args=(c.pk,)) for c in conversions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    user.refresh_from_db()
    assert UserReward.objects.filter(user=user, action=RewardAction.CONVERSION_COMPLETED).count() == 10
    ledger = UserReward.objects.filter(user=user)
    assert user.total_points == user.lifetime_points == sum(ledger.values_list("points", flat=True))
    # 10 x 10 + first bonus 50 + "Primer Paso" 50 + "Veterano" 100 + "Demonio de la Velocidad" 150
    # (+ 150 if this week's draw has the 10-conversions challenge)
    assert sum(ledger.exclude(action=RewardAction.CHALLENGE_COMPLETED).values_list("points", flat=True)) == 450
