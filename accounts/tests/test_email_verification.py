"""Verified e-mail (issue 17): sign-up link, verify, resend cool-down, e-mail change, data migration."""

from __future__ import annotations

import importlib
import re
from datetime import timedelta

import pytest
from django.apps import apps as global_apps
from django.core import mail, signing
from django.utils import timezone

from accounts import verification
from accounts.models import User

PASSWORD = "Secreta123!"
LINK = re.compile(r"https?://[^\s]+/account/verify/([^/\s]+)/")

pytestmark = pytest.mark.django_db


def register(client, capture, email="nueva@example.com", language="es"):
    with capture(execute=True):
        resp = client.post("/api/auth/register", {"email": email, "password": PASSWORD, "first_name": "Nuria",
                                                  "language": language}, format="json")
    assert resp.status_code == 201, resp.content
    return resp


def token_in(message) -> str:
    found = LINK.search(message.body)
    assert found, message.body
    return found.group(1)


def authed(api_client, resp):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {resp.json()['access_token']}")
    return api_client


def test_register_sends_one_link_and_verifying_it_verifies(api_client, django_capture_on_commit_callbacks):
    resp = register(api_client, django_capture_on_commit_callbacks)
    assert resp.json()["user"]["email_verified"] is False
    assert resp.json()["user"]["email_verified_at"] is None
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["nueva@example.com"]
    assert "verifica tu email" in message.subject.lower()
    assert "Hola Nuria" in message.body

    verified = api_client.post("/api/auth/verify-email", {"token": token_in(message)}, format="json")
    assert verified.status_code == 200, verified.content
    assert verified.json()["user"]["email_verified"] is True
    user = User.objects.get(email="nueva@example.com")
    assert user.email_verified_at is not None

    me = authed(api_client, resp).get("/api/auth/me")
    assert me.json()["user"]["email_verified"] is True


def test_the_mail_is_in_the_users_language(api_client, django_capture_on_commit_callbacks):
    register(api_client, django_capture_on_commit_callbacks, email="english@example.com", language="en")
    assert "verify your e-mail" in mail.outbox[0].subject.lower()
    assert "link" in mail.outbox[0].body


