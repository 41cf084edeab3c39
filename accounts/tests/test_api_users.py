import pytest

from accounts.models import User

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def authed(api_client, make_user):
    user = make_user(email="ana@example.com")
    api_client.force_authenticate(user)
    return api_client, user


def test_patch_me_names_language_timezone(authed):
    client, user = authed
    resp = client.patch("/api/users/me", {"first_name": "Ana María", "language": "en",
                                          "time_zone": "America/Mexico_City"}, format="json")
    assert resp.status_code == 200
    assert resp.json()["user"]["first_name"] == "Ana María"
    user.refresh_from_db()
    assert user.language == "en" and user.time_zone == "America/Mexico_City"


def test_patch_me_password_change_requires_old(authed):
    client, user = authed
    resp = client.patch("/api/users/me", {"old_password": "Wrong123!", "new_password": "Nueva456$"},
                        format="json")
    assert resp.status_code == 400
    assert resp.json()["code"] == "invalid_old_password"
    resp = client.patch("/api/users/me", {"old_password": PASSWORD, "new_password": "corta"},
                        format="json")
    assert resp.status_code == 400 and resp.json()["code"] == "weak_password"
    resp = client.patch("/api/users/me", {"old_password": PASSWORD, "new_password": "Nueva456$"},
                        format="json")
    assert resp.status_code == 200
    user.refresh_from_db()
    assert user.check_password("Nueva456$")


def test_patch_me_rejects_unknown_timezone(authed):
    client, _ = authed
    resp = client.patch("/api/users/me", {"time_zone": "Mars/Olympus"}, format="json")
    assert resp.status_code == 400 and "time_zone" in resp.json()["details"]


def test_delete_me(authed):
    client, user = authed
    assert client.delete("/api/users/me").status_code == 204
    assert not User.objects.filter(pk=user.pk).exists()


def test_users_me_anonymous_is_401(api_client):
    assert api_client.patch("/api/users/me", {}, format="json").status_code == 401
    assert api_client.delete("/api/users/me").status_code == 401
