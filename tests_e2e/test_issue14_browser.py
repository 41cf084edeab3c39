"""Issue 14 in headless Chromium, in Spanish and English, at 375 and 1280 px: the phone menu, the
admin dashboard's charts, the rewards page, the convert page (focus, refreshed list, price first,
the zip's name), and axe-core (served from tests_e2e/vendor, never from the network) on every page
with no serious or critical violation. Every page is kept as a screenshot under var/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from accounts.models import AnonymousSession, User
from conversions.models import Conversion
from conversions.tests import enginefiles

from .conftest import CHROMIUM, PASSWORD, convert_for, log_in, no_horizontal_scroll, shot  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
WIDTHS = (375, 1280)
MENU = {"es": "Menú", "en": "Menu"}


@pytest.fixture
def context_for(browser, live_server):
    """context_for(lang, width, js=True) -> a page in that language (the language cookie too)."""
    contexts = []

    def make(lang: str, width: int = 1280, js: bool = True):
        context = browser.new_context(base_url=live_server.url, locale="es-ES" if lang == "es" else "en-GB",
                                      viewport={"width": width, "height": 900}, java_script_enabled=js)
        host = live_server.url.split("//", 1)[1].split(":")[0]
        context.add_cookies([{"name": "django_language", "value": lang, "domain": host, "path": "/"}])
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def _login_as(page, live_server, user, *, otp=False):
    """Log the page's context in as `user` through a session made by the test client."""
    from django.test import Client

    client = Client()
    if otp:
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = TOTPDevice.objects.create(user=user, name="e2e", confirmed=True)
        client.force_login(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    else:
        client.force_login(user)
    host = live_server.url.split("//", 1)[1].split(":")[0]
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                               "domain": host, "path": "/"}])


def _user(email="ana@example.com", lang="es", **extra):
    from accounts import services as account_services
    from factories import verified

    user = verified(account_services.user_create(email=email, password=PASSWORD, **extra))
    User.objects.filter(pk=user.pk).update(language=lang)
    return User.objects.get(pk=user.pk)


def axe_violations(page) -> list[str]:
    """Serious and critical axe-core violations of the page as it stands."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
          .map(v => v.id + ': ' + v.help + ' -> ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
    }""")
    return result


def _no_mid_word_breaks(page, selector: str) -> list[str]:
    """Texts under selector with a word split over two lines."""
    return page.evaluate("""(sel) => {
        const broken = [];
        document.querySelectorAll(sel).forEach(el => {
          const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
          let node;
          while ((node = walker.nextNode())) {
            const re = /\\S+/g; let m;
            while ((m = re.exec(node.textContent))) {
              const range = document.createRange();
              range.setStart(node, m.index); range.setEnd(node, m.index + m[0].length);
              const tops = new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top)));
              if (tops.size > 1) broken.push(m[0]);
            }
          }
        });
        return broken;
    }""", selector)


# --- phone menu ---------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["es", "en"])
@pytest.mark.parametrize("js", [True, False])
def test_phone_nav_folds_behind_a_menu_button(context_for, live_server, lang, js):
    page = context_for(lang, 375, js=js)
    _login_as(page, live_server, _user(lang=lang))
    page.goto("/")
    header = page.locator(".site-header")
    links = page.locator("#nav-links")
    assert links.is_hidden()
    # one line: brand, menu, language (without JavaScript the language form's button may take a second)
    assert header.bounding_box()["height"] < (80 if js else 110)
    page.get_by_text(MENU[lang], exact=True).click()
    assert links.is_visible()
    shot(page, f"nav-open-{lang}-375{'' if js else '-nojs'}")
    page.locator("#nav-links a[href='/rewards/']").click()
    page.wait_for_url("**/rewards/")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert page.locator(".nav-toggle-label").is_hidden() and page.locator("#nav-links").is_visible()
    assert header.bounding_box()["height"] < (80 if js else 110)


# --- admin dashboard ------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["es", "en"])
def test_dashboard_bars_are_drawn_and_fit_a_phone(context_for, live_server, lang, tmp_path):
    member = _user("socia@example.com")
    convert_for(member, enginefiles.make_image(tmp_path / "foto.jpg", "jpg"), "png", n=2)
    staff = _user("jefa@example.com", lang=lang)
    User.objects.filter(pk=staff.pk).update(is_staff=True, is_superuser=True)
    for width in WIDTHS:
        page = context_for(lang, width)
        errors = []
        page.on("console", lambda msg, errors=errors: errors.append(msg.text) if msg.type == "error" else None)
        _login_as(page, live_server, User.objects.get(pk=staff.pk), otp=True)
        page.goto("/admin/dashboard/")
        sizes = page.evaluate("""() => Array.from(document.querySelectorAll('svg.dash-chart rect'))
            .map(r => r.getBBox().width)""")
        assert len(sizes) == 60 and all(w > 0 for w in sizes), sizes[:5]
        today = page.locator("svg.dash-chart").first.locator("rect").last.bounding_box()
        assert today["height"] > 10  # today's two conversions are a visible bar
        assert not [e for e in errors if "Expected length" in e or "attribute" in e]
        text = page.locator(".dash-table").inner_text()
        assert "socia@example.com" in text
        assert ("PNG" in text) and not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", text)
        shot(page, f"admin-dashboard-{lang}-{width}")
        assert no_horizontal_scroll(page), f"dashboard scrolls sideways at {width} px"


