"""Auth under attack (issue 11, findings 5, 6 and 7), from the outside: HTTP, threads."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from accounts import services
from accounts.backends import EmailBackend
from accounts.models import User

from .conftest import PASSWORD

BAD = "Incorrecta1!"
NEW_PASSWORD = "Ñandú#2024x"


# --- finding 5: login throttle ----------------------------------------------------------
def _post_json(url: str, body: dict) -> tuple[int, dict, str | None]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.status, json.loads(resp.read()), resp.headers.get("Retry-After")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}"), exc.headers.get("Retry-After")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor == "sqlite",
                    reason="the in-memory SQLite test database locks whole tables across threads; "
                           "run with DATABASE_URL=postgres://… (CI does)")
def test_20_parallel_wrong_passwords_get_at_most_the_limit_of_401s(live_server, make_user, monkeypatch, settings):
    """The seed's counter let 13 of 20 parallel attempts reach the password check (limit 5)."""
    make_user(email="ana@example.com")
    original = EmailBackend.authenticate
    checked = []

    def slow_password_check(self, *args, **kwargs):  # a real hasher's time: widens any check-then-count race
        checked.append(1)
        time.sleep(0.3)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(EmailBackend, "authenticate", slow_password_check)
    url = f"{live_server.url}/api/auth/login"
    barrier = threading.Barrier(20)

    def attempt(_):
        try:
            barrier.wait(timeout=30)
            return _post_json(url, {"email": "ana@example.com", "password": BAD})
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(attempt, range(20)))
    statuses = sorted(status for status, _, _ in results)
    limit = settings.LOGIN_FAILURE_LIMIT
    assert statuses.count(401) <= limit, statuses
    # what matters: no more than the limit of guesses ever reached the password check
    assert len(checked) <= limit, (len(checked), statuses)
    assert statuses.count(401) + statuses.count(429) == 20, statuses
    for status, body, retry_after in results:
        if status == 429:
            assert body["code"] == "too_many_attempts"
            assert retry_after is not None and 1 <= int(retry_after) <= settings.LOGIN_FAILURE_WINDOW_SECONDS
    # and the right password is refused too while the pair is locked
    status, _, retry_after = _post_json(url, {"email": "ana@example.com", "password": PASSWORD})
    assert status == 429 and retry_after


@pytest.mark.django_db
def test_admin_login_is_throttled_with_retry_after(client, make_user):
    make_user(email="staff@example.com", is_staff=True)
    for _ in range(5):
        resp = client.post("/admin/login/", {"username": "staff@example.com", "password": BAD})
        assert resp.status_code == 200
    resp = client.post("/admin/login/", {"username": "staff@example.com", "password": PASSWORD})
    assert resp.status_code == 429
    assert int(resp["Retry-After"]) >= 1
    assert "Demasiados intentos" in resp.content.decode()
    assert not resp.wsgi_request.user.is_authenticated
    # another staff account from the same address is not locked
    make_user(email="otra@example.com", is_staff=True)
    resp = client.post("/admin/login/", {"username": "otra@example.com", "password": PASSWORD})
    assert resp.status_code == 302 and resp.wsgi_request.user.is_authenticated


@pytest.mark.django_db
def test_page_login_lockout_is_429_with_retry_after(client, make_user):
    make_user(email="ana@example.com")
    for _ in range(5):
        assert client.post("/login/", {"email": "ana@example.com", "password": BAD}).status_code == 401
    resp = client.post("/login/", {"email": "ana@example.com", "password": PASSWORD})
    assert resp.status_code == 429 and int(resp["Retry-After"]) >= 1
    assert "Demasiados intentos" in resp.content.decode()


@pytest.mark.django_db
def test_a_successful_login_clears_the_pair(api_client, make_user):
    make_user(email="ana@example.com")
    for _ in range(2):
        for _ in range(4):
            assert api_client.post("/api/auth/login", {"email": "ana@example.com", "password": BAD},
                                   format="json").status_code == 401
        assert api_client.post("/api/auth/login", {"email": "ana@example.com", "password": PASSWORD},
                               format="json").status_code == 200


# --- finding 6: refresh tokens die with the password or the account ---------------------
def _login(api_client, email="ana@example.com", password=PASSWORD) -> dict:
    resp = api_client.post("/api/auth/login", {"email": email, "password": password}, format="json")
    assert resp.status_code == 200, resp.content
    return resp.json()


