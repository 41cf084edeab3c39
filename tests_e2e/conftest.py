"""End-to-end tests in Debian's headless Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import _skip_or_fail
from factories import PASSWORD  # noqa: F401 (the password of every make_user account)

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between browser steps are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        _skip_or_fail("Debian chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="es-ES")
    page = context.new_page()
    foreign = []

    def watch(request):
        url = request.url
        if not (url.startswith(live_server.url) or url.startswith("data:") or url.startswith("blob:")):
            foreign.append(url)

    page.on("request", watch)
    yield page
    context.close()
    assert not foreign, f"page requested other hosts: {foreign}"


def shot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path




@pytest.fixture
def offline(settings):
    """Payments through the offline test-mode provider (no Stripe, no network)."""
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_API_BASE = ""


def log_in(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login/")
    page.get_by_label("Correo electrónico").fill(email)
    page.get_by_label("Contraseña").fill(password)
    page.get_by_role("button", name="Entrar").click()
    page.get_by_text("Has iniciado sesión").wait_for()


def convert_for(user, path: Path, target: str, n: int = 1) -> list:
    """n conversions for the user through the service (the eager worker runs them on commit)."""
    from accounts.owners import Owner
    from conversions import services

    created = []
    for _ in range(n):
        created += services.conversion_request(
            owner=Owner(user=user), target_format=target,
            uploads=[services.Upload(path=path, name=path.name, size=path.stat().st_size)],
        )
    return created


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
