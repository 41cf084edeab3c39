"""Staff second factor on /admin/: enrolment, TOTP, recovery codes, refusal, reset, settings checks."""

import re

import pytest
from django.core.management import call_command
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.admin_site import check_admin_second_factor, check_admin_second_factor_deploy
from accounts.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "Secreta123!"


def _code(device, steps_ahead: int = 0) -> str:
    device.refresh_from_db()
    return str(totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits,
                    drift=device.drift + steps_ahead)).zfill(device.digits)


@pytest.fixture
def staff(make_user):
    return make_user(email="staff@example.com", password=PASSWORD, is_staff=True, is_superuser=True)


def _password_login(client, next_url="/admin/"):
    return client.post(f"/admin/login/?next={next_url}", {"username": "staff@example.com", "password": PASSWORD,
                                                          "next": next_url})


def _enrol(client) -> tuple[TOTPDevice, list[str]]:
    page = client.get("/admin/otp/?next=/admin/")
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user__email="staff@example.com", confirmed=False)
    resp = client.post("/admin/otp/", {"token": _code(device), "device": device.pk, "next": "/admin/"})
    assert resp.status_code == 200
    codes = re.findall(r"<li>([a-z2-7]{8})</li>", resp.content.decode())
    return device, codes


def test_password_alone_does_not_open_the_admin(client, staff):
    resp = _password_login(client)
    assert resp.status_code == 302 and resp["Location"].startswith("/admin/otp/")
    for url in ("/admin/", "/admin/accounts/user/", f"/admin/accounts/user/{staff.pk}/change/",
                "/admin/billing/conversiontransaction/", "/admin/dashboard/"):
        resp = client.get(url)
        assert resp.status_code == 302, url
        assert resp["Location"].startswith("/admin/otp/"), url
        assert "Site administration" not in resp.content.decode()
    # POSTing an admin action without the second factor changes nothing
    other = User.objects.create_user("otra@example.com", PASSWORD)
    resp = client.post("/admin/accounts/user/", {"action": "deactivate_users", "_selected_action": [str(other.pk)]})
    assert resp.status_code == 302 and resp["Location"].startswith("/admin/otp/")
    assert User.objects.get(pk=other.pk).is_active
    # the login page itself sends the half-logged-in staff member on to the second factor
    resp = client.get("/admin/login/?next=/admin/accounts/user/")
    assert resp.status_code == 302 and resp["Location"] == "/admin/otp/?next=%2Fadmin%2Faccounts%2Fuser%2F"


def test_force_login_without_second_factor_is_refused(client, staff):
    client.force_login(staff)
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/accounts/user/").status_code == 302


def test_enrolment_on_first_login_shows_a_local_qr_and_recovery_codes(client, staff):
    _password_login(client)
    page = client.get("/admin/otp/?next=/admin/")
    body = page.content.decode()
    qr = body.split('class="otp-qr"', 1)[1].split("</svg>", 1)[0]
    assert page.status_code == 200 and "<svg" in qr and "otpauth://totp/" in body
    assert "<img" not in qr and "http://" not in qr.replace("http://www.w3.org/2000/svg", "")
    device = TOTPDevice.objects.get(user=staff, confirmed=False)
    # a wrong code keeps the admin closed
    resp = client.post("/admin/otp/", {"token": "000000" if _code(device) != "000000" else "111111",
                                       "device": device.pk, "next": "/admin/"})
    assert resp.status_code == 400
    assert client.get("/admin/").status_code == 302
    # reloading the page keeps the same secret (what the phone scanned)
    client.get("/admin/otp/")
    assert TOTPDevice.objects.filter(user=staff).count() == 1
    device.refresh_from_db()
    device.throttle_reset()  # the wrong code started django-otp's back-off
    resp = client.post("/admin/otp/", {"token": _code(device), "device": device.pk, "next": "/admin/"})
    codes = re.findall(r"<li>([a-z2-7]{8})</li>", resp.content.decode())
    assert resp.status_code == 200 and len(codes) == 10 and len(set(codes)) == 10
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/accounts/user/").status_code == 200
    assert client.get("/admin/dashboard/").status_code == 200


