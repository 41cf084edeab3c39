"""Every page at phone and desktop width: screenshots under var/screenshots/, no horizontal scroll."""

import pytest

from conversions.tests import enginefiles

from .conftest import convert_for, log_in, no_horizontal_scroll, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (375, 1280)


def _both_widths(page, name, url=None):
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        if url:
            page.goto(url)
        shot(page, f"{name}-{width}")
        assert no_horizontal_scroll(page), f"{name} scrolls sideways at {width} px"


@pytest.fixture
def busy_user(make_user, tmp_path, offline):
    """A user with conversions, files, points, credits, a pending payment and rivals on the board."""
    from accounts.owners import Owner
    from billing import services as billing_services
    from factories import give_credits
    from gamification.services import rewards_award

    user = make_user("ana.martinez.de.la.fuente@example.com", first_name="Ana", last_name="Martínez")
    photo = enginefiles.make_image(tmp_path / "fotografia-de-las-vacaciones-de-verano.jpg", "jpg")
    convert_for(user, photo, "png", n=2)
    rewards_award(user=user, action="admin_grant", points=260, idempotency_key="e2e-pages")
    give_credits(user, 3)
    for i, points in enumerate((900, 40)):
        rival = make_user(f"rival{i}@example.com", first_name=f"Rival{i}")
        rewards_award(user=rival, action="admin_grant", points=points, idempotency_key="e2e-pages")
    tx = billing_services.transaction_create(owner=Owner(user=user), conversion_request={
        "source_format": "png", "target_format": "jpg", "file_size_mb": 1, "quality": "high"})["transaction"]
    return user, tx


def test_every_page_at_phone_and_desktop_width(page, busy_user, tmp_path):
    user, tx = busy_user
    _both_widths(page, "login", "/login/")
    _both_widths(page, "signup", "/signup/")
    _both_widths(page, "404", "/no-existe/")
    log_in(page, user.email)
    _both_widths(page, "convert", "/")
    _both_widths(page, "my-conversions", "/conversions/")
    _both_widths(page, "my-files", "/files/")
    _both_widths(page, "plans", "/plans/")
    _both_widths(page, "checkout", f"/checkout/{tx.pk}/")
    _both_widths(page, "rewards", "/rewards/")
    _both_widths(page, "account", "/account/")

    page.set_viewport_size({"width": 375, "height": 900})
    page.goto("/")
    photo = enginefiles.make_image(tmp_path / "captura.png", "png", size=(200, 150))
    page.set_input_files("#id_file", [str(photo), str(photo.with_name("captura.png"))])
    page.get_by_text("Detectado: PNG").first.wait_for()
    page.select_option("#id_target_format", "webp")
    page.get_by_role("button", name="Convertir").click()
    page.locator("#result-list .status-completed").first.wait_for()
    page.locator("#zip-link").wait_for()
    _both_widths(page, "results")
