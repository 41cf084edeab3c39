"""The back office in headless Chromium, in Spanish and English: every model our apps register,
its list, its add form (where staff may add) and the change form of one row. What staff read there
(labels, column headers, filter titles, fieldset titles, action names) is never one of the English
labels the Spanish admin used to show, the English admin shows the English ones, and no page is a
server error. A few pages are kept as screenshots (var/screenshots/admin-*.png) at 1280 and 375 px."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from backoffice.tests.test_admin_languages import KNOWN_ENGLISH, OUR_APPS, rows  # noqa: F401

from .conftest import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LABELS_JS = """() => {
  const text = el => el.textContent.replace(/\\s+/g, ' ').trim().replace(/:$/, '').trim();
  const selector = '#content label, #result_list thead th .text, #changelist-filter summary, '
                 + 'fieldset h2, fieldset legend, select[name=action] option';
  return [...document.querySelectorAll(selector)].map(text).filter(Boolean);
}"""
# A few labels each language must show on the Conversion pages (list and change form).
CONVERSION = {"es": {"Estado", "Pagado con", "Formato original", "Motor", "Progreso", "Creado el"},
              "en": {"Status", "Paid by", "Original format", "Engine", "Progress", "Created at"}}
SHOTS = {("conversions", "conversion", "change"), ("conversions", "conversion", "changelist"),
         ("accounts", "user", "change"), ("apikeys", "apikey", "change"), ("billing", "conversiontransaction",
                                                                            "change")}


@pytest.fixture
def staff_page(browser, live_server, admin_user):
    """staff_page(lang, width) -> a page of a superuser who passed the second factor, in that language."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=admin_user, name="e2e", confirmed=True)
    client = Client()
    client.force_login(admin_user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    host = live_server.url.split("//", 1)[1].split(":")[0]
    contexts = []

    def make(lang: str, width: int = 1280):
        context = browser.new_context(base_url=live_server.url, locale="es-ES" if lang == "es" else "en-GB",
                                      viewport={"width": width, "height": 900})
        context.add_cookies([{"name": "django_language", "value": lang, "domain": host, "path": "/"},
                             {"name": "sessionid", "value": client.cookies["sessionid"].value, "domain": host,
                              "path": "/"}])
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def _pages(admin_user):
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = admin_user
    for model, model_admin in sorted(admin.site._registry.items(), key=lambda pair: pair[0]._meta.label):
        opts = model._meta
        if opts.app_label not in OUR_APPS:
            continue
        name = f"admin:{opts.app_label}_{opts.model_name}"
        yield opts, "changelist", reverse(f"{name}_changelist")
        if model_admin.has_add_permission(request):
            yield opts, "add", reverse(f"{name}_add")
        obj = model._default_manager.order_by("pk").first()
        yield opts, "change", reverse(f"{name}_change", args=[obj.pk])


def test_admin_pages_in_spanish_and_english(staff_page, rows, admin_user):  # noqa: F811
    pages = list(_pages(admin_user))
    assert len(pages) >= 50  # 21 models: lists, change forms and the few add forms
    seen = {"es": set(), "en": set()}
    for lang in ("es", "en"):
        page = staff_page(lang)
        for opts, kind, url in pages:
            response = page.goto(url)
            assert response.status == 200, (lang, url, response.status)
            assert page.locator("html").get_attribute("lang") == lang
            labels = page.evaluate(LABELS_JS)
            assert labels, (lang, url)
            if lang == "es":
                english = sorted(set(labels) & KNOWN_ENGLISH)
                assert not english, (url, english)
                assert not [label for label in labels if label.startswith("By ")], (url, labels)
            if opts.model_name == "conversion":
                seen[lang].update(labels)
            if (opts.app_label, opts.model_name, kind) in SHOTS:
                shot(page, f"admin-{opts.model_name}-{kind}-{lang}-1280")
    for lang in ("es", "en"):
        assert CONVERSION[lang] <= seen[lang], (lang, sorted(CONVERSION[lang] - seen[lang]))

    phone = staff_page("es", 375)
    for opts, kind, url in pages:
        if (opts.app_label, opts.model_name, kind) in SHOTS and opts.model_name == "conversion":
            assert phone.goto(url).status == 200
            shot(phone, f"admin-{opts.model_name}-{kind}-es-375")
