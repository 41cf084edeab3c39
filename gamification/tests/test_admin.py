import pytest

from gamification.models import RewardAction, UserReward

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, otp_login, staff_user):
    staff_user.is_superuser = True
    staff_user.save(update_fields=["is_superuser"])
    return otp_login(client, staff_user)


def test_grant_points_action(staff_client, make_user):
    user = make_user()
    data = {"action": "grant_points", "_selected_action": [str(user.pk)]}
    resp = staff_client.post("/admin/accounts/user/", data)
    assert resp.status_code == 200 and b'name="points"' in resp.content
    resp = staff_client.post("/admin/accounts/user/", {**data, "apply": "1", "points": 120, "reason": "soporte"})
    assert resp.status_code == 302
    user.refresh_from_db()
    assert (user.total_points, user.lifetime_points, user.level) == (120, 120, 2)
    row = UserReward.objects.get(user=user)
    assert (row.action, row.subject_type, row.subject_id) == (RewardAction.ADMIN_GRANT, "admin", "soporte")


def test_ledger_admin_is_read_only(staff_client, make_user):
    user = make_user()
    staff_client.post("/admin/accounts/user/", {"action": "grant_points", "_selected_action": [str(user.pk)],
                                                "apply": "1", "points": 10})
    row = UserReward.objects.get(user=user)
    assert staff_client.get("/admin/gamification/userreward/").status_code == 200
    assert staff_client.get(f"/admin/gamification/userreward/{row.pk}/change/").status_code == 200
    assert staff_client.get("/admin/gamification/userreward/add/").status_code == 403
    assert staff_client.get(f"/admin/gamification/userreward/{row.pk}/delete/").status_code == 403
    resp = staff_client.post(f"/admin/gamification/userreward/{row.pk}/change/", {"points": 9999})
    assert resp.status_code == 403
    row.refresh_from_db()
    assert row.points == 10
    for page in ("achievement", "weeklychallenge", "userachievement", "userchallengeprogress"):
        assert staff_client.get(f"/admin/gamification/{page}/").status_code == 200
