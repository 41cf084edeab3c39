"""Every checkout path until the files are downloaded (issue 11, finding 2): single file and batch,
anonymous and logged in, with and without JavaScript. One payment pays exactly the files it was
priced for; the page says per file what pays it and the total matches the charge."""

import io
import re
import zipfile
from decimal import Decimal

import pytest

from accounts.models import AnonymousSession
from billing.models import ConversionTransaction
from conversions.models import Conversion
from conversions.tests import enginefiles

from .conftest import PASSWORD, convert_for, log_in, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PNG = b"\x89PNG"


def euros(text: str) -> Decimal:
    return Decimal(re.search(r"(\d+,\d\d)", text).group(1).replace(",", "."))


@pytest.fixture
def photos(tmp_path):
    return [enginefiles.make_image(tmp_path / name, "jpg", size=(160 + 8 * i, 120))
            for i, name in enumerate(("uno.jpg", "dos.jpg"))]


def _use_session_allowance(page, photo, *, leave: int) -> AnonymousSession:
    """The browser's anonymous session has `leave` free conversions left this month."""
    from accounts.owners import Owner
    from conversions import services

    page.goto("/")
    session_id = page.evaluate("JSON.parse(document.getElementById('convert-form').dataset.config).sessionId")
    session = AnonymousSession.objects.get(pk=session_id)
    for _ in range(5 - leave):
        services.conversion_request(owner=Owner(session=session), target_format="png",
                                    uploads=[services.Upload(path=photo, name=photo.name, size=photo.stat().st_size)])
    return session


def _choose(page, paths, target="png"):
    page.goto("/")
    page.set_input_files("#id_file", [str(p) for p in paths])
    for p in paths:
        page.locator("#file-list li", has_text=p.name).wait_for()
    page.select_option("#id_target_format", target)


def _download(page, locator) -> bytes:
    with page.expect_download() as info:
        locator.click()
    return open(info.value.path(), "rb").read()


def _pay_in_page(page, name: str):
    checkout = page.locator("#checkout-step")
    checkout.wait_for()
    shot(page, f"{name}-checkout")
    amount = euros(page.locator("#checkout-amount").inner_text())
    page.get_by_role("button", name="Pagar con tarjeta de prueba").click()
    return checkout, amount


def _assert_batch_downloads(page, names):
    items = page.locator("#result-list li")
    for i in range(len(names)):
        items.nth(i).locator(".status-completed").wait_for()
    page.locator("#zip-link").wait_for()
    data = _download(page, page.locator("#zip-link"))
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert sorted(archive.namelist()) == sorted(n.replace(".jpg", ".png") for n in names)
    assert all(archive.read(n).startswith(PNG) for n in archive.namelist())


def test_anonymous_single_file_pays_and_downloads(page, photos, offline):
    session = _use_session_allowance(page, photos[0], leave=0)
    _choose(page, photos[:1])
    page.locator("#what-pays", has_text="esta conversión se paga").wait_for()
    page.get_by_role("button", name="Convertir").click()
    _checkout, amount = _pay_in_page(page, "anon-single")
    page.locator("#result-list .status-completed").wait_for()
    shot(page, "anon-single-done")
    assert _download(page, page.locator("#result-list a.button")).startswith(PNG)
    tx = ConversionTransaction.objects.get(session=session)
    assert tx.status == "completed" and tx.amount == amount and tx.items.count() == 1
    assert Conversion.objects.get(session=session, paid_by="payment").status == "completed"


def test_anonymous_batch_larger_than_the_allowance_left(page, photos, offline):
    session = _use_session_allowance(page, photos[0], leave=1)
    _choose(page, photos)
    what = page.locator("#what-pays")
    what.locator("li.pays-payment").wait_for()
    assert "1 de estos 2" in what.inner_text() and "agotado" not in what.inner_text()
    assert "uno.jpg — lo paga tu plan" in what.inner_text()
    quoted = euros(what.locator(".what-pays-total").inner_text())
    shot(page, "anon-batch-what-pays")
    page.get_by_role("button", name="Convertir").click()
    checkout, amount = _pay_in_page(page, "anon-batch")
    assert amount == quoted
    assert "lo paga tu plan" in checkout.inner_text() and "dos.jpg — se paga" in checkout.inner_text()
    _assert_batch_downloads(page, ["uno.jpg", "dos.jpg"])
    shot(page, "anon-batch-done")
    (tx,) = ConversionTransaction.objects.filter(session=session)
    assert tx.amount == amount and tx.items.count() == 1 and tx.consumed_by_id is not None
    batch = Conversion.objects.filter(session=session).order_by("-created_at")[:2]
    assert sorted(c.paid_by for c in batch) == ["allowance", "payment"]
    assert page.locator("#checkout-step").is_hidden()


