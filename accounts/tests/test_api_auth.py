import uuid

import pytest
import time_machine
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from accounts.models import AnonymousSession, User, UserSubscription

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db


def register(client, **body):
    payload = {"email": "nuevo@example.com", "password": PASSWORD, "first_name": "Nombre",
               "last_name": "Apellido", **body}
    return client.post("/api/auth/register", payload, format="json")


def assert_error_shape(resp, status, code=None):
    assert resp.status_code == status, resp.content
    assert resp["Content-Type"].startswith("application/json")
    body = resp.json()
    assert set(body) >= {"error", "code", "details"}
    assert body["error"]
    if code:
        assert body["code"] == code
    return body


def test_register_returns_seed_shape_and_free_plan(api_client):
    resp = register(api_client)
    assert resp.status_code == 201
    body = resp.json()
    assert body["message"] == "Usuario registrado exitosamente"
    assert body["access_token"] and body["refresh_token"]
    user = body["user"]
    assert user["email"] == "nuevo@example.com"
    assert user["first_name"] == "Nombre"
    assert user["level"] == 1 and user["total_points"] == 0
    uuid.UUID(user["id"])
    db_user = User.objects.get(pk=user["id"])
    sub = UserSubscription.objects.get(user=db_user, status="active")
    assert sub.plan.slug == "gratuito"
    assert db_user.password != PASSWORD and db_user.check_password(PASSWORD)


@pytest.mark.parametrize(
    "password,fragment",
    [
        ("Ab1!", "8"),
        ("secreta123!", "mayúscula"),
        ("SECRETA123!", "minúscula"),
        ("Secretaaa!", "número"),
        ("Secreta1234", "especial"),
    ],
)
def test_weak_passwords_are_rejected_per_rule(api_client, password, fragment):
    resp = register(api_client, password=password)
    body = assert_error_shape(resp, 400, "weak_password")
    assert any(fragment in msg for msg in body["details"]["password"]), body
    assert not User.objects.filter(email="nuevo@example.com").exists()


def test_duplicate_email_case_insensitive(api_client, make_user):
    make_user(email="Ana@Example.com")
    resp = register(api_client, email="ana@example.COM")
    assert_error_shape(resp, 409, "email_taken")
    assert User.objects.filter(email__iexact="ana@example.com").count() == 1


def test_invalid_email_and_missing_fields(api_client):
    body = assert_error_shape(register(api_client, email="no-es-email"), 400, "validation_error")
    assert "email" in body["details"]
    body = assert_error_shape(api_client.post("/api/auth/register", {}, format="json"), 400)
    assert {"email", "password"} <= set(body["details"])


def test_login_and_me(api_client, make_user):
    make_user(email="ana@example.com", first_name="Ana", last_name="García")
    resp = api_client.post("/api/auth/login", {"email": "ANA@example.com", "password": PASSWORD},
                           format="json")
    assert resp.status_code == 200
    body = resp.json()
    assert body["message"] == "Login exitoso"
    assert body["user"]["email"] == "ana@example.com"
    assert {"level", "total_points"} <= set(body["user"])

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    me = api_client.get("/api/auth/me").json()["user"]
    assert me["first_name"] == "Ana" and me["last_name"] == "García"
    for key in ("level", "total_points", "current_streak", "conversion_credits"):
        assert key in me


def test_login_bad_password_is_401(api_client, make_user):
    make_user(email="ana@example.com")
    resp = api_client.post("/api/auth/login", {"email": "ana@example.com", "password": "Mala123!x"},
                           format="json")
    assert_error_shape(resp, 401, "invalid_credentials")


def test_me_requires_token(api_client):
    assert_error_shape(api_client.get("/api/auth/me"), 401)
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert_error_shape(api_client.get("/api/auth/me"), 401)


def test_inactive_user_cannot_log_in(api_client, make_user):
    user = make_user(email="ana@example.com")
    User.objects.filter(pk=user.pk).update(is_active=False)
    resp = api_client.post("/api/auth/login", {"email": "ana@example.com", "password": PASSWORD},
                           format="json")
    assert resp.status_code == 401


def test_refresh_rotates_and_old_refresh_is_refused(api_client, make_user):
    make_user(email="ana@example.com")
    tokens = api_client.post("/api/auth/login", {"email": "ana@example.com", "password": PASSWORD},
                             format="json").json()
    old = tokens["refresh_token"]
    resp = api_client.post("/api/auth/refresh", {"refresh": old}, format="json")
    assert resp.status_code == 200
    new = resp.json()
    assert new["access_token"] and new["refresh_token"] and new["refresh_token"] != old
    again = api_client.post("/api/auth/refresh", {"refresh": old}, format="json")
    assert_error_shape(again, 401, "token_not_valid")
    ok = api_client.post("/api/auth/refresh", {"refresh": new["refresh_token"]}, format="json")
    assert ok.status_code == 200


