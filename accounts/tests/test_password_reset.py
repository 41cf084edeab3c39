"""Password reset (issue 17): the API and the pages, the e-mailed one-time link, the throttle."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from accounts import password_reset
from accounts.models import User

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Ñandú#2024x"
LINK = re.compile(r"https?://[^/\s]+/password-reset/(?P<uid>[^/\s]+)/(?P<token>[^/\s]+)/")


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run the work deferred to the commit (the e-mail task) as the request's commit would."""
    def run(func, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return func(*args, **kwargs)
    return run


def ask(client, on_commit, email, **extra):
    return on_commit(client.post, "/api/auth/password-reset", {"email": email}, format="json", **extra)


def confirm(client, uid, token, new_password=NEW_PASSWORD):
    return client.post("/api/auth/password-reset/confirm",
                       {"uid": uid, "token": token, "new_password": new_password}, format="json")


def link_in(message) -> re.Match:
    found = LINK.search(message.body)
    assert found, message.body
    return found


def login(client, email, password):
    return client.post("/api/auth/login", {"email": email, "password": password}, format="json")


# --- request ------------------------------------------------------------------------
def test_known_and_unknown_addresses_get_the_same_answer_only_the_known_one_a_mail(api_client, make_user,
                                                                                   on_commit):
    make_user(email="ana@example.com")
    unknown = ask(api_client, on_commit, "nadie@example.com")
    assert mail.outbox == []
    known = ask(api_client, on_commit, "ana@example.com")

    assert unknown.status_code == known.status_code == 202
    assert unknown.content == known.content
    assert known.json() == {"message": "Si existe una cuenta con ese correo, te hemos enviado un enlace "
                                       "para restablecer la contraseña."}
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ana@example.com"]
    assert "contraseña" in message.subject
    link_in(message)


def test_the_address_matches_whatever_its_case_and_spaces(api_client, make_user, on_commit):
    make_user(email="Ana@Example.com")
    assert ask(api_client, on_commit, "  ana@EXAMPLE.com ").status_code == 202
    assert [m.to for m in mail.outbox] == [["Ana@example.com"]]


def test_inactive_accounts_get_no_mail(api_client, make_user, on_commit):
    user = make_user(email="baja@example.com")
    User.objects.filter(pk=user.pk).update(is_active=False)
    resp = ask(api_client, on_commit, "baja@example.com")
    assert resp.status_code == 202
    assert mail.outbox == []


def test_a_failing_mail_server_does_not_break_the_request(api_client, make_user, on_commit, settings, caplog):
    settings.EMAIL_BACKEND = "accounts.tests.test_password_reset.BrokenBackend"
    make_user(email="ana@example.com")
    with caplog.at_level(logging.ERROR, logger="accounts"):
        resp = ask(api_client, on_commit, "ana@example.com")
    assert resp.status_code == 202
    assert any("could not be sent" in r.getMessage() for r in caplog.records)


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP down")


def test_email_is_required_and_bounded(api_client):
    resp = api_client.post("/api/auth/password-reset", {}, format="json")
    assert resp.status_code == 400 and "email" in resp.json()["details"]
    resp = api_client.post("/api/auth/password-reset", {"email": "a" * 250 + "@example.com"}, format="json")
    assert resp.status_code == 400 and "email" in resp.json()["details"]


# --- the e-mail ------------------------------------------------------------------------
def test_the_mail_is_in_the_users_language(api_client, make_user, on_commit):
    make_user(email="en@example.com", first_name="Ann", language="en")
    make_user(email="es@example.com", first_name="Ana", language="es")
    ask(api_client, on_commit, "en@example.com")
    ask(api_client, on_commit, "es@example.com")
    english, spanish = mail.outbox
    assert english.subject == "Anclora Converter: reset your password"
    assert "Hello Ann," in english.body and "expires in 1 hour" in english.body
    assert "contraseña" not in english.body.lower()
    assert spanish.subject == "Anclora Converter: restablece tu contraseña"
    assert "Hola Ana:" in spanish.body and "caduca en 1 hora" in spanish.body
    link_in(english)
    link_in(spanish)


# --- confirm -----------------------------------------------------------------------------
def test_the_link_sets_the_password_revokes_refresh_tokens_and_works_once(api_client, make_user, on_commit,
                                                                         caplog):
    make_user(email="ana@example.com")
    refresh = login(api_client, "ana@example.com", PASSWORD).json()["refresh_token"]
    ask(api_client, on_commit, "ana@example.com")
    found = link_in(mail.outbox[0])

    with caplog.at_level(logging.INFO, logger="accounts"):
        resp = confirm(api_client, found["uid"], found["token"])
    assert resp.status_code == 200, resp.content
    assert resp.json()["message"]
    logged = [r for r in caplog.records if r.name.startswith("accounts") and "password reset" in r.getMessage()]
    assert logged and all(found["token"] not in r.getMessage() for r in caplog.records)

    assert login(api_client, "ana@example.com", PASSWORD).status_code == 401
    assert login(api_client, "ana@example.com", NEW_PASSWORD).status_code == 200
    assert api_client.post("/api/auth/refresh", {"refresh": refresh}, format="json").status_code == 401

    again = confirm(api_client, found["uid"], found["token"], "Otra-Clave-2027")
    assert again.status_code == 400 and again.json()["code"] == "invalid_token"
    assert "token" in again.json()["details"]
    assert login(api_client, "ana@example.com", NEW_PASSWORD).status_code == 200


@pytest.mark.parametrize("mangle", [
    lambda uid, token: (uid, token[:-1] + ("a" if token[-1] != "a" else "b")),
    lambda uid, token: (uid, "x"),
    lambda uid, token: ("bm9wZQ", token),  # "nope"
    lambda uid, token: ("!!!", token),
    lambda uid, token: ("", token),
])
def test_a_bad_link_is_400_invalid_token(api_client, make_user, on_commit, mangle):
    make_user(email="ana@example.com")
    ask(api_client, on_commit, "ana@example.com")
    found = link_in(mail.outbox[0])
    uid, token = mangle(found["uid"], found["token"])
    resp = confirm(api_client, uid, token)
    assert resp.status_code == 400
    assert resp.json()["code"] in ("invalid_token", "validation_error")
    assert login(api_client, "ana@example.com", PASSWORD).status_code == 200


def test_another_users_uid_with_my_token_is_refused(api_client, make_user, on_commit):
    make_user(email="ana@example.com")
    other = make_user(email="eva@example.com")
    ask(api_client, on_commit, "ana@example.com")
    found = link_in(mail.outbox[0])
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    resp = confirm(api_client, urlsafe_base64_encode(force_bytes(other.pk)), found["token"])
    assert resp.status_code == 400 and resp.json()["code"] == "invalid_token"


def test_the_link_expires(api_client, make_user, on_commit, settings):
    assert settings.PASSWORD_RESET_TIMEOUT == 3600
    make_user(email="ana@example.com")
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        ask(api_client, on_commit, "ana@example.com")
        found = link_in(mail.outbox[0])
        traveller.shift(timedelta(minutes=59))
        assert password_reset.password_reset_user(uidb64=found["uid"], token=found["token"]) is not None
        traveller.shift(timedelta(minutes=2))
        resp = confirm(api_client, found["uid"], found["token"])
    assert resp.status_code == 400 and resp.json()["code"] == "invalid_token"


def test_a_weak_password_is_400_naming_new_password_and_the_link_still_works(api_client, make_user, on_commit):
    make_user(email="ana@example.com")
    ask(api_client, on_commit, "ana@example.com")
    found = link_in(mail.outbox[0])
    resp = confirm(api_client, found["uid"], found["token"], "debil")
    assert resp.status_code == 400
    body = resp.json()
    assert body["code"] == "weak_password"
    assert any("mayúscula" in m for m in body["details"]["new_password"])
    assert confirm(api_client, found["uid"], found["token"]).status_code == 200


def test_confirm_fields_are_required_and_bounded(api_client):
    resp = api_client.post("/api/auth/password-reset/confirm", {}, format="json")
    assert resp.status_code == 400
    assert {"uid", "token", "new_password"} <= set(resp.json()["details"])
    resp = confirm(api_client, "u" * 65, "t" * 129, "x" * 129)
    assert {"uid", "token", "new_password"} <= set(resp.json()["details"])


def test_an_inactive_account_cannot_use_its_link(api_client, make_user, on_commit):
    user = make_user(email="ana@example.com")
    ask(api_client, on_commit, "ana@example.com")
    found = link_in(mail.outbox[0])
    User.objects.filter(pk=user.pk).update(is_active=False)
    resp = confirm(api_client, found["uid"], found["token"])
    assert resp.status_code == 400 and resp.json()["code"] == "invalid_token"


def test_the_link_lifts_the_login_lockout(api_client, make_user, on_commit, settings):
    make_user(email="ana@example.com")
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        login(api_client, "ana@example.com", "Incorrecta1!")
    assert login(api_client, "ana@example.com", PASSWORD).status_code == 429
    ask(api_client, on_commit, "ana@example.com")
    found = link_in(mail.outbox[0])
    assert confirm(api_client, found["uid"], found["token"]).status_code == 200
    assert login(api_client, "ana@example.com", NEW_PASSWORD).status_code == 200


# --- throttle ------------------------------------------------------------------------
def test_per_email_limit_answers_the_same_but_sends_nothing(api_client, make_user, on_commit, settings):
    settings.PASSWORD_RESET_EMAIL_LIMIT = 2
    make_user(email="ana@example.com")
    answers = [ask(api_client, on_commit, "ana@example.com", REMOTE_ADDR=f"10.0.0.{i}") for i in range(4)]
    assert {(r.status_code, r.content) for r in answers} == {(202, answers[0].content)}
    assert len(mail.outbox) == 2
    # the same limit for an unknown address: the throttle reveals nothing either
    unknown = [ask(api_client, on_commit, "nadie@example.com", REMOTE_ADDR=f"10.0.1.{i}") for i in range(4)]
    assert {(r.status_code, r.content) for r in unknown} == {(202, answers[0].content)}


def test_per_email_limit_counts_the_address_whatever_its_case(api_client, make_user, on_commit, settings):
    settings.PASSWORD_RESET_EMAIL_LIMIT = 1
    make_user(email="ana@example.com")
    ask(api_client, on_commit, "ana@example.com")
    ask(api_client, on_commit, "ANA@example.com ")
    assert len(mail.outbox) == 1


def test_per_address_limit_is_429_with_retry_after(api_client, make_user, on_commit, settings):
    settings.PASSWORD_RESET_ADDRESS_LIMIT = 3
    make_user(email="ana@example.com")
    for i in range(3):
        assert ask(api_client, on_commit, f"x{i}@example.com").status_code == 202
    resp = ask(api_client, on_commit, "ana@example.com")
    assert resp.status_code == 429
    assert resp.json()["code"] == "too_many_requests"
    assert 1 <= int(resp["Retry-After"]) <= settings.PASSWORD_RESET_WINDOW_SECONDS + 1
    assert mail.outbox == []
    # another client address is not affected
    assert ask(api_client, on_commit, "ana@example.com", REMOTE_ADDR="10.9.9.9").status_code == 202
    assert len(mail.outbox) == 1


def test_the_address_is_taken_from_trusted_proxies_only(api_client, on_commit, settings):
    settings.PASSWORD_RESET_ADDRESS_LIMIT = 1
    settings.TRUSTED_PROXY_COUNT = 0
    assert ask(api_client, on_commit, "a@example.com", HTTP_X_FORWARDED_FOR="1.1.1.1").status_code == 202
    # a forged X-Forwarded-For does not make a new address
    assert ask(api_client, on_commit, "a@example.com", HTTP_X_FORWARDED_FOR="2.2.2.2").status_code == 429


def test_the_window_ends(api_client, on_commit, settings):
    settings.PASSWORD_RESET_ADDRESS_LIMIT = 1
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        assert ask(api_client, on_commit, "a@example.com").status_code == 202
        retry = int(ask(api_client, on_commit, "a@example.com")["Retry-After"])
        traveller.shift(timedelta(seconds=retry))
        assert ask(api_client, on_commit, "a@example.com").status_code == 202


# --- pages ---------------------------------------------------------------------------------
def test_login_page_links_to_the_reset_page(client):
    html = client.get("/login/").content.decode()
    assert 'href="/password-reset/"' in html and "¿Olvidaste tu contraseña?" in html


def test_reset_pages_answer_the_same_for_known_and_unknown_addresses(client, make_user, on_commit):
    make_user(email="ana@example.com")
    unknown = on_commit(client.post, "/password-reset/", {"email": "nadie@example.com"})
    known = on_commit(client.post, "/password-reset/", {"email": "ana@example.com"})
    assert unknown.status_code == known.status_code == 302
    assert unknown["Location"] == known["Location"] == "/password-reset/sent/"
    page = client.get("/password-reset/sent/")
    assert "Si existe una cuenta con ese correo" in page.content.decode()
    assert len(mail.outbox) == 1


def test_reset_page_over_the_address_limit_is_429(client, on_commit, settings):
    settings.PASSWORD_RESET_ADDRESS_LIMIT = 1
    on_commit(client.post, "/password-reset/", {"email": "a@example.com"})
    resp = on_commit(client.post, "/password-reset/", {"email": "a@example.com"})
    assert resp.status_code == 429 and resp["Retry-After"]
    assert "Demasiadas solicitudes" in resp.content.decode()


def test_the_link_page_sets_the_password(client, make_user, on_commit):
    make_user(email="ana@example.com")
    on_commit(client.post, "/password-reset/", {"email": "ana@example.com"})
    found = link_in(mail.outbox[0])
    first = client.get(found.group(0)[found.group(0).index("/password-reset/"):])
    assert first.status_code == 302 and found["token"] not in first["Location"]
    form_url = first["Location"]
    page = client.get(form_url)
    assert page.status_code == 200 and "Elige una contraseña nueva" in page.content.decode()
    assert "no-store" in page.get("Cache-Control", "") or "no-cache" in page.get("Cache-Control", "")

    mismatch = client.post(form_url, {"new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x"})
    assert "no coinciden" in mismatch.content.decode()
    weak = client.post(form_url, {"new_password": "debil", "new_password2": "debil"})
    assert "mayúscula" in weak.content.decode()

    done = client.post(form_url, {"new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True)
    assert done.redirect_chain[-1][0] == "/login/"
    assert "Contraseña cambiada" in done.content.decode()
    assert User.objects.get(email="ana@example.com").check_password(NEW_PASSWORD)

    again = client.get(found.group(0)[found.group(0).index("/password-reset/"):], follow=True)
    assert "no es válido o ha caducado" in again.content.decode()


def test_a_bad_link_page_says_so(client):
    page = client.get("/password-reset/bm9wZQ/abc-def/", follow=True)
    assert page.status_code == 200
    assert "no es válido o ha caducado" in page.content.decode()
    assert 'href="/password-reset/"' in page.content.decode()


def test_the_service_never_sends_for_users_without_a_usable_password(make_user):
    user = make_user(email="ana@example.com")
    user.set_unusable_password()
    user.save()
    assert password_reset.password_reset_email_send(email="ana@example.com", base_url="http://testserver/") == 0
    assert mail.outbox == []


# --- one use under concurrency ----------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_parallel_uses_of_one_link_set_the_password_once(live_server, make_user):
    import json
    import urllib.error
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("parallel requests need real Postgres (set DATABASE_URL); SQLite serialises writes")
    user = make_user(email="ana@example.com")
    found = LINK.search(password_reset.password_reset_link(user=user, base_url="http://testserver/"))

    def use(i):
        body = json.dumps({"uid": found["uid"], "token": found["token"], "new_password": f"Nueva-Clave-{i}x"})
        request = urllib.request.Request(f"{live_server.url}/api/auth/password-reset/confirm", data=body.encode(),
                                         method="POST", headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as resp:
                return resp.status, i
        except urllib.error.HTTPError as exc:
            return exc.code, i

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(use, range(8)))
    winners = [i for code, i in results if code == 200]
    assert len(winners) == 1, results
    assert sorted(code for code, _ in results) == [200] + [400] * 7
    user.refresh_from_db()
    assert user.check_password(f"Nueva-Clave-{winners[0]}x")
