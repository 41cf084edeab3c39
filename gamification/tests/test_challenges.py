from datetime import UTC, datetime, timedelta

import pytest

from gamification import rules, selectors, services
from gamification.models import RewardAction, UserChallengeProgress, UserReward, WeeklyChallenge
from gamification.tasks import weekly_challenges_task

from .conftest import MB

pytestmark = pytest.mark.django_db

WEDNESDAY = datetime(2025, 7, 16, 15, 0, tzinfo=UTC)


def test_week_bounds_monday_to_sunday_utc():
    monday, starts, ends = selectors.week_bounds(WEDNESDAY)
    assert str(monday) == "2025-07-14"
    assert starts.isoformat() == "2025-07-14T00:00:00+00:00"
    assert ends.isoformat() == "2025-07-20T23:59:59+00:00"
    assert selectors.week_bounds(datetime(2025, 7, 20, 23, 59, 59, tzinfo=UTC))[0] == monday
    assert str(selectors.week_bounds(datetime(2025, 7, 21, 0, 0, tzinfo=UTC))[0]) == "2025-07-21"


def test_monday_task_twice_makes_one_set_of_three(time_machine):
    time_machine.move_to(datetime(2025, 7, 14, 0, 0, tzinfo=UTC), tick=False)
    first = weekly_challenges_task()
    second = weekly_challenges_task()
    assert len(first) == 3 and sorted(first) == sorted(second)
    assert set(first) <= set(rules.CHALLENGES)
    assert WeeklyChallenge.objects.count() == 3
    challenge = WeeklyChallenge.objects.first()
    assert challenge.target == rules.CHALLENGES[challenge.kind].target
    assert challenge.points_reward == rules.CHALLENGES[challenge.kind].points_reward
    # next week: another set
    time_machine.move_to(datetime(2025, 7, 21, 0, 0, tzinfo=UTC), tick=False)
    weekly_challenges_task()
    assert WeeklyChallenge.objects.count() == 6


def _force_week(kinds):
    monday, starts, ends = selectors.week_bounds(WEDNESDAY)
    for kind in kinds:
        WeeklyChallenge.objects.create(kind=kind, week_start=monday, starts_at=starts, ends_at=ends,
                                       target=rules.CHALLENGES[kind].target,
                                       points_reward=rules.CHALLENGES[kind].points_reward)


def challenge_points(user) -> list[int]:
    return list(UserReward.objects.filter(user=user, action=RewardAction.CHALLENGE_COMPLETED)
                .order_by("points").values_list("points", flat=True))


def _this_week_progress() -> dict:
    # the conversion of last week generated last week's set too, whose kinds may be this week's
    monday = selectors.week_bounds(WEDNESDAY)[0]
    return {p.challenge.kind: p for p in
            UserChallengeProgress.objects.select_related("challenge").filter(challenge__week_start=monday)}


def test_conversions_and_big_files_challenges(make_user, complete, time_machine):
    _force_week(["conversions", "big_files", "formats"])
    time_machine.move_to(WEDNESDAY, tick=False)
    user = make_user()
    last_week = WEDNESDAY - timedelta(days=7)
    complete(user, finished_at=last_week, size=60 * MB)  # not this week
    for i in range(9):
        complete(user, "png", "jpg", finished_at=WEDNESDAY - timedelta(hours=2 * i + 2),
                 size=60 * MB if i < 2 else MB)
    progress = _this_week_progress()
    assert progress["conversions"].progress == 9 and progress["conversions"].completed_at is None
    assert progress["big_files"].progress == 2
    complete(user, "png", "gif", finished_at=WEDNESDAY, size=50 * MB + 1)
    progress = _this_week_progress()
    assert progress["conversions"].completed_at is not None
    assert progress["big_files"].completed_at is not None
    assert progress["formats"].progress == 2
    assert challenge_points(user) == [150, 180]
    complete(user, "png", "jpg", finished_at=WEDNESDAY)
    assert challenge_points(user) == [150, 180]


def test_formats_challenge(make_user, complete, time_machine):
    _force_week(["formats"])
    time_machine.move_to(WEDNESDAY, tick=False)
    user = make_user()
    for target in ("jpg", "gif", "webp", "bmp", "tiff"):
        complete(user, "png", target, finished_at=WEDNESDAY - timedelta(hours=len(target) * 3))
    assert challenge_points(user) == [200]


def test_streak_challenge_needs_seven_days_of_the_week(make_user, time_machine):
    _force_week(["streak"])
    user = make_user(time_zone="UTC")
    monday = datetime(2025, 7, 14, 9, 0, tzinfo=UTC)
    for day in range(7):
        time_machine.move_to(monday + timedelta(days=day), tick=False)
        services.rewards_on_login(user=user)
        if day == 2:  # Wednesday: 3 of 7
            assert UserChallengeProgress.objects.get(user=user).progress == 3
    assert UserChallengeProgress.objects.get(user=user).completed_at is not None
    assert challenge_points(user) == [250]


def test_challenges_api_shows_progress(api_client, make_user, complete, time_machine):
    _force_week(["conversions", "formats", "big_files"])
    time_machine.move_to(WEDNESDAY, tick=False)
    user = make_user()
    complete(user, finished_at=WEDNESDAY)
    body = api_client.get("/api/rewards/challenges").json()
    assert body["week_start"] == "2025-07-14" and len(body["challenges"]) == 3
    assert all(c["progress"] == 0 for c in body["challenges"])
    api_client.force_authenticate(user)
    body = api_client.get("/api/rewards/challenges").json()
    by_kind = {c["kind"]: c for c in body["challenges"]}
    assert by_kind["conversions"]["progress"] == 1 and by_kind["conversions"]["target"] == 10
    assert by_kind["conversions"]["progress_percentage"] == 10.0
    assert by_kind["formats"]["title"] == "Explorador de Formatos"


def test_challenges_api_generates_the_week_if_missing(api_client, time_machine):
    time_machine.move_to(WEDNESDAY, tick=False)
    assert len(api_client.get("/api/rewards/challenges").json()["challenges"]) == 3
    assert len(api_client.get("/api/rewards/challenges").json()["challenges"]) == 3
    assert WeeklyChallenge.objects.count() == 3
