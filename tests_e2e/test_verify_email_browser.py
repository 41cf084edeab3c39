"""Verified e-mail in the browser: sign up, the notice, the link from the outbox, resend, change e-mail."""

import re

import pytest
from django.core import mail

from accounts.models import User

from .conftest import PASSWORD, log_in, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LINK = re.compile(r"https?://\S+/account/verify/[^/\s]+/")


def link_in(message) -> str:
    found = LINK.search(message.body)
    assert found, message.body
    return found.group(0)


def test_sign_up_see_the_notice_open_the_link_and_be_verified(page):
    mail.outbox.clear()
    page.goto("/signup/")
    page.get_by_label("Correo electrónico").fill("verifica@example.com")
    page.get_by_label("Nombre", exact=True).fill("Vera")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Crear cuenta").click()
    page.locator(".messages").get_by_text("Te hemos enviado un enlace a verifica@example.com").wait_for()
    shot(page, "verify-signup-message")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["verifica@example.com"]

    page.goto("/account/")
    notice = page.locator(".verify-notice")
    notice.get_by_role("heading", name="Verifica tu email").wait_for()
    assert "no ganas puntos" in notice.inner_text()
    shot(page, "verify-notice-account")

    # the resend button answers within the cool-down with a message, not a second mail
    notice.get_by_role("button", name="Reenviar el enlace").click()
    page.get_by_text("Puedes pedir otro dentro de").wait_for()
    assert len(mail.outbox) == 1

    page.goto("/rewards/")
    page.locator(".verify-notice").wait_for()
    assert page.get_by_role("button", name="Canjear").is_disabled()
    shot(page, "verify-notice-rewards")

    page.goto(link_in(mail.outbox[0]))
    shot(page, "verify-confirm-page")
    page.get_by_role("button", name="Confirmar mi email").click()
    page.get_by_text("¡Email verificado!").wait_for()
    assert page.locator(".verify-notice").count() == 0
    assert page.get_by_text("Email verificado", exact=True).is_visible()
    shot(page, "verify-done-account")
    assert User.objects.get(email="verifica@example.com").email_verified_at is not None

    # the same link a second time explains itself
    page.goto(link_in(mail.outbox[0]))
    page.get_by_role("button", name="Confirmar mi email").click()
    page.get_by_text("no es válido o ya se ha usado").wait_for()
    shot(page, "verify-link-used")


def test_change_email_keeps_the_old_one_until_the_link_is_opened(page, make_user):
    make_user("antes@example.com", first_name="Carla")
    mail.outbox.clear()
    log_in(page, "antes@example.com")
    page.goto("/account/")
    form = page.locator("#email")
    form.get_by_label("Nuevo email").fill("despues@example.com")
    form.get_by_label("Contraseña actual").fill(PASSWORD)
    form.get_by_role("button", name="Cambiar email").click()
    page.locator(".messages").get_by_text("Hasta que lo abras, sigues entrando con antes@example.com").wait_for()
    page.locator(".verify-notice").get_by_role("heading", name="Confirma tu nuevo email").wait_for()
    shot(page, "verify-change-pending")
    assert mail.outbox[-1].to == ["despues@example.com"]
    user = User.objects.get(email="antes@example.com")
    assert user.pending_email == "despues@example.com"

    page.goto(link_in(mail.outbox[-1]))
    page.get_by_role("button", name="Confirmar mi email").click()
    page.get_by_text("despues@example.com ya es el email de tu cuenta").wait_for()
    assert page.locator(".verify-notice").count() == 0
    shot(page, "verify-change-done")
    user.refresh_from_db()
    assert user.email == "despues@example.com" and user.pending_email == ""

    page.get_by_role("button", name="Cerrar sesión").click()
    page.get_by_text("Has cerrado sesión").wait_for()
    log_in(page, "despues@example.com")
