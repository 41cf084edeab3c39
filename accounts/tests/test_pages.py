import pytest

from accounts.models import AnonymousSession, User

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_signup_page_creates_account_and_logs_in(client):
    resp = client.get("/signup/")
    assert resp.status_code == 200 and b"csrfmiddlewaretoken" in resp.content
    resp = client.post("/signup/", {"email": "pagina@example.com", "password": PASSWORD,
                                    "first_name": "Pepa"}, follow=True)
    assert resp.status_code == 200
    assert User.objects.filter(email="pagina@example.com").exists()
    assert resp.context["user"].is_authenticated
    assert "Bienvenido" in resp.content.decode()


def test_signup_page_shows_password_errors(client):
    resp = client.post("/signup/", {"email": "pagina@example.com", "password": "debil"})
    assert resp.status_code == 200
    assert "mayúscula" in resp.content.decode()
    assert not User.objects.filter(email="pagina@example.com").exists()


def test_login_logout_pages(client, make_user):
    make_user(email="ana@example.com")
    resp = client.post("/login/", {"email": "ana@example.com", "password": "Mal123!!x"})
    assert resp.status_code == 401
    assert "incorrectos" in resp.content.decode()
    resp = client.post("/login/", {"email": "ana@example.com", "password": PASSWORD}, follow=True)
    assert resp.context["user"].is_authenticated
    resp = client.post("/logout/", follow=True)
    assert not resp.context["user"].is_authenticated


def test_login_page_adopts_page_session(client, make_user):
    user = make_user(email="ana@example.com")
    session = AnonymousSession.objects.create()
    s = client.session
    s["anon_session_id"] = str(session.session_id)
    s.save()
    client.post("/login/", {"email": "ana@example.com", "password": PASSWORD})
    session.refresh_from_db()
    assert session.adopted_by_id == user.pk


def test_account_page_edit_password_delete(client, make_user):
    user = make_user(email="ana@example.com")
    client.force_login(user)
    assert client.get("/account/").status_code == 200
    client.post("/account/", {"action": "profile", "first_name": "Ana", "last_name": "López",
                              "language": "en", "time_zone": "Europe/London"})
    user.refresh_from_db()
    assert user.last_name == "López" and user.language == "en"
    resp = client.post("/account/", {"action": "password", "old_password": PASSWORD,
                                     "new_password": "Otra456$$"}, follow=True)
    user.refresh_from_db()
    assert user.check_password("Otra456$$")
    assert resp.context["user"].is_authenticated  # session kept after password change
    resp = client.post("/account/", {"action": "delete", "password": "wrong"})
    assert User.objects.filter(pk=user.pk).exists()
    client.post("/account/", {"action": "delete", "password": "Otra456$$"})
    assert not User.objects.filter(pk=user.pk).exists()


def test_account_requires_login(client):
    resp = client.get("/account/")
    assert resp.status_code == 302 and "/login/" in resp["Location"]


def test_language_switch_english(client):
    resp = client.post("/language/", {"language": "en", "next": "/login/"}, follow=True)
    assert resp.status_code == 200
    assert "Log in" in resp.content.decode()


def test_admin_pages_load_for_staff(client, make_user, otp_login):
    admin_user = make_user(email="staff@example.com", is_staff=True, is_superuser=True)
    otp_login(client, admin_user)
    for url in ("/admin/", "/admin/accounts/user/", "/admin/accounts/subscriptionplan/",
                "/admin/accounts/usersubscription/", "/admin/accounts/anonymoussession/",
                f"/admin/accounts/user/{admin_user.pk}/change/",
                "/admin/django_celery_beat/periodictask/"):
        assert client.get(url).status_code == 200, url


def test_admin_grant_credits_action(client, make_user, otp_login):
    staff = make_user(email="staff@example.com", is_staff=True, is_superuser=True)
    target = make_user(email="target@example.com")
    otp_login(client, staff)
    resp = client.post("/admin/accounts/user/", {"action": "grant_credits",
                                                 "_selected_action": [str(target.pk)],
                                                 "apply": "1", "credits": "4"})
    assert resp.status_code in (200, 302)
    target.refresh_from_db()
    assert target.conversion_credits == 4


def test_admin_forbidden_for_non_staff(client, make_user):
    client.force_login(make_user())
    resp = client.get("/admin/accounts/user/")
    assert resp.status_code == 302 and "/admin/login/" in resp["Location"]


def test_admin_login_is_throttled(client, make_user):
    make_user(email="staff@example.com", is_staff=True)
    for _ in range(5):
        resp = client.post("/admin/login/", {"username": "staff@example.com", "password": "Mala123!x"})
        assert resp.status_code == 200 and not resp.context["user"].is_authenticated
    resp = client.post("/admin/login/", {"username": "staff@example.com", "password": PASSWORD})
    assert "Demasiados intentos" in resp.content.decode()
    assert not resp.wsgi_request.user.is_authenticated


def test_admin_grant_actions_ask_for_the_amount_first(client, make_user, otp_login):
    staff = make_user(email="staff@example.com", is_staff=True, is_superuser=True)
    target = make_user(email="target@example.com")
    otp_login(client, staff)
    for action in ("grant_credits", "grant_points"):
        resp = client.post("/admin/accounts/user/", {"action": action, "_selected_action": [str(target.pk)]})
        html = resp.content.decode()
        assert resp.status_code == 200 and "target@example.com" in html
        assert f'name="action" value="{action}"' in html
