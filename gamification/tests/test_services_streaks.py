"""Streaks and daily login, with time frozen, across days and time zones."""

from datetime import datetime, timedelta

import pytest

from accounts.models import User
from gamification import services
from gamification.models import RewardAction, UserAchievement, UserReward

from .conftest import points_of

pytestmark = pytest.mark.django_db


def at(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def login_on(user, time_machine, iso: str) -> bool:
    time_machine.move_to(at(iso), tick=False)
    user.refresh_from_db()
    return services.rewards_on_login(user=user)


def test_daily_login_once_per_local_day_and_streak(make_user, time_machine):
    user = make_user(time_zone="Europe/Madrid")
    assert login_on(user, time_machine, "2025-07-14T08:00:00+00:00")
    assert not login_on(user, time_machine, "2025-07-14T20:00:00+00:00")
    user.refresh_from_db()
    assert (user.current_streak, user.longest_streak, str(user.last_active_date)) == (1, 1, "2025-07-14")
    assert login_on(user, time_machine, "2025-07-15T08:00:00+00:00")
    assert login_on(user, time_machine, "2025-07-16T08:00:00+00:00")
    user.refresh_from_db()
    assert (user.current_streak, user.longest_streak) == (3, 3)
    # a gap: back to 1, the longest stays
    assert login_on(user, time_machine, "2025-07-18T08:00:00+00:00")
    user.refresh_from_db()
    assert (user.current_streak, user.longest_streak) == (1, 3)
    assert points_of(user) == (20, 20)


def test_local_midnight_decides_the_day(make_user, time_machine):
    la = make_user(time_zone="America/Los_Angeles")
    madrid = make_user(time_zone="Europe/Madrid")
    # 06:00 UTC = 23:00 (13th) in LA, 08:00 in Madrid; 08:00 UTC = 01:00 (14th) in LA, 10:00 in Madrid
    for iso in ("2025-07-14T06:00:00+00:00", "2025-07-14T08:00:00+00:00"):
        login_on(la, time_machine, iso)
        login_on(madrid, time_machine, iso)
    la.refresh_from_db()
    madrid.refresh_from_db()
    assert (la.current_streak, str(la.last_active_date)) == (2, "2025-07-14")
    assert (madrid.current_streak, str(madrid.last_active_date)) == (1, "2025-07-14")
    assert UserReward.objects.filter(user=la, action=RewardAction.DAILY_LOGIN).count() == 2
    assert UserReward.objects.filter(user=madrid, action=RewardAction.DAILY_LOGIN).count() == 1


def test_unknown_time_zone_falls_back(make_user, time_machine):
    user = make_user(time_zone="Not/AZone")
    assert login_on(user, time_machine, "2025-07-14T08:00:00+00:00")


def test_every_7th_day_pays_25_and_7_30_unlock(make_user, time_machine):
    user = make_user(time_zone="UTC")
    start = at("2025-06-01T12:00:00+00:00")
    for day in range(30):
        login_on(user, time_machine, (start + timedelta(days=day)).isoformat())
        # a second activity the same day changes nothing
        services.streak_touch(user=user, now=start + timedelta(days=day, hours=1))
    user.refresh_from_db()
    assert (user.current_streak, user.longest_streak) == (30, 30)
    milestones = UserReward.objects.filter(user=user, action=RewardAction.STREAK_MILESTONE)
    assert sorted(milestones.values_list("idempotency_key", flat=True)) == [
        "2025-06-07", "2025-06-14", "2025-06-21", "2025-06-28"]
    assert set(UserAchievement.objects.filter(user=user).values_list("achievement_id", flat=True)) >= {
        "week_streak", "month_streak"}
    assert UserReward.objects.filter(user=user, action=RewardAction.ACHIEVEMENT_UNLOCKED,
                                     idempotency_key="week_streak").count() == 1


def test_conversion_counts_as_a_streak_day(make_user, complete, time_machine):
    user = make_user(time_zone="UTC")
    time_machine.move_to(at("2025-07-14T10:00:00+00:00"), tick=False)
    complete(user)
    time_machine.move_to(at("2025-07-15T10:00:00+00:00"), tick=False)
    complete(user, "png", "gif")
    user.refresh_from_db()
    assert user.current_streak == 2


def test_refresh_resets_inactive_streaks_per_time_zone(make_user, time_machine):
    from datetime import date

    def streaker(tz, last):
        return make_user(time_zone=tz, current_streak=5, longest_streak=5, last_active_date=last)

    la_yesterday = streaker("America/Los_Angeles", date(2025, 7, 13))
    madrid_two_days = streaker("Europe/Madrid", date(2025, 7, 13))
    madrid_yesterday = streaker("Europe/Madrid", date(2025, 7, 14))
    no_date = make_user(current_streak=2)
    # 02:00 UTC on the 15th: 19:00 on the 14th in LA, 04:00 on the 15th in Madrid
    now = at("2025-07-15T02:00:00+00:00")
    assert services.streaks_refresh(now=now) == 2
    streaks = dict(User.objects.values_list("pk", "current_streak"))
    assert streaks[la_yesterday.pk] == 5
    assert streaks[madrid_yesterday.pk] == 5
    assert streaks[madrid_two_days.pk] == 0
    assert streaks[no_date.pk] == 0
    assert User.objects.get(pk=madrid_two_days.pk).longest_streak == 5
    assert services.streaks_refresh(now=now) == 0


def test_streak_task(make_user):
    from gamification.tasks import streaks_refresh_task

    make_user(current_streak=3, longest_streak=3, last_active_date=datetime(2000, 1, 1).date())
    assert streaks_refresh_task() == 1
