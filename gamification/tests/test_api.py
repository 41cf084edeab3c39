from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from accounts.models import User
from anclora.core import events
from gamification import services
from gamification.models import RewardAction, UserReward

pytestmark = pytest.mark.django_db


def grant(user, points, key="g", when=None):
    services.rewards_award(user=user, action=RewardAction.ADMIN_GRANT, points=points, idempotency_key=key, now=when)
    user.refresh_from_db()


@pytest.mark.parametrize(("method", "url"), [("get", "/api/rewards/profile"), ("get", "/api/rewards/history"),
                                             ("post", "/api/rewards/redeem-credits"),
                                             ("post", "/api/rewards/feedback"), ("post", "/api/rewards/share")])
def test_anonymous_gets_401_json(api_client, method, url):
    resp = getattr(api_client, method)(url, {"points": 100}, format="json") if method == "post" \
        else api_client.get(url)
    assert resp.status_code == 401
    assert set(resp.json()) == {"error", "code", "details"}


def test_profile_seed_shape(api_client, make_user, complete, time_machine):
    time_machine.move_to(datetime(2025, 7, 1, 10, 30, tzinfo=UTC), tick=False)
    user = make_user(first_name="María", last_name="García")
    complete(user)
    events.publish("payment_succeeded", transaction_id="t1", user_id=user.pk, amount_eur=Decimal("12.50"))
    user.refresh_from_db()
    api_client.force_authenticate(user)
    body = api_client.get("/api/rewards/profile").json()
    profile = body["profile"]
    assert set(profile) == {"user_info", "level_info", "achievements", "statistics"}
    # 10 + 50 first bonus + 50 "Primer Paso" + 125 (12.50 EUR) + 50 "Primer Pago"
    assert profile["user_info"] == {"level": 2, "total_points": 285, "lifetime_points": 285,
                                    "current_streak": 1, "longest_streak": 1}
    assert profile["level_info"] == {
        "current": {"level": 2, "min_points": 100, "title": "Explorador Digital"},
        "next": {"level": 3, "min_points": 300, "title": "Convertidor Hábil"},
        "progress_percentage": 92.5,
    }
    first = next(a for a in profile["achievements"]["unlocked"] if a["id"] == "first_conversion")
    assert {k: first[k] for k in ("name", "description", "icon", "points_reward")} == {
        "name": "Primer Paso", "description": "Completa tu primera conversión", "icon": "🎯", "points_reward": 50}
    assert first["unlocked_at"].startswith("2025-07-01T")
    assert profile["achievements"]["total_unlocked"] == 2
    assert profile["achievements"]["total_available"] == 15
    assert profile["statistics"]["total_conversions"] == 1
    assert profile["statistics"]["total_spent_eur"] == 12.5
    assert profile["statistics"]["member_since"].startswith("2025-07-01T")


def test_profile_level_info_numbers(api_client, make_user):
    user = make_user()
    User.objects.filter(pk=user.pk).update(total_points=1250, lifetime_points=1250, level=5)
    user.refresh_from_db()
    api_client.force_authenticate(user)
    info = api_client.get("/api/rewards/profile").json()["profile"]["level_info"]
    assert info == {"current": {"level": 5, "min_points": 1000, "title": "Experto en Conversión"},
                    "next": {"level": 6, "min_points": 1500, "title": "Gurú de Archivos"},
                    "progress_percentage": 50.0}
    User.objects.filter(pk=user.pk).update(lifetime_points=12000, level=10)
    user.refresh_from_db()
    info = api_client.get("/api/rewards/profile").json()["profile"]["level_info"]
    assert info["next"] is None and info["progress_percentage"] == 100.0


# --- leaderboard ------------------------------------------------------------------------
@pytest.fixture
def board_users(make_user):
    now = datetime.now(UTC)
    users = {
        "maria": make_user(first_name="María", last_name="García", date_joined=now - timedelta(days=30)),
        "pedro": make_user(first_name="Pedro", last_name="López", date_joined=now - timedelta(days=20)),
        "ana": make_user(first_name="Ana", last_name="", date_joined=now - timedelta(days=10)),
        "anon": make_user(email="zorro.secreto@example.com", date_joined=now - timedelta(days=5)),
        "zero": make_user(first_name="Cero"),
    }
    grant(users["maria"], 500, when=now - timedelta(days=60))  # old points: all_time only
    grant(users["pedro"], 300, when=now - timedelta(days=60))
    grant(users["pedro"], 200, key="recent")  # tie with maria on all_time (500); joined later
    grant(users["ana"], 50)
    grant(users["anon"], 120)
    return users


