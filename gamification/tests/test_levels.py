import pytest

from gamification import rules, selectors, services
from gamification.models import RewardAction, UserAchievement

# (threshold, level) for every level above the first, read from the rules (not a copy of the table)
BOUNDARIES = [(lv.min_points, lv.level) for lv in rules.LEVELS[1:]]


def test_levels_climb_one_by_one_from_zero_points():
    assert [lv.level for lv in rules.LEVELS] == list(range(1, len(rules.LEVELS) + 1))
    assert rules.LEVELS[0].min_points == 0
    thresholds = [lv.min_points for lv in rules.LEVELS]
    assert thresholds == sorted(set(thresholds)), "thresholds must strictly increase"
    titles = [str(lv.title) for lv in rules.LEVELS]
    assert all(titles) and len(set(titles)) == len(titles), "every level has its own title"


@pytest.mark.parametrize(("threshold", "level"), BOUNDARIES)
def test_each_level_boundary(threshold, level):
    below, reached = rules.level_for_points(threshold - 1), rules.level_for_points(threshold)
    assert (below.level, reached.level) == (level - 1, level)
    assert rules.next_level(below) == reached
    assert rules.level_progress_percentage(below.min_points, below) == 0.0


def test_progress_is_the_share_of_the_way_to_the_next_level():
    first, second = rules.LEVELS[0], rules.LEVELS[1]
    halfway = (first.min_points + second.min_points) // 2
    assert rules.level_progress_percentage(halfway, first) == pytest.approx(
        100 * (halfway - first.min_points) / (second.min_points - first.min_points), abs=0.1)


def test_the_top_level_has_no_next_and_full_progress():
    top = rules.LEVELS[-1]
    far_beyond = top.min_points * 10
    assert rules.level_for_points(far_beyond) == top
    assert rules.next_level(top) is None
    assert rules.level_progress_percentage(far_beyond, top) == 100.0
    assert rules.level_for_points(0) == rules.LEVELS[0]


def test_seed_profile_example(make_user):
    """1,250 lifetime points -> level 5 "Experto en Conversión", next 6 at 1,500, 50.0 %."""
    user = make_user(first_name="María", last_name="García")
    user.lifetime_points = user.total_points = 1250
    user.level = 5
    user.current_streak, user.longest_streak = 14, 21
    user.save()
    profile = selectors.rewards_profile(user=user)
    assert profile["user_info"] == {"level": 5, "total_points": 1250, "lifetime_points": 1250,
                                    "current_streak": 14, "longest_streak": 21}
    assert profile["level_info"]["current"] == {"level": 5, "min_points": 1000, "title": "Experto en Conversión"}
    assert profile["level_info"]["next"] == {"level": 6, "min_points": 1500, "title": "Gurú de Archivos"}
    assert profile["level_info"]["progress_percentage"] == 50.0
    assert profile["achievements"]["total_available"] == 15


@pytest.mark.django_db
@pytest.mark.parametrize(("threshold", "level"), BOUNDARIES)
def test_award_crossing_each_boundary_sets_level(make_user, monkeypatch, threshold, level):
    monkeypatch.setattr(rules, "LEVEL_ACHIEVEMENTS", ())  # their bonus points would blur the boundary
    user = make_user()
    services.rewards_award(user=user, action=RewardAction.ADMIN_GRANT, points=threshold - 1, idempotency_key="a")
    assert user.level == level - 1
    services.rewards_award(user=user, action=RewardAction.ADMIN_GRANT, points=1, idempotency_key="b")
    user.refresh_from_db()
    assert (user.lifetime_points, user.level) == (threshold, level)


def test_level_never_drops_on_redemption(make_user):
    user = make_user()
    services.rewards_award(user=user, action=RewardAction.ADMIN_GRANT, points=300, idempotency_key="a")
    assert user.level == 3
    services.rewards_redeem_credits(user=user, points=300)
    user.refresh_from_db()
    assert (user.total_points, user.lifetime_points, user.level) == (0, 300, 3)


def test_level_achievements_unlock_once_with_their_points(make_user):
    user = make_user()
    services.rewards_award(user=user, action=RewardAction.ADMIN_GRANT, points=1000, idempotency_key="a")
    user.refresh_from_db()
    # level 5 -> "Mitad del Camino" (+200): 1200 points, still level 5
    assert set(UserAchievement.objects.filter(user=user).values_list("achievement_id", flat=True)) == {"level_5"}
    assert (user.total_points, user.lifetime_points, user.level) == (1200, 1200, 5)
    services.rewards_award(user=user, action=RewardAction.ADMIN_GRANT, points=8800, idempotency_key="b")
    user.refresh_from_db()
    assert set(UserAchievement.objects.filter(user=user).values_list("achievement_id", flat=True)) == {
        "level_5", "level_10"}
    assert (user.lifetime_points, user.level) == (11000, 10)
    services.rewards_award(user=user, action=RewardAction.ADMIN_GRANT, points=10, idempotency_key="c")
    assert UserAchievement.objects.filter(user=user).count() == 2