# --- rewards --------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["es", "en"])
def test_rewards_icons_words_and_leaderboard(context_for, live_server, lang):
    from gamification.services import rewards_award

    user = _user("maria.gonzalez.de.la.fuente@example.com", lang=lang, first_name="María", last_name="González")
    rewards_award(user=user, action="admin_grant", points=1250, idempotency_key="e2e-14")
    for i, points in enumerate((4200, 300)):
        rival = _user(f"rival{i}@example.com", first_name=f"Rivalidad{i}", last_name="Extraordinaria")
        rewards_award(user=rival, action="admin_grant", points=points, idempotency_key="e2e-14")
    for width in WIDTHS:
        page = context_for(lang, width)
        _login_as(page, live_server, user)
        page.goto("/rewards/")
        icons = page.locator(".achievement-icon")
        assert icons.count() == 15
        drawn = page.evaluate("""() => Array.from(document.querySelectorAll('.achievement-icon use'))
            .map(u => { const b = u.getBBox(); return b.width * b.height; })""")
        assert all(area > 50 for area in drawn), drawn
        assert _no_mid_word_breaks(page, ".achievement-name") == []
        assert _no_mid_word_breaks(page, ".leaderboard") == []
        board = page.locator(".leaderboard")
        box = board.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
        assert no_horizontal_scroll(page)
        described = page.get_attribute("#id_points", "aria-describedby")
        assert page.locator(f"#{described}").count() == 1
        shot(page, f"rewards-{lang}-{width}")


# --- convert page ---------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["es", "en"])
def test_convert_moves_focus_refreshes_the_list_and_names_the_zip(context_for, live_server, lang, tmp_path):
    user = _user(lang=lang)
    convert_for(user, enginefiles.make_image(tmp_path / "antigua.jpg", "jpg"), "png")
    page = context_for(lang, 375)
    _login_as(page, live_server, user)
    page.goto("/")
    assert "antigua.jpg" in page.locator("#recent").inner_text()
    files = [enginefiles.make_image(tmp_path / name, "png", size=(120, 90)) for name in ("uno.png", "dos.png")]
    page.set_input_files("#id_file", [str(p) for p in files])
    page.locator("#file-list li", has_text="dos.png").wait_for()
    assert re.search(r"— \d+\u00a0B —", page.locator("#file-list").inner_text())  # "310 B", not "310 byte"
    assert " byte" not in page.locator("#file-list").inner_text()
    page.select_option("#id_target_format", "jpg")
    page.locator("#convert-button").click()
    page.locator("#result-list .status-completed").nth(1).wait_for()
    assert page.evaluate("document.activeElement.id") == "results"
    page.locator("#recent", has_text="uno.png").wait_for()  # refreshed without reloading
    assert "dos.png" in page.locator("#recent").inner_text()
    with page.expect_download() as info:
        page.locator("#zip-link").click()
    word = "archivos" if lang == "es" else "files"
    assert re.fullmatch(rf"anclora-\d{{4}}-\d\d-\d\d-2-{word}\.zip", info.value.suggested_filename)
    shot(page, f"convert-results-{lang}-375")


def _exhaust_session(page, photo) -> AnonymousSession:
    from accounts.owners import Owner
    from conversions import services

    page.goto("/")
    session_id = page.evaluate("JSON.parse(document.getElementById('convert-form').dataset.config).sessionId")
    session = AnonymousSession.objects.get(pk=session_id)
    for _ in range(5):
        services.conversion_request(owner=Owner(session=session), target_format="png",
                                    uploads=[services.Upload(path=photo, name=photo.name, size=photo.stat().st_size)])
    return session


@pytest.mark.parametrize("lang", ["es", "en"])
def test_price_comes_first_and_the_file_is_uploaded_once(context_for, lang, tmp_path, offline):
    page = context_for(lang, 1280)
    photo = enginefiles.make_image(tmp_path / "pagada.jpg", "jpg")
    session = _exhaust_session(page, photo)
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and "/api/conversion/convert" in r.url
            else None)
    page.goto("/")
    page.set_input_files("#id_file", str(photo))
    page.locator("#file-list li", has_text="pagada.jpg").wait_for()
    page.select_option("#id_target_format", "png")
    page.locator("#convert-button").click()
    checkout = page.locator("#checkout-step")
    checkout.wait_for()
    assert posts == []  # the price is shown before any byte is uploaded
    assert page.locator("#upload-progress").is_hidden()
    assert re.search(r"\d", page.locator("#checkout-amount").inner_text())
    shot(page, f"convert-price-first-{lang}-1280")
    page.locator("#checkout-pay").click()
    page.locator("#result-list .status-completed").wait_for()
    assert len(posts) == 1
    assert Conversion.objects.filter(session=session, source__original_filename="pagada.jpg",
                                     paid_by="payment").count() == 1


