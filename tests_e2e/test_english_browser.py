"""Switch to English once: every page after that is in English, and the choice is kept."""

import re

import pytest

from accounts.models import User

from .conftest import PASSWORD, convert_for, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Words and letters that only show up in Spanish copy (user data in these pages has none).
SPANISH = re.compile(r"[ñáéíóú¿¡]|\b(de|del|los|las|por|para|una|tus|mis|archivos?|conversión|conversiones|convertir|"
                     r"cuenta|sesión|planes|precio|calidad|gratuito|puntos|créditos?|crédito|pago|caduca)\b",
                     re.IGNORECASE)


def _assert_english(page, where):
    assert page.locator("html").get_attribute("lang") == "en", where
    # a language's own name stays, and so does a place's (the time zone "Los Angeles")
    text = page.locator("body").inner_text().replace("Español", "").replace("Los Angeles", "")
    found = sorted({m.group(0) for m in SPANISH.finditer(text)})
    assert not found, f"Spanish on {where}: {found}"


def test_switch_to_english_everywhere(page, make_user, tmp_path, offline):
    from conversions.tests import enginefiles

    user = make_user("english@example.com", first_name="Kim")
    convert_for(user, enginefiles.make_image(tmp_path / "photo.jpg", "jpg"), "png")

    page.goto("/")
    page.select_option("#language-select", "en")
    page.get_by_role("heading", name="Convert your files").wait_for()
    _assert_english(page, "/")
    for link, heading in (("Plans", "Plans and pricing"), ("My conversions", "My conversions"),
                          ("My files", "My files"), ("Sign up", "Sign up"), ("Log in", "Log in")):
        page.get_by_role("navigation", name="Main navigation").get_by_role("link", name=link, exact=True).click()
        page.get_by_role("heading", name=heading, exact=True).wait_for()
        _assert_english(page, link)

    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("You are logged in").wait_for()
    _assert_english(page, "home, signed in")
    assert User.objects.get(pk=user.pk).language == "es"  # the cookie rules; the profile follows a switch
    for url in ("/conversions/", "/files/", "/plans/", "/rewards/", "/account/", "/no-such-page/"):
        page.goto(url)
        _assert_english(page, url)
        shot(page, "en" + url.rstrip("/").replace("/", "-"))

    # switching while signed in stores the choice in the profile too
    page.select_option("#language-select", "es")
    page.get_by_text("Página no encontrada").wait_for()
    assert User.objects.get(pk=user.pk).language == "es"
    page.select_option("#language-select", "en")
    page.get_by_text("Page not found").wait_for()
    assert User.objects.get(pk=user.pk).language == "en"