def test_leaderboard_all_time(api_client, board_users):
    body = api_client.get("/api/rewards/leaderboard").json()
    assert body["period"] == "all_time" and body["total_users"] == 4
    rows = body["leaderboard"]
    assert [r["username"] for r in rows] == ["María G.", "Pedro L.", "zo***", "Ana"]
    assert [r["rank"] for r in rows] == [1, 2, 3, 4]
    assert [r["total_points"] for r in rows] == [500, 500, 120, 50]
    first = rows[0]
    assert set(first) == {"rank", "user_id", "username", "level", "level_title", "total_points",
                          "current_streak", "achievements_count"}
    assert first["user_id"] == str(board_users["maria"].pk)
    assert (first["level"], first["level_title"]) == (3, "Convertidor Hábil")
    assert "generated_at" in body


def test_leaderboard_weekly_and_monthly_count_the_period_only(api_client, board_users):
    for period in ("weekly", "monthly"):
        body = api_client.get("/api/rewards/leaderboard", {"period": period}).json()
        assert body["period"] == period
        assert [(r["username"], r["total_points"]) for r in body["leaderboard"]] == [
            ("Pedro L.", 200), ("zo***", 120), ("Ana", 50)]


def test_leaderboard_period_ignores_redemptions(api_client, board_users):
    services.rewards_redeem_credits(user=board_users["pedro"], points=200)
    rows = api_client.get("/api/rewards/leaderboard", {"period": "weekly"}).json()["leaderboard"]
    assert rows[0]["total_points"] == 200


def test_leaderboard_limit(api_client, board_users):
    assert len(api_client.get("/api/rewards/leaderboard", {"limit": 2}).json()["leaderboard"]) == 2
    assert api_client.get("/api/rewards/leaderboard", {"limit": 1000}).status_code == 200


def test_leaderboard_limit_clamped_to_100(api_client, make_user):
    users = [make_user() for _ in range(105)]
    for user in users:
        grant(user, 10)
    assert len(api_client.get("/api/rewards/leaderboard").json()["leaderboard"]) == 50
    body = api_client.get("/api/rewards/leaderboard", {"limit": 500}).json()
    assert len(body["leaderboard"]) == 100 and body["total_users"] == 100


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": -5}, {"limit": "abc"}, {"limit": "1.5"},
                                    {"period": "daily"}, {"period": "ALL_TIME"}])
def test_leaderboard_bad_params_400(api_client, params):
    resp = api_client.get("/api/rewards/leaderboard", params)
    assert resp.status_code == 400
    assert resp.json()["code"] == "validation_error"
    assert set(resp.json()["details"]) <= {"limit", "period"}


def test_inactive_users_are_not_ranked(api_client, board_users):
    User.objects.filter(pk=board_users["maria"].pk).update(is_active=False)
    for period in ("all_time", "weekly"):
        names = [r["username"] for r in api_client.get(
            "/api/rewards/leaderboard", {"period": period}).json()["leaderboard"]]
        assert "María G." not in names


# --- achievements -----------------------------------------------------------------------
def test_achievements_list(api_client, make_user, complete):
    body = api_client.get("/api/rewards/achievements").json()
    assert body["total_available"] == 15 and body["user_unlocked"] == 0
    assert len(body["achievements"]) == 15
    assert not any(a["unlocked"] for a in body["achievements"])
    legend = next(a for a in body["achievements"] if a["id"] == "conversion_legend")
    assert legend == {"id": "conversion_legend", "name": "Leyenda Digital", "description": "Completa 500 conversiones",
                      "icon": "💎", "category": "milestone", "points_reward": 1000, "rarity": "legendary",
                      "unlocked": False}
    ids = {a["id"] for a in body["achievements"]}
    assert {"format_explorer", "all_rounder", "first_payment", "early_adopter"} <= ids
    user = make_user()
    complete(user)
    api_client.force_authenticate(user)
    body = api_client.get("/api/rewards/achievements").json()
    assert body["user_unlocked"] == 1
    assert next(a for a in body["achievements"] if a["id"] == "first_conversion")["unlocked"] is True


