import pytest

from accounts.models import User

from .conftest import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_up_log_out_and_log_in(page):
    page.goto("/")
    page.get_by_role("link", name="Crear cuenta").first.click()
    page.get_by_label("Correo electrónico").fill("navegador@example.com")
    page.get_by_label("Nombre", exact=True).fill("Nav")
    page.get_by_label("Contraseña").fill("debil")
    page.get_by_role("button", name="Crear cuenta").click()
    assert page.get_by_text("al menos una letra mayúscula").is_visible()
    shot(page, "signup-error")

    page.get_by_label("Contraseña").fill("Anclora-2026x")
    page.get_by_role("button", name="Crear cuenta").click()
    page.get_by_text("Tu cuenta está lista").wait_for()
    shot(page, "signup-ok")
    assert User.objects.filter(email="navegador@example.com").exists()

    page.get_by_role("button", name="Cerrar sesión").click()
    page.get_by_text("Has cerrado sesión").wait_for()

    page.get_by_role("link", name="Iniciar sesión").click()
    page.get_by_label("Correo electrónico").fill("navegador@example.com")
    page.get_by_label("Contraseña").fill("Anclora-2026x")
    page.get_by_role("button", name="Entrar").click()
    page.get_by_text("Has iniciado sesión").wait_for()
    assert page.get_by_role("link", name="Mi cuenta").is_visible()
    shot(page, "login-ok")


def test_phone_width_has_no_horizontal_scroll(page):
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto("/signup/")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    shot(page, "signup-phone")
    assert overflow <= 0


def test_language_switch_to_english(page):
    page.goto("/login/")
    page.select_option("#language-select", "en")
    page.get_by_role("heading", name="Log in").wait_for()
    assert page.locator("html").get_attribute("lang") == "en"