def test_next_login_asks_for_the_totp_code(client, staff):
    _password_login(client)
    device, _codes = _enrol(client)
    client.post("/admin/logout/")
    fresh = Client()
    resp = _password_login(fresh, "/admin/accounts/user/")
    assert resp["Location"] == "/admin/otp/?next=%2Fadmin%2Faccounts%2Fuser%2F"
    page = fresh.get(resp["Location"])
    assert page.status_code == 200 and "otpauth://" not in page.content.decode()  # no new enrolment
    # the code already used for enrolment is not accepted again
    assert fresh.post("/admin/otp/", {"token": _code(device), "next": "/admin/"}).status_code == 400
    assert fresh.get("/admin/").status_code == 302
    device.throttle_reset()
    resp = fresh.post("/admin/otp/", {"token": _code(device, steps_ahead=1), "next": "/admin/accounts/user/"})
    assert resp.status_code == 302 and resp["Location"] == "/admin/accounts/user/"
    assert fresh.get("/admin/accounts/user/").status_code == 200


def test_a_recovery_code_works_once(client, staff):
    _password_login(client)
    _device, codes = _enrol(client)
    client.post("/admin/logout/")

    first = Client()
    _password_login(first)
    resp = first.post("/admin/otp/", {"token": codes[0].upper(), "next": "/admin/"})
    assert resp.status_code == 302 and resp["Location"] == "/admin/"
    assert first.get("/admin/").status_code == 200
    assert StaticToken.objects.filter(device__user=staff).count() == 9

    second = Client()
    _password_login(second)
    assert second.post("/admin/otp/", {"token": codes[0], "next": "/admin/"}).status_code == 400
    assert second.get("/admin/").status_code == 302


def test_wrong_codes_are_throttled(client, staff):
    _password_login(client)
    device, _codes = _enrol(client)
    client.post("/admin/logout/")
    fresh = Client()
    _password_login(fresh)
    wrong = "123456" if _code(device, 1) != "123456" else "654321"
    assert fresh.post("/admin/otp/", {"token": wrong}).status_code == 400
    resp = fresh.post("/admin/otp/", {"token": _code(device, steps_ahead=1)})  # right, but inside the back-off
    assert resp.status_code == 400 and "Demasiados" in resp.content.decode()
    assert fresh.get("/admin/").status_code == 302


def test_non_staff_never_reach_the_second_factor_page(client, make_user):
    assert client.get("/admin/otp/")["Location"].startswith("/admin/login/")
    client.force_login(make_user())
    assert client.get("/admin/otp/")["Location"].startswith("/admin/login/")
    assert client.get("/admin/")["Location"].startswith("/admin/login/")


def test_verified_fixture_opens_the_admin(verified_admin_client):
    assert verified_admin_client.get("/admin/").status_code == 200


def test_reset_by_command_and_by_admin_action(client, staff, otp_login, make_user):
    _password_login(client)
    _enrol(client)
    call_command("staff_2fa_reset", "STAFF@example.com")
    assert not TOTPDevice.objects.filter(user=staff).exists()
    assert not StaticToken.objects.filter(device__user=staff).exists()
    # the session's device is gone: the admin asks to enrol again
    assert client.get("/admin/")["Location"].startswith("/admin/otp/")
    assert "otpauth://" in client.get("/admin/otp/").content.decode()

    colleague = make_user(email="colega@example.com", is_staff=True)
    TOTPDevice.objects.create(user=colleague, name="phone", confirmed=True)
    other = otp_login(Client(), staff)
    resp = other.post("/admin/accounts/user/", {"action": "reset_second_factor",
                                                 "_selected_action": [str(colleague.pk)]})
    assert resp.status_code == 302
    assert not TOTPDevice.objects.filter(user=colleague).exists()


def test_off_switch_for_local_development(client, staff, settings):
    settings.ADMIN_REQUIRE_2FA = False
    resp = _password_login(client)
    assert resp.status_code == 302 and resp["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_system_checks_refuse_the_off_switch_outside_development(settings):
    settings.ADMIN_REQUIRE_2FA = True
    assert check_admin_second_factor() == [] and check_admin_second_factor_deploy() == []
    settings.ADMIN_REQUIRE_2FA = False
    settings.DEBUG = True
    assert check_admin_second_factor() == []
    assert [e.id for e in check_admin_second_factor_deploy()] == ["accounts.E202"]
    settings.DEBUG = False
    assert [e.id for e in check_admin_second_factor()] == ["accounts.E201"]


def test_production_settings_force_it_on():
    source = open("anclora/settings/production.py").read()
    assert "\nADMIN_REQUIRE_2FA = True\n" in source