def test_achievement_categories_and_points_match_the_seed(api_client):
    body = {a["id"]: a for a in api_client.get("/api/rewards/achievements").json()["achievements"]}
    expected = {
        "first_conversion": ("milestone", 50), "conversion_veteran": ("milestone", 100),
        "conversion_expert": ("milestone", 250), "conversion_master": ("milestone", 500),
        "conversion_legend": ("milestone", 1000), "week_streak": ("streak", 150), "month_streak": ("streak", 750),
        "level_5": ("level", 200), "level_10": ("level", 1000), "big_file": ("special", 100),
        "speed_demon": ("special", 150), "early_adopter": ("special", 500), "format_explorer": ("special", 150),
        "all_rounder": ("special", 200), "first_payment": ("milestone", 50),
    }
    assert {k: (v["category"], v["points_reward"]) for k, v in body.items()} == expected


# --- history, redeem, feedback, share -----------------------------------------------------
def test_history_is_the_callers_paginated_ledger(api_client, make_user):
    user, other = make_user(), make_user()
    for i in range(25):
        grant(user, 1, key=f"k{i}")
    grant(other, 5)
    api_client.force_authenticate(user)
    body = api_client.get("/api/rewards/history").json()
    assert body["count"] == 25 and len(body["results"]) == 20 and body["next"]
    row = body["results"][0]
    assert set(row) == {"id", "action", "action_display", "points", "subject_type", "subject_id", "created_at"}
    assert row["action"] == "admin_grant"
    assert len(api_client.get("/api/rewards/history", {"page": 2}).json()["results"]) == 5


def test_redeem_credits_seed_response(api_client, make_user):
    user = make_user(total_points=1250, lifetime_points=1250, level=5, conversion_credits=3)
    api_client.force_authenticate(user)
    resp = api_client.post("/api/rewards/redeem-credits", {"points": 500}, format="json")
    assert resp.status_code == 200
    assert resp.json() == {"message": "Puntos canjeados exitosamente", "points_redeemed": 500,
                           "credits_awarded": 5, "remaining_points": 750, "total_credits": 8}
    assert UserReward.objects.get(user=user).points == -500


@pytest.mark.parametrize(("points", "code"), [(50, "below_minimum"), (250, "not_multiple"),
                                              (2000, "insufficient_points"), ("x", "validation_error")])
def test_redeem_credits_400s(api_client, make_user, points, code):
    user = make_user()
    User.objects.filter(pk=user.pk).update(total_points=1250, lifetime_points=1250)
    user.refresh_from_db()
    api_client.force_authenticate(user)
    resp = api_client.post("/api/rewards/redeem-credits", {"points": points}, format="json")
    assert resp.status_code == 400
    assert resp.json()["code"] == code and "points" in resp.json()["details"]
    user.refresh_from_db()
    assert (user.total_points, user.conversion_credits) == (1250, 0)


def test_feedback_and_share_api(api_client, make_user, make_conversion):
    user = make_user()
    conversion = make_conversion(user)
    api_client.force_authenticate(user)
    body = api_client.post("/api/rewards/feedback", {"conversion_id": str(conversion.pk)}, format="json").json()
    assert (body["awarded"], body["points_awarded"], body["total_points"]) == (True, 15, 15)
    body = api_client.post("/api/rewards/feedback", {"conversion_id": str(conversion.pk)}, format="json").json()
    assert (body["awarded"], body["points_awarded"]) == (False, 0)
    resp = api_client.post("/api/rewards/feedback", {"conversion_id": "00000000-0000-0000-0000-000000000000"},
                           format="json")
    assert resp.status_code == 404
    assert api_client.post("/api/rewards/share").json()["points_awarded"] == 20
    assert api_client.post("/api/rewards/share").json()["points_awarded"] == 0
    user.refresh_from_db()
    assert user.total_points == 35


def test_api_login_pays_daily_points(api_client, make_user):
    from .conftest import PASSWORD

    user = make_user(email="diario@example.com")
    for _ in range(2):
        resp = api_client.post("/api/auth/login", {"email": "diario@example.com", "password": PASSWORD},
                               format="json")
        assert resp.status_code == 200
    user.refresh_from_db()
    assert (user.total_points, user.current_streak) == (5, 1)
