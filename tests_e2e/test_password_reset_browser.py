"""Password reset in the browser: from the login page to logging in with the new password."""

import re

import pytest
from django.core import mail

from accounts.models import User

from .conftest import PASSWORD, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Ñandú#2024x"
LINK = re.compile(r"https?://\S+/password-reset/[^/\s]+/[^/\s]+/")


def test_forgotten_password_from_the_login_page_to_a_new_login(page, make_user):
    make_user("olvido@example.com", first_name="Olga")
    mail.outbox.clear()

    page.goto("/login/")
    page.get_by_role("link", name="¿Olvidaste tu contraseña?").click()
    page.get_by_role("heading", name="¿Olvidaste tu contraseña?").wait_for()
    page.get_by_label("Correo electrónico").fill("olvido@example.com")
    shot(page, "password-reset-request")
    page.get_by_role("button", name="Enviar enlace").click()
    page.get_by_text("Si existe una cuenta con ese correo").wait_for()
    shot(page, "password-reset-sent")

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["olvido@example.com"]
    link = LINK.search(message.body).group(0)

    page.goto(link)
    page.get_by_role("heading", name="Elige una contraseña nueva").wait_for()
    assert "set-password" in page.url  # the token left the address bar
    page.get_by_label("Nueva contraseña", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repite la nueva contraseña").fill("Otra-cosa-1")
    page.get_by_role("button", name="Cambiar contraseña").click()
    page.get_by_text("Las dos contraseñas no coinciden").wait_for()
    shot(page, "password-reset-mismatch")

    page.get_by_label("Nueva contraseña", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repite la nueva contraseña").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Cambiar contraseña").click()
    page.get_by_text("Contraseña cambiada").wait_for()
    page.get_by_role("heading", name="Iniciar sesión").wait_for()
    shot(page, "password-reset-done-login")

    page.get_by_label("Correo electrónico").fill("olvido@example.com")
    page.get_by_label("Contraseña").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    page.get_by_text("Has iniciado sesión").wait_for()
    assert page.get_by_role("link", name="Mi cuenta").is_visible()
    assert not User.objects.get(email="olvido@example.com").check_password(PASSWORD)

    # the link works once
    page.goto(link)
    page.get_by_role("heading", name="Enlace no válido").wait_for()
    shot(page, "password-reset-invalid-link")


def test_unknown_address_sees_the_same_page(page):
    mail.outbox.clear()
    page.goto("/password-reset/")
    page.get_by_label("Correo electrónico").fill("nadie@example.com")
    page.get_by_role("button", name="Enviar enlace").click()
    page.get_by_text("Si existe una cuenta con ese correo").wait_for()
    assert mail.outbox == []


def test_english_reset_page(page):
    page.goto("/login/")
    page.select_option("#language-select", "en")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_role("heading", name="Forgot your password?").wait_for()
    shot(page, "password-reset-request-en")
