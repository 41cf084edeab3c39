"""conversion_completed: points, first bonus, achievements, idempotency."""

from datetime import timedelta

import pytest
from django.utils import timezone

from anclora.core import events
from gamification import rules, services
from gamification.models import RewardAction, UserAchievement, UserReward

from .conftest import MB, points_of

pytestmark = pytest.mark.django_db


def unlocked(user) -> set[str]:
    return set(UserAchievement.objects.filter(user=user).values_list("achievement_id", flat=True))


def count(user, action) -> int:
    return UserReward.objects.filter(user=user, action=action).count()


def test_first_conversion_pays_10_plus_bonus_plus_achievement(make_user, complete):
    user = make_user()
    complete(user)
    # 10 + 50 first-conversion bonus + 50 "Primer Paso"
    assert points_of(user) == (110, 110)
    assert unlocked(user) == {"first_conversion"}
    complete(user, "png", "webp")
    assert points_of(user) == (120, 120)
    assert count(user, RewardAction.FIRST_CONVERSION) == 1
    assert count(user, RewardAction.ACHIEVEMENT_UNLOCKED) == 1


def test_same_event_twice_pays_once(make_user, make_conversion):
    user = make_user()
    conversion = make_conversion(user)
    for _ in range(2):
        events.publish("conversion_completed", conversion_id=conversion.pk)
    assert points_of(user) == (110, 110)
    assert count(user, RewardAction.CONVERSION_COMPLETED) == 1
    assert not services.rewards_on_conversion_completed(conversion_id=conversion.pk)


def test_anonymous_and_unfinished_conversions_earn_nothing(make_user, make_conversion):
    from accounts.models import AnonymousSession
    from conversions.models import Conversion

    user = make_user()
    pending = make_conversion(user, status="pending")
    events.publish("conversion_completed", conversion_id=pending.pk)
    assert not services.rewards_on_conversion_completed(conversion_id=pending.pk)
    anonymous = make_conversion(user)
    Conversion.objects.filter(pk=anonymous.pk).update(user=None, session=AnonymousSession.objects.create())
    events.publish("conversion_completed", conversion_id=anonymous.pk)
    assert not UserReward.objects.exists()


@pytest.mark.parametrize(("needed", "slug"), [(10, "conversion_veteran"), (50, "conversion_expert"),
                                              (100, "conversion_master"), (500, "conversion_legend")])
def test_conversion_count_milestones(make_user, make_conversion, complete, needed, slug):
    user = make_user()
    base = timezone.now() - timedelta(days=3)
    # earlier conversions (already counted facts), spread out so speed_demon does not trigger
    for i in range(needed - 2):
        make_conversion(user, finished_at=base - timedelta(hours=2 * i))
    complete(user, finished_at=base)
    assert slug not in unlocked(user)
    complete(user, finished_at=base + timedelta(minutes=1))
    assert slug in unlocked(user)
    before = points_of(user)
    complete(user, finished_at=base + timedelta(hours=3))
    assert count(user, RewardAction.ACHIEVEMENT_UNLOCKED) == len(unlocked(user))
    assert points_of(user)[0] == before[0] + 10


def test_big_file_strictly_over_100_mb(make_user, complete):
    user = make_user()
    complete(user, size=100 * MB)
    assert "big_file" not in unlocked(user)
    complete(user, size=100 * MB + 1)
    assert "big_file" in unlocked(user)
    complete(user, size=200 * MB)
    assert count(user, RewardAction.ACHIEVEMENT_UNLOCKED) == 2  # first_conversion, big_file


def test_speed_demon_five_within_an_hour(make_user, complete):
    user = make_user()
    start = timezone.now() - timedelta(hours=5)
    # 5 conversions spanning more than an hour: no
    for minutes in (0, 20, 40, 60, 61):
        complete(user, finished_at=start + timedelta(minutes=minutes))
    assert "speed_demon" not in unlocked(user)
    complete(user, finished_at=start + timedelta(minutes=62))  # 20, 40, 60, 61, 62 within an hour
    assert "speed_demon" in unlocked(user)


def test_format_explorer_five_targets(make_user, complete):
    user = make_user()
    for target in ("jpg", "webp", "gif", "jpg", "bmp"):
        complete(user, "png", target, finished_at=timezone.now() - timedelta(hours=len(target)))
    assert "format_explorer" not in unlocked(user)
    complete(user, "png", "tiff", finished_at=timezone.now() - timedelta(days=1))
    assert "format_explorer" in unlocked(user)


def test_all_rounder_four_categories(make_user, complete):
    user = make_user()
    complete(user, "png", "jpg", finished_at=timezone.now() - timedelta(hours=4))
    complete(user, "docx", "pdf", finished_at=timezone.now() - timedelta(hours=3))
    complete(user, "mp3", "wav", finished_at=timezone.now() - timedelta(hours=2))
    assert "all_rounder" not in unlocked(user)
    complete(user, "mp4", "mp3", finished_at=timezone.now() - timedelta(hours=1))  # a video (to audio)
    assert "all_rounder" in unlocked(user)


def test_early_adopter_first_100(make_user, complete, monkeypatch):
    monkeypatch.setattr(rules, "EARLY_ADOPTER_USERS", 2)
    now = timezone.now()
    first = make_user(date_joined=now - timedelta(days=3))
    second = make_user(date_joined=now - timedelta(days=2))
    third = make_user(date_joined=now - timedelta(days=1))
    for user in (first, second, third):
        complete(user)
    assert "early_adopter" in unlocked(first) and "early_adopter" in unlocked(second)
    assert "early_adopter" not in unlocked(third)
    complete(first, "png", "gif")
    assert count(first, RewardAction.ACHIEVEMENT_UNLOCKED) == 2


def test_a_failing_rewards_handler_does_not_break_the_publisher(make_user, make_conversion, monkeypatch, caplog):
    user = make_user()
    conversion = make_conversion(user)

    def boom(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "rewards_on_conversion_completed", boom)
    events.publish("conversion_completed", conversion_id=conversion.pk)  # no exception
    assert "rewards handler for conversion_completed failed" in caplog.text
