"""Issue 14, the rest of the convert page in headless Chromium, in Spanish and English, at 375 and
1280 px: a batch whose files go to their own targets (and "apply to all"), "convert again to …"
without a new upload (also after a reload, and a clear message once the source is gone), and the
queue estimate of a pending job. axe-core on the page in each state; screenshots under var/screenshots/."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from conversions.models import Conversion
from conversions.tests import enginefiles

from . import test_issue14_browser as issue14
from .conftest import shot
from .test_issue14_browser import _login_as, _user, axe_violations

context_for = issue14.context_for  # the page-in-a-language fixture of the issue's other browser tests

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BOTH = [("es", 375), ("en", 1280), ("es", 1280), ("en", 375)]
QUEUED = {"es": "En cola", "en": "Queued"}
AGAIN = {"es": "Convertir de nuevo a", "en": "Convert again to"}
GONE = {"es": "ya no está disponible", "en": "no longer available"}
APPLY = {"es": "Aplicar {} a todos", "en": "Apply {} to all"}


def _options(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(f"{selector} option", "os => os.map(o => o.value)")


def _targets(page) -> dict:
    return page.evaluate("JSON.parse(document.getElementById('convert-form').dataset.config).targets")


def _choose(page, tmp_path, *specs):
    """Files (name, format) chosen in the page; waits for every row."""
    paths = []
    for name, fmt in specs:
        path = tmp_path / name
        paths.append(enginefiles.make_office(path, fmt) if fmt == "docx"
                     else enginefiles.make_image(path, fmt, size=(120, 90)))
    page.set_input_files("#id_file", [str(p) for p in paths])
    for name, _fmt in specs:
        page.locator("#file-list li", has_text=name).wait_for()
    return paths


def _download(page, locator) -> tuple[str, bytes]:
    with page.expect_download() as info:
        locator.click()
    return info.value.suggested_filename, Path(info.value.path()).read_bytes()


@pytest.mark.parametrize("lang, width", BOTH)
def test_batch_of_two_types_each_to_its_own_target(context_for, live_server, lang, width, tmp_path):
    page = context_for(lang, width)
    _login_as(page, live_server, _user(lang=lang))
    page.goto("/")
    _choose(page, tmp_path, ("foto.jpg", "jpg"), ("informe.docx", "docx"))
    targets = _targets(page)
    # each row offers only its own file's targets
    assert set(_options(page, "#file-target-0")) == set(targets["jpg"])
    assert set(_options(page, "#file-target-1")) == set(targets["docx"])
    assert "md" not in _options(page, "#file-target-0")
    # the picker above offers every target valid for at least one of them
    assert {"md", "png"} <= set(_options(page, "#id_target_format"))
    assert page.locator("#apply-all").is_visible()
    page.select_option("#file-target-0", "png")
    with page.expect_request(lambda r: r.url.endswith("/api/payments/quote")) as quote:
        page.select_option("#file-target-1", "md")
    last = json.loads(quote.value.post_data)
    page.wait_for_function("""() => ['0', '1'].every(i => /\\d/.test(document.getElementById('file-price-' + i)
                                                                        .textContent))""")
    assert [f.get("target_format") for f in last["files"]] == ["png", "md"]  # priced at its own target
    assert not axe_violations(page)
    shot(page, f"convert-batch-{lang}-{width}")
    page.locator("#convert-button").click()
    page.wait_for_function("() => document.querySelectorAll('#result-list .status-completed, "
                           "#result-list .status-failed').length === 2", timeout=120_000)
    assert page.locator("#result-list .status-completed").count() == 2, page.locator("#result-list").inner_text()
    assert sorted(Conversion.objects.values_list("original_format", "target_format")) == [
        ("docx", "md"), ("jpg", "png")]
    rows = page.locator("#result-list > li")
    name, data = _download(page, rows.filter(has_text="foto.jpg").locator("a[download]"))
    assert name == "foto.png" and data[:8] == b"\x89PNG\r\n\x1a\n"
    name, data = _download(page, rows.filter(has_text="informe.docx").locator("a[download]"))
    assert name == "informe.md" and data.strip() and b"\x00" not in data
    assert not axe_violations(page)
    shot(page, f"convert-batch-results-{lang}-{width}")


@pytest.mark.parametrize("lang, width", [("es", 375), ("en", 1280)])
def test_apply_to_all_sets_the_target_where_it_is_valid(context_for, lang, width, tmp_path):
    page = context_for(lang, width)
    page.goto("/")
    _choose(page, tmp_path, ("plano.png", "png"), ("acta.docx", "docx"))
    note = page.locator("#apply-all-note")
    page.select_option("#id_target_format", "pdf")  # valid for both
    assert page.input_value("#file-target-0") == "pdf" and page.input_value("#file-target-1") == "pdf"
    assert note.inner_text() == {"es": "PDF aplicado a los 2 archivos.", "en": "PDF applied to all 2 files."}[lang]
    assert page.get_by_label({"es": "Formato de destino de acta.docx",
                              "en": "Target format for acta.docx"}[lang]).input_value() == "pdf"
    page.select_option("#file-target-0", "webp")
    assert page.input_value("#id_target_format") == ""  # "— mixed —"
    page.get_by_role("button", name=APPLY[lang].format("PDF")).click()
    assert page.input_value("#file-target-0") == "pdf"  # applied again over the row's own choice
    page.select_option("#id_target_format", "md")  # valid for the docx only
    assert page.input_value("#file-target-1") == "md"
    assert page.input_value("#file-target-0") == "pdf"  # the PNG keeps its own
    assert re.search(r"\b1\b.*\b2\b", note.inner_text())
    assert page.input_value("#id_target_format") == ""  # "— mixed —": not one target for all
    page.get_by_role("button", name=APPLY[lang].format("MD")).wait_for()
    page.select_option("#file-target-0", "gif")
    page.wait_for_function("() => /\\d/.test(document.getElementById('file-price-0').textContent)")
    shot(page, f"convert-apply-all-{lang}-{width}")


@pytest.mark.parametrize("lang, width", [("es", 1280), ("en", 375)])
def test_convert_again_to_another_target_without_uploading(context_for, live_server, lang, width, tmp_path):
    from storage import services as storage_services

    page = context_for(lang, width)
    _login_as(page, live_server, _user(lang=lang))
    page.goto("/")
    uploads = []
    page.on("request", lambda r: uploads.append(r.url) if "/api/conversion/convert" in r.url
            and not r.url.endswith("convert-again") else None)
    _choose(page, tmp_path, ("mapa.png", "png"))
    page.select_option("#id_target_format", "jpg")
    page.locator("#convert-button").click()
    first = page.locator("#result-list > li").first
    first.locator(".status-completed").wait_for()
    assert first.get_by_label(AGAIN[lang]).is_visible()
    assert "jpg" not in _options(page, "#result-list .again-target")  # not to the same target again
    first.get_by_label(AGAIN[lang]).select_option("webp")
    first.locator(".again-button").click()
    page.locator("#result-list .status-completed").nth(1).wait_for()
    assert len(uploads) == 1  # one upload for both results
    rows = page.locator("#result-list > li")
    assert rows.count() == 2
    name, data = _download(page, rows.nth(1).locator("a[download]"))
    assert name == "mapa.webp" and data[8:12] == b"WEBP"
    again = Conversion.objects.get(target_format="webp")
    assert again.source_id == Conversion.objects.get(target_format="jpg").source_id
    assert page.locator("#zip-link").is_visible()  # the same batch: one zip with both
    assert not axe_violations(page)
    shot(page, f"convert-again-{lang}-{width}")
    page.reload()  # the session history keeps both, each with its "convert again"
    page.locator("#result-list .status-completed").nth(1).wait_for()
    assert page.locator("#result-list .again-target").count() == 2
    storage_services.stored_file_delete(stored_file=again.source)
    page.reload()
    page.locator("#result-list .again-gone").nth(1).wait_for()
    assert GONE[lang] in page.locator("#result-list").inner_text()
    assert page.locator("#result-list .again-target").count() == 0
    shot(page, f"convert-again-gone-{lang}-{width}")


@pytest.mark.parametrize("lang, width", BOTH)
def test_a_queued_job_shows_its_estimate(context_for, live_server, lang, width, tmp_path, no_worker, settings):
    from factories import ConversionFactory

    settings.CONVERSION_WORKERS = 1
    now = timezone.now()
    for seconds in (6, 8):  # recent image jobs took 7 s on average
        ConversionFactory(status="completed", original_format="jpg", started_at=now - timedelta(seconds=seconds),
                          finished_at=now)
    page = context_for(lang, width)
    page.goto("/")
    _choose(page, tmp_path, ("cola.png", "png"))
    page.select_option("#id_target_format", "jpg")
    page.locator("#convert-button").click()
    status = page.locator("#result-list .status-pending")
    status.wait_for()
    page.wait_for_function("() => /~/.test(document.querySelector('#result-list .status-pending').textContent)")
    assert status.inner_text() == f"{QUEUED[lang]} · ~7\u00a0s"
    assert len(no_worker) == 1 and Conversion.objects.get(pk=no_worker[0]).status == "pending"
    assert not axe_violations(page)
    shot(page, f"convert-queued-{lang}-{width}")


@pytest.mark.parametrize("lang, width", [("es", 1280), ("en", 375)])
def test_convert_again_when_the_plan_is_spent_pays_first(context_for, lang, width, tmp_path, offline):
    from .test_issue14_browser import _exhaust_session

    page = context_for(lang, width)
    photo = enginefiles.make_image(tmp_path / "recibo.jpg", "jpg")
    session = _exhaust_session(page, photo)  # five conversions: the anonymous allowance is spent
    earlier = Conversion.objects.filter(session=session).order_by("created_at").first()
    page.evaluate("([id, batch]) => sessionStorage.setItem('anclora.results', JSON.stringify({ids: [id], batch}))",
                  [str(earlier.pk), str(earlier.batch_id)])
    page.reload()  # the session history shows it, with its "convert again"
    row = page.locator(f"#conv-{earlier.pk}")
    row.get_by_label(AGAIN[lang]).select_option("webp")
    row.locator(".again-button").click()
    checkout = page.locator("#checkout-step")
    checkout.wait_for()
    assert re.search(r"\d", page.locator("#checkout-amount").inner_text())
    assert not Conversion.objects.filter(target_format="webp").exists()  # nothing before paying
    shot(page, f"convert-again-pay-{lang}-{width}")
    page.locator("#checkout-pay").click()
    page.locator("#result-list .status-completed").nth(1).wait_for()
    again = Conversion.objects.get(target_format="webp")
    assert again.paid_by == "payment" and again.source_id == earlier.source_id
    assert checkout.is_hidden()