def test_logout_blacklists_refresh(api_client, make_user):
    make_user(email="ana@example.com")
    tokens = api_client.post("/api/auth/login", {"email": "ana@example.com", "password": PASSWORD},
                             format="json").json()
    resp = api_client.post("/api/auth/logout", {"refresh": tokens["refresh_token"]}, format="json")
    assert resp.status_code == 200
    assert BlacklistedToken.objects.count() == 1
    refused = api_client.post("/api/auth/refresh", {"refresh": tokens["refresh_token"]},
                              format="json")
    assert_error_shape(refused, 401)


def test_login_throttle_per_account_and_window(api_client, make_user, settings):
    make_user(email="ana@example.com")
    bad = {"email": "ana@example.com", "password": "Incorrecta1!"}
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for _ in range(5):
            assert api_client.post("/api/auth/login", bad, format="json").status_code == 401
        sixth = api_client.post("/api/auth/login", bad, format="json")
        assert_error_shape(sixth, 429, "too_many_attempts")
        # even the right password is refused inside the window...
        good = {"email": "ana@example.com", "password": PASSWORD}
        assert api_client.post("/api/auth/login", good, format="json").status_code == 429
        # ...and works once the window has passed
        traveller.shift(settings.LOGIN_FAILURE_WINDOW_SECONDS + 1)
        assert api_client.post("/api/auth/login", good, format="json").status_code == 200


def test_locked_account_and_address_do_not_lock_other_accounts_behind_the_same_address(api_client, make_user):
    """Behind the deploy's nginx every user shares an address: only the account+address pair locks."""
    make_user(email="ana@example.com")
    make_user(email="luis@example.com")
    bad = {"email": "ana@example.com", "password": "Incorrecta1!"}
    for _ in range(5):
        assert api_client.post("/api/auth/login", bad, format="json").status_code == 401
    locked = api_client.post("/api/auth/login", bad, format="json")
    assert_error_shape(locked, 429, "too_many_attempts")
    assert 1 <= int(locked["Retry-After"]) <= 60
    assert locked.json()["details"]["retry_after"] == int(locked["Retry-After"])
    other = api_client.post("/api/auth/login", {"email": "luis@example.com", "password": PASSWORD}, format="json")
    assert other.status_code == 200
    # the locked account itself still logs in from another address
    elsewhere = api_client.post("/api/auth/login", {"email": "ANA@example.com ", "password": PASSWORD},
                                format="json", REMOTE_ADDR="198.51.100.7")
    assert elsewhere.status_code == 200


def test_client_address_trusts_x_forwarded_for_only_behind_configured_proxies(api_client, make_user, settings):
    make_user(email="ana@example.com")
    bad = {"email": "ana@example.com", "password": "Incorrecta1!"}
    # No trusted proxy: a client-sent X-Forwarded-For changes nothing, the socket's address counts.
    for i in range(5):
        assert api_client.post("/api/auth/login", bad, format="json",
                               HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").status_code == 401
    assert api_client.post("/api/auth/login", bad, format="json",
                           HTTP_X_FORWARDED_FOR="203.0.113.99").status_code == 429
    # One trusted proxy (deploy/nginx.conf): the address it appended counts, not what the client prepended.
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(5):
        assert api_client.post("/api/auth/login", bad, format="json",
                               HTTP_X_FORWARDED_FOR="10.9.9.9, 198.51.100.20").status_code == 401
    assert api_client.post("/api/auth/login", bad, format="json",
                           HTTP_X_FORWARDED_FOR="10.1.1.1, 198.51.100.20").status_code == 429
    good = {"email": "ana@example.com", "password": PASSWORD}
    assert api_client.post("/api/auth/login", good, format="json",
                           HTTP_X_FORWARDED_FOR="198.51.100.21").status_code == 200


def test_register_adopts_anonymous_session(api_client):
    session = AnonymousSession.objects.create()
    resp = register(api_client, session_id=str(session.session_id))
    assert resp.status_code == 201
    session.refresh_from_db()
    assert str(session.adopted_by_id) == resp.json()["user"]["id"]


def test_login_adopts_anonymous_session(api_client, make_user):
    user = make_user(email="ana@example.com")
    session = AnonymousSession.objects.create()
    resp = api_client.post("/api/auth/login", {"email": "ana@example.com", "password": PASSWORD,
                                               "session_id": str(session.session_id)}, format="json")
    assert resp.status_code == 200
    session.refresh_from_db()
    assert session.adopted_by_id == user.pk


def test_bad_session_id_is_400(api_client):
    body = assert_error_shape(register(api_client, session_id="not-a-uuid"), 400)
    assert "session_id" in body["details"]