def _refreshes(api_client, refresh: str) -> bool:
    return api_client.post("/api/auth/refresh", {"refresh": refresh}, format="json").status_code == 200


@pytest.mark.django_db
def test_password_change_through_the_api_revokes_every_refresh_token(api_client, make_user):
    make_user(email="ana@example.com")
    phone, laptop = _login(api_client), _login(api_client)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {laptop['access_token']}")
    resp = api_client.patch("/api/users/me", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json")
    assert resp.status_code == 200, resp.content
    api_client.credentials()
    assert not _refreshes(api_client, phone["refresh_token"])
    assert not _refreshes(api_client, laptop["refresh_token"])
    assert _refreshes(api_client, _login(api_client, password=NEW_PASSWORD)["refresh_token"])


@pytest.mark.django_db
def test_password_change_on_the_account_page_revokes_refresh_tokens(client, api_client, make_user):
    user = make_user(email="ana@example.com")
    tokens = _login(api_client)
    client.force_login(user)
    resp = client.post("/account/", {"action": "password", "old_password": PASSWORD,
                                              "new_password": NEW_PASSWORD})
    assert resp.status_code == 302, resp.content.decode()[:2000]
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)
    assert not _refreshes(api_client, tokens["refresh_token"])


@pytest.mark.django_db
def test_deactivation_revokes_refresh_tokens(api_client, make_user):
    user = make_user(email="ana@example.com")
    tokens = _login(api_client)
    services.user_deactivate(user=user)
    User.objects.filter(pk=user.pk).update(is_active=True)  # even if reactivated later, the old tokens stay dead
    assert not _refreshes(api_client, tokens["refresh_token"])


@pytest.mark.django_db
def test_deactivation_or_password_set_in_the_admin_revokes_refresh_tokens(api_client, make_user):
    """The admin's change form and password form save the instance (no service): the save signals revoke."""
    from django.contrib.auth.forms import AdminPasswordChangeForm

    user = make_user(email="ana@example.com")
    first = _login(api_client)
    target = User.objects.get(pk=user.pk)
    target.is_active = False  # what the admin change form does with "activo" unticked
    target.save()
    target.is_active = True
    target.save()
    assert not _refreshes(api_client, first["refresh_token"])

    second = _login(api_client)
    form = AdminPasswordChangeForm(User.objects.get(pk=user.pk),
                                   {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"})
    assert form.is_valid(), form.errors
    form.save()  # the admin's password view
    assert not _refreshes(api_client, second["refresh_token"])


@pytest.mark.django_db
def test_profile_changes_keep_refresh_tokens(api_client, make_user):
    make_user(email="ana@example.com")
    tokens = _login(api_client)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert api_client.patch("/api/users/me", {"first_name": "Ana"}, format="json").status_code == 200
    api_client.credentials()
    assert _refreshes(api_client, tokens["refresh_token"])


# --- finding 7: Unicode-aware password rules --------------------------------------------
@pytest.mark.django_db
def test_unicode_upper_case_counts(api_client):
    resp = api_client.post("/api/auth/register", {"email": "nandu@example.com", "password": NEW_PASSWORD},
                           format="json")
    assert resp.status_code == 201, resp.content


@pytest.mark.django_db
@pytest.mark.parametrize("password, code", [
    ("ñandú#2024x", "password_no_upper"),   # all lower case, with non-ASCII letters
    ("ÑANDÚ#2024X", "password_no_lower"),
    ("Ñandú#abcdx", "password_no_digit"),
    ("Ñandú2024xy", "password_no_special"),
])
def test_unicode_passwords_missing_a_class_are_refused(password, code):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as info:
        validate_password(password)
    assert code in {error.code for error in info.value.error_list}


@pytest.mark.django_db
def test_attempts_are_not_kept_past_their_window(api_client, make_user, settings):
    import time_machine
    from axes.models import AccessAttempt
    from django.utils import timezone

    make_user(email="ana@example.com")
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        api_client.post("/api/auth/login", {"email": "nadie@example.com", "password": BAD}, format="json")
        assert AccessAttempt.objects.filter(username="nadie@example.com").exists()
        traveller.shift(settings.LOGIN_FAILURE_WINDOW_SECONDS + 1)
        api_client.post("/api/auth/login", {"email": "ana@example.com", "password": BAD}, format="json")
        assert not AccessAttempt.objects.filter(username="nadie@example.com").exists()