def test_a_used_tampered_or_expired_link_is_400(api_client, django_capture_on_commit_callbacks):
    register(api_client, django_capture_on_commit_callbacks)
    token = token_in(mail.outbox[0])
    assert api_client.post("/api/auth/verify-email", {"token": token}, format="json").status_code == 200

    reused = api_client.post("/api/auth/verify-email", {"token": token}, format="json")
    assert reused.status_code == 400 and reused.json()["code"] == "invalid_token"

    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    bad = api_client.post("/api/auth/verify-email", {"token": tampered}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_token"

    garbage = api_client.post("/api/auth/verify-email", {"token": "not-a-token"}, format="json")
    assert garbage.status_code == 400 and garbage.json()["code"] == "invalid_token"


def test_an_expired_link_is_400(api_client, django_capture_on_commit_callbacks, monkeypatch):
    register(api_client, django_capture_on_commit_callbacks)
    token = token_in(mail.outbox[0])
    later = signing.time.time() + verification.VERIFY_MAX_AGE.total_seconds() + 5
    monkeypatch.setattr(signing.time, "time", lambda: later)
    resp = api_client.post("/api/auth/verify-email", {"token": token}, format="json")
    assert resp.status_code == 400 and resp.json()["code"] == "token_expired"
    assert User.objects.get(email="nueva@example.com").email_verified_at is None


def test_a_link_signed_for_another_purpose_is_refused(api_client, django_capture_on_commit_callbacks):
    register(api_client, django_capture_on_commit_callbacks)
    user = User.objects.get(email="nueva@example.com")
    foreign = signing.TimestampSigner(salt="other").sign_object({"u": str(user.pk), "e": user.email, "s": "x"})
    resp = api_client.post("/api/auth/verify-email", {"token": foreign}, format="json")
    assert resp.status_code == 400 and resp.json()["code"] == "invalid_token"


def test_resend_has_a_cool_down_with_retry_after(api_client, django_capture_on_commit_callbacks):
    resp = register(api_client, django_capture_on_commit_callbacks)
    client = authed(api_client, resp)
    with django_capture_on_commit_callbacks(execute=True):
        too_soon = client.post("/api/auth/verify-email/resend")
    assert too_soon.status_code == 429 and too_soon.json()["code"] == "too_many_requests"
    assert 1 <= int(too_soon["Retry-After"]) <= verification.RESEND_COOLDOWN_SECONDS
    assert len(mail.outbox) == 1

    User.objects.filter(email="nueva@example.com").update(
        email_verification_sent_at=timezone.now() - timedelta(seconds=verification.RESEND_COOLDOWN_SECONDS + 1))
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post("/api/auth/verify-email/resend")
    assert again.status_code == 202
    assert len(mail.outbox) == 2
    # both links are for the same unverified state: the newer one verifies
    ok = client.post("/api/auth/verify-email", {"token": token_in(mail.outbox[1])}, format="json")
    assert ok.status_code == 200
    done = client.post("/api/auth/verify-email/resend")
    assert done.status_code == 400 and done.json()["code"] == "already_verified"


def test_resend_needs_a_login(api_client):
    assert api_client.post("/api/auth/verify-email/resend").status_code == 401


def test_change_email_keeps_the_old_address_until_the_new_one_is_confirmed(
        api_client, make_user, django_capture_on_commit_callbacks):
    user = make_user(email="vieja@example.com")
    login = api_client.post("/api/auth/login", {"email": "vieja@example.com", "password": PASSWORD},
                            format="json")
    client = authed(api_client, login)

    with django_capture_on_commit_callbacks(execute=True):
        resp = client.patch("/api/users/me", {"email": "Nueva@Example.com", "old_password": PASSWORD},
                            format="json")
    assert resp.status_code == 200, resp.content
    body = resp.json()["user"]
    assert body["email"] == "vieja@example.com" and body["pending_email"] == "Nueva@example.com"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["Nueva@example.com"]
    assert "nuevo email" in mail.outbox[0].subject

    # the old address still logs in, the new one does not yet
    assert api_client.post("/api/auth/login", {"email": "vieja@example.com", "password": PASSWORD},
                           format="json").status_code == 200
    assert api_client.post("/api/auth/login", {"email": "nueva@example.com", "password": PASSWORD},
                           format="json").status_code == 401

    confirmed = api_client.post("/api/auth/verify-email", {"token": token_in(mail.outbox[0])}, format="json")
    assert confirmed.status_code == 200
    user.refresh_from_db()
    assert user.email == "Nueva@example.com" and user.pending_email == "" and user.email_verified_at
    assert api_client.post("/api/auth/login", {"email": "nueva@example.com", "password": PASSWORD},
                           format="json").status_code == 200
    assert api_client.post("/api/auth/login", {"email": "vieja@example.com", "password": PASSWORD},
                           format="json").status_code == 401


def test_change_email_needs_the_current_password(api_client, make_user):
    user = make_user()
    api_client.force_authenticate(user)
    resp = api_client.patch("/api/users/me", {"email": "otra@example.com", "old_password": "nope"}, format="json")
    assert resp.status_code == 400 and resp.json()["code"] == "invalid_old_password"
    missing = api_client.patch("/api/users/me", {"email": "otra@example.com"}, format="json")
    assert missing.status_code == 400
    user.refresh_from_db()
    assert user.pending_email == "" and not mail.outbox


def test_change_email_to_a_taken_address_is_409_at_request_and_at_confirmation(
        api_client, make_user, django_capture_on_commit_callbacks):
    make_user(email="ocupada@example.com")
    user = make_user(email="mia@example.com")
    api_client.force_authenticate(user)
    taken = api_client.patch("/api/users/me", {"email": "OCUPADA@example.com", "old_password": PASSWORD},
                             format="json")
    assert taken.status_code == 409 and taken.json()["code"] == "email_taken"

    with django_capture_on_commit_callbacks(execute=True):
        assert api_client.patch("/api/users/me", {"email": "libre@example.com", "old_password": PASSWORD},
                                format="json").status_code == 200
    token = token_in(mail.outbox[-1])
    make_user(email="LIBRE@example.com")  # someone signs up with it before the link is opened
    late = api_client.post("/api/auth/verify-email", {"token": token}, format="json")
    assert late.status_code == 409 and late.json()["code"] == "email_taken"
    user.refresh_from_db()
    assert user.email == "mia@example.com"


def test_a_newer_change_request_voids_the_older_link(api_client, make_user, django_capture_on_commit_callbacks):
    user = make_user(email="yo@example.com")
    api_client.force_authenticate(user)
    with django_capture_on_commit_callbacks(execute=True):
        api_client.patch("/api/users/me", {"email": "primera@example.com", "old_password": PASSWORD}, format="json")
        api_client.patch("/api/users/me", {"email": "segunda@example.com", "old_password": PASSWORD}, format="json")
    first, second = token_in(mail.outbox[0]), token_in(mail.outbox[1])
    assert api_client.post("/api/auth/verify-email", {"token": first}, format="json").status_code == 400
    assert api_client.post("/api/auth/verify-email", {"token": second}, format="json").status_code == 200
    user.refresh_from_db()
    assert user.email == "segunda@example.com"


def test_the_signup_service_creates_unverified_accounts(make_user):
    assert make_user(verified=False).email_verified_at is None
    assert make_user().email_verified_at is not None  # the shared fixture verifies by default


def test_verification_publishes_email_verified_once_per_link(django_capture_on_commit_callbacks, make_user):
    from anclora.core import events

    seen = []
    handler = lambda **payload: seen.append(payload)  # noqa: E731
    events.subscribe("email_verified", handler)
    try:
        user = make_user(verified=False)
        with django_capture_on_commit_callbacks(execute=True):
            verification.email_verification_send(user=user, base_url="http://testserver/")
        verification.email_verify(token=token_in(mail.outbox[0]))
    finally:
        events._subscribers["email_verified"].remove(handler)
    assert len(seen) == 1 and seen[0]["user"].pk == user.pk and seen[0]["first_verification"] is True


def test_data_migration_marks_existing_accounts_verified(make_user):
    old = make_user(verified=False)
    older = make_user(verified=False, )
    User.objects.filter(pk=older.pk).update(date_joined=timezone.now() - timedelta(days=400))
    already = make_user()
    before = already.email_verified_at
    migration = importlib.import_module("accounts.migrations.0005_email_verification")
    migration.mark_existing_verified(global_apps, None)
    for user in (old, older, already):
        user.refresh_from_db()
    assert old.email_verified_at == old.date_joined
    assert older.email_verified_at == older.date_joined
    assert already.email_verified_at == before  # a verified account keeps its date