# --- axe and screenshots of every page --------------------------------------------------------------
@pytest.fixture
def everything(tmp_path, offline):
    from accounts.owners import Owner
    from billing import services as billing_services
    from factories import give_credits
    from gamification.services import rewards_award

    user = _user("ana.martinez@example.com", first_name="Ana", last_name="Martínez")
    jobs = convert_for(user, enginefiles.make_image(tmp_path / "vacaciones-de-verano.jpg", "jpg"), "png", n=2)
    rewards_award(user=user, action="admin_grant", points=260, idempotency_key="e2e-axe")
    give_credits(user, 2)
    tx = billing_services.transaction_create(owner=Owner(user=user), conversion_request={
        "source_format": "png", "target_format": "jpg", "file_size_mb": 1, "quality": "high"})["transaction"]
    User.objects.filter(pk=user.pk).update(is_staff=True, is_superuser=True)
    return User.objects.get(pk=user.pk), jobs[0], tx


ANONYMOUS = [("convert-anon", "/"), ("login", "/login/"), ("signup", "/signup/"), ("plans-anon", "/plans/"),
             ("password-reset", "/password-reset/"), ("not-found", "/no-existe/")]


@pytest.mark.parametrize("lang", ["es", "en"])
def test_axe_finds_nothing_serious_on_any_page(context_for, live_server, everything, lang):
    user, job, tx = everything
    job.refresh_from_db()
    pages = [("convert", "/"), ("my-conversions", "/conversions/"), ("my-files", "/files/"),
             ("delete-confirm", f"/files/{job.output_id}/delete/"), ("plans", "/plans/"),
             ("subscribe-confirm", "/plans/subscribe/?plan=pro"), ("checkout", f"/checkout/{tx.pk}/"),
             ("rewards", "/rewards/"), ("account", "/account/"), ("api-keys", "/account/api-keys/"),
             ("admin-dashboard", "/admin/dashboard/")]
    found = {}
    for width in WIDTHS:
        anonymous = context_for(lang, width)
        for name, url in ANONYMOUS:
            anonymous.goto(url)
            shot(anonymous, f"{name}-{lang}-{width}")
            found[f"{name} {width}"] = axe_violations(anonymous)
            assert no_horizontal_scroll(anonymous), f"{url} scrolls sideways at {width}"
        page = context_for(lang, width)
        User.objects.filter(pk=user.pk).update(language=lang)
        _login_as(page, live_server, user, otp=width == WIDTHS[0])
        if width != WIDTHS[0]:
            from django_otp.plugins.otp_totp.models import TOTPDevice

            TOTPDevice.objects.filter(user=user).delete()
            _login_as(page, live_server, user, otp=True)
        for name, url in pages:
            page.goto(url)
            shot(page, f"{name}-{lang}-{width}")
            found[f"{name} {width}"] = axe_violations(page)
            assert no_horizontal_scroll(page), f"{url} scrolls sideways at {width}"
    serious = {where: v for where, v in found.items() if v}
    assert not serious, "\n".join(f"{where}: {v}" for where, v in serious.items())


# --- up to the anchors: the target picker and results that survive a reload -----------------------
FAMILY = {"es": "Imágenes", "en": "Images"}


@pytest.mark.parametrize("lang, width", [("es", 375), ("en", 1280), ("es", 1280)])
def test_picker_groups_filters_remembers_and_results_survive_reload(context_for, lang, width, tmp_path):
    page = context_for(lang, width)
    page.goto("/")
    labels = page.eval_on_selector_all("#id_target_format optgroup", "gs => gs.map(g => g.label)")
    assert FAMILY[lang] in labels and len(labels) >= 4  # every family, before a file is chosen
    photo = enginefiles.make_image(tmp_path / "retrato.png", "png", size=(120, 90))
    page.set_input_files("#id_file", str(photo))
    page.locator("#file-list li", has_text="retrato.png").wait_for()
    config = page.evaluate("JSON.parse(document.getElementById('convert-form').dataset.config)")
    offered = page.eval_on_selector_all("#id_target_format option", "os => os.map(o => o.value)")
    assert offered and set(offered) <= set(config["targets"]["png"])  # only valid targets
    page.fill("#target-search", "web")
    assert page.eval_on_selector_all("#id_target_format option", "os => os.map(o => o.value)") == ["webp"]
    assert page.input_value("#id_target_format") == "webp"
    page.locator("#convert-button").click()
    page.locator("#result-list .status-completed").wait_for()
    shot(page, f"convert-picker-{lang}-{width}")
    page.reload()
    page.locator("#result-list .status-completed", has_text="").wait_for()
    assert "retrato.png" in page.locator("#result-list").inner_text()  # still there after the reload
    assert page.locator("#result-list a[download]").count() == 1
    page.set_input_files("#id_file", str(photo))
    page.locator("#file-list li", has_text="retrato.png").wait_for()
    assert page.input_value("#id_target_format") == "webp"  # the last choice, remembered
