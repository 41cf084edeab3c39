"""Issue 24: a password change or reset ends every session that knew the old password.

Refresh and access tokens issued before it are refused at once (the token version in the user row,
checked on every request), other page sessions are logged out; the session that changed it may stay,
and a token obtained afterwards works.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Ñandú#2024x"
LINK = re.compile(r"https?://[^/\s]+/password-reset/(?P<uid>[^/\s]+)/(?P<token>[^/\s]+)/")


def login(email, password):
    response = APIClient().post("/api/auth/login", {"email": email, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def me(access):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get("/api/auth/me")


def refresh(token):
    return APIClient().post("/api/auth/refresh", {"refresh": token}, format="json")


def page_session(user) -> Client:
    browser = Client()
    browser.force_login(user)
    assert browser.get("/account/").status_code == 200
    return browser


def assert_everything_before_is_dead(tokens, browser):
    old_me = me(tokens["access_token"])
    assert old_me.status_code == 401
    assert old_me.json()["code"] == "token_revoked"
    assert refresh(tokens["refresh_token"]).status_code == 401
    page = browser.get("/account/")
    assert page.status_code == 302 and "/login/" in page["Location"]


def assert_new_login_works(email):
    fresh = login(email, NEW_PASSWORD)
    assert me(fresh["access_token"]).status_code == 200
    rotated = refresh(fresh["refresh_token"])
    assert rotated.status_code == 200
    assert me(rotated.json()["access_token"]).status_code == 200


def test_password_change_through_the_api_revokes_access_and_refresh_tokens_and_other_page_sessions(make_user):
    user = make_user(email="ana@example.com")
    tokens = login(user.email, PASSWORD)
    other = login(user.email, PASSWORD)
    browser = page_session(user)
    assert me(tokens["access_token"]).status_code == 200

    changer = APIClient()
    changer.credentials(HTTP_AUTHORIZATION=f"Bearer {other['access_token']}")
    changed = changer.patch("/api/users/me", {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
                            format="json")
    assert changed.status_code == 200, changed.content

    assert_everything_before_is_dead(tokens, browser)
    assert me(other["access_token"]).status_code == 401  # the token that made the change was issued before it
    assert refresh(other["refresh_token"]).status_code == 401
    # the caller that changed it stays signed in with the new pair it was given
    assert me(changed.json()["access_token"]).status_code == 200
    assert refresh(changed.json()["refresh_token"]).status_code == 200
    assert_new_login_works(user.email)


def test_password_reset_link_revokes_tokens_and_page_sessions(make_user, api_client,
                                                             django_capture_on_commit_callbacks):
    from django.core import mail

    user = make_user(email="bea@example.com")
    tokens = login(user.email, PASSWORD)
    browser = page_session(user)
    with django_capture_on_commit_callbacks(execute=True):
        assert api_client.post("/api/auth/password-reset", {"email": user.email},
                               format="json").status_code == 202
    link = LINK.search(mail.outbox[-1].body)
    # The reset page itself (the link a browser opens), then the form it shows.
    reset = Client()
    form_page = reset.get(link.group(0), follow=True)
    assert form_page.status_code == 200
    done = reset.post(form_page.redirect_chain[-1][0],
                      {"new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD), done.content.decode()[:2000]

    assert_everything_before_is_dead(tokens, browser)
    assert_new_login_works(user.email)


def test_password_reset_confirm_api_revokes_tokens(make_user, api_client, django_capture_on_commit_callbacks):
    from django.core import mail

    user = make_user(email="carla@example.com")
    tokens = login(user.email, PASSWORD)
    browser = page_session(user)
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post("/api/auth/password-reset", {"email": user.email}, format="json")
    link = LINK.search(mail.outbox[-1].body)
    confirmed = api_client.post("/api/auth/password-reset/confirm", {
        "uid": link["uid"], "token": link["token"], "new_password": NEW_PASSWORD}, format="json")
    assert confirmed.status_code == 200, confirmed.content

    assert_everything_before_is_dead(tokens, browser)
    assert_new_login_works(user.email)


def test_account_page_password_change_keeps_its_own_session_and_ends_the_others(make_user):
    user = make_user(email="dani@example.com")
    tokens = login(user.email, PASSWORD)
    browser = page_session(user)
    changer = page_session(user)
    answer = changer.post("/account/", {"action": "password", "old_password": PASSWORD,
                                        "new_password": NEW_PASSWORD})
    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)

    assert changer.get("/account/").status_code == 200  # the session that changed it stays
    assert_everything_before_is_dead(tokens, browser)
    assert_new_login_works(user.email)


def test_admin_set_password_revokes_the_users_tokens(make_user, verified_admin_client):
    user = make_user(email="eva@example.com")
    tokens = login(user.email, PASSWORD)
    browser = page_session(user)
    answer = verified_admin_client.post(f"/admin/accounts/user/{user.pk}/password/", {
        "password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"})
    assert answer.status_code == 302, answer.content.decode()[:3000]

    assert_everything_before_is_dead(tokens, browser)
    assert_new_login_works(user.email)


def test_other_writes_of_the_user_row_do_not_revoke_and_stale_copies_do_not_revive(make_user):
    user = make_user(email="fer@example.com")
    tokens = login(user.email, PASSWORD)
    stale = User.objects.get(pk=user.pk)  # a copy loaded before the change (another request's)

    # A profile change and a raw points update (what gamification does) keep the tokens.
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert client.patch("/api/users/me", {"first_name": "Fer"}, format="json").status_code == 200
    from django.db.models import F
    User.objects.filter(pk=user.pk).update(total_points=F("total_points") + 5)
    assert me(tokens["access_token"]).status_code == 200

    assert client.patch("/api/users/me", {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
                        format="json").status_code == 200
    stale.first_name = "Stale"
    stale.save()  # a full save of the old copy: must not write the old version back
    assert me(tokens["access_token"]).status_code == 401


def test_a_hash_upgrade_at_login_is_not_a_password_change(make_user, settings):
    md5 = "django.contrib.auth.hashers.MD5PasswordHasher"
    settings.PASSWORD_HASHERS = [md5]
    user = make_user(email="gus@example.com")
    tokens = login(user.email, PASSWORD)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher", md5]
    login(user.email, PASSWORD)  # check_password() upgrades the stored hash to PBKDF2
    assert User.objects.get(pk=user.pk).password.startswith("pbkdf2_sha256$")
    assert me(tokens["access_token"]).status_code == 200
    assert refresh(tokens["refresh_token"]).status_code == 200