def test_logged_in_batch_with_the_plan_used_up_is_one_payment(page, make_user, photos, offline):
    user = make_user("lote@example.com")
    convert_for(user, photos[0], "png", n=5)
    log_in(page, user.email, PASSWORD)
    _choose(page, photos)
    what = page.locator("#what-pays")
    what.locator("li.pays-payment").nth(1).wait_for()
    assert "estos archivos se pagan" in what.inner_text()
    quoted = euros(what.locator(".what-pays-total").inner_text())
    page.get_by_role("button", name="Convertir").click()
    checkout, amount = _pay_in_page(page, "user-batch")
    assert amount == quoted
    assert checkout.inner_text().count("se paga:") == 2
    _assert_batch_downloads(page, ["uno.jpg", "dos.jpg"])
    (tx,) = ConversionTransaction.objects.filter(user=user)
    assert tx.amount == amount == sum(item.amount for item in tx.items.all()) and tx.items.count() == 2
    assert Conversion.objects.filter(user=user, paid_by="payment", status="completed").count() == 2


def test_logged_in_single_file(page, make_user, photos, offline):
    user = make_user("uno@example.com")
    convert_for(user, photos[0], "png", n=5)
    log_in(page, user.email, PASSWORD)
    _choose(page, photos[:1])
    page.locator("#what-pays", has_text="esta conversión se paga").wait_for()
    page.get_by_role("button", name="Convertir").click()
    _checkout, amount = _pay_in_page(page, "user-single")
    page.locator("#result-list .status-completed").wait_for()
    assert _download(page, page.locator("#result-list a.button")).startswith(PNG)
    (tx,) = ConversionTransaction.objects.filter(user=user)
    assert tx.amount == amount and tx.consumed_by_id is not None


def test_without_javascript_batch_checkout_until_the_downloads(browser, live_server, photos, offline):
    context = browser.new_context(base_url=live_server.url, locale="es-ES", java_script_enabled=False)
    page = context.new_page()
    try:
        session = _session_without_js(page, photos[0])
        page.set_input_files("#id_file", [str(p) for p in photos])
        page.select_option("#id_target_format", "png")
        page.get_by_role("button", name="Convertir").click()
        page.wait_for_url(re.compile(r"/checkout/"))
        table = page.locator("#checkout-files")
        assert "uno.jpg" in table.inner_text() and "dos.jpg" in table.inner_text()
        assert "tu plan" in table.inner_text() and "este pago" in table.inner_text()
        shot(page, "nojs-batch-checkout")
        total = euros(page.locator("#checkout-total").inner_text())
        page.get_by_role("button", name="Pagar con tarjeta de prueba").click()
        page.get_by_text("Pago completado").wait_for()
        shot(page, "nojs-batch-paid")
        (tx,) = ConversionTransaction.objects.filter(session=session)
        assert tx.status == "completed" and tx.amount == total
        page.get_by_role("link", name="Volver a convertir").click()
        page.set_input_files("#id_file", [str(p) for p in photos])
        page.select_option("#id_target_format", "png")
        page.get_by_role("button", name="Convertir").click()
        page.wait_for_url(re.compile(r"/conversions/$"))
        for _ in range(20):
            if page.locator("tr", has_text="dos.jpg").locator("a", has_text="Descargar").count() and \
                    page.locator("tr", has_text="uno.jpg").locator("a", has_text="Descargar").count():
                break
            page.wait_for_timeout(500)
            page.reload()
        shot(page, "nojs-batch-done")
        for name in ("uno.jpg", "dos.jpg"):
            link = page.locator("tr", has_text=name).locator("a", has_text="Descargar").first
            assert _download(page, link).startswith(PNG)
        batch = Conversion.objects.filter(session=session).order_by("-created_at")[:2]
        assert sorted(c.paid_by for c in batch) == ["allowance", "payment"]
        tx.refresh_from_db()
        assert tx.consumed_by_id is not None
    finally:
        context.close()


def _session_without_js(page, photo) -> AnonymousSession:
    """Without JavaScript the session id is in the page's data-config; 4 of 5 conversions used."""
    from accounts.owners import Owner
    from conversions import services

    page.goto("/")
    config = page.locator("#convert-form").get_attribute("data-config")
    import json

    session = AnonymousSession.objects.get(pk=json.loads(config)["sessionId"])
    for _ in range(4):
        services.conversion_request(owner=Owner(session=session), target_format="png",
                                    uploads=[services.Upload(path=photo, name=photo.name, size=photo.stat().st_size)])
    page.goto("/")
    return session
