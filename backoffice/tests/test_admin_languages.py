"""The back office in the reader's language, model by model (issue 14: "Back office half translated").

For every model our apps register in the admin, the changelist, the add form (where staff may add)
and the change form of one row are opened in Spanish and in English with the test client. Every
label staff read there — column headers, filter titles, action names, form and read-only field
labels, fieldset titles — is computed from the ModelAdmin under ``translation.override(lang)`` and:

- must be on the page as rendered in that language (so the page really was rendered in it);
- in Spanish, must not be its English form when the two differ (no English label left behind);
- must differ between Spanish and English unless it is one of a few words both languages share
  ("ID", "URL", "Plan", "Email", ...) — a field added without a translated ``verbose_name`` shows
  its English attribute name ("Paid by") in both languages and fails here.

No page may answer 500. The third-party models (dj-stripe, axes, celery beat, ...) are only opened
(no 500); their labels come from their own translations.
"""

from __future__ import annotations

import html
import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.admin.templatetags.admin_list import result_headers
from django.contrib.admin.utils import flatten_fieldsets, label_for_field
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import capfirst

pytestmark = pytest.mark.django_db

OUR_APPS = {"accounts", "apikeys", "billing", "conversions", "gamification", "storage", "uploads", "webhooks"}
LANGS = ("es", "en")
# Words Spanish and English share: a label may read the same in both languages.
SAME_IN_BOTH = {"ID", "URL", "Plan", "Email", "Icon", "Original", "Premium", "Feedback"}
# English labels the Spanish admin showed before (column headers, form labels): never in Spanish.
KNOWN_ENGLISH = {"Status", "Paid by", "Total points", "Created at", "Updated at", "User", "Session", "Kind",
                 "Size", "Expires", "Expires at", "Hashed key", "Prefix", "Created", "Name", "Revoked",
                 "Amount", "Currency", "Provider", "Engine", "Quality", "Progress", "Attempts", "Payload",
                 "Event type", "Filename", "Length", "Offset", "Backend", "Level", "Language", "Time zone",
                 "Is active", "Is staff", "Date joined", "Sort order", "Retention hours", "Slug"}


def _registered():
    return sorted(((model, model_admin) for model, model_admin in admin.site._registry.items()
                   if model._meta.app_label in OUR_APPS), key=lambda pair: pair[0]._meta.label)


@pytest.fixture
def rows(admin_user):
    """One row of every model our apps register (the change form needs one)."""
    from accounts.models import AnonymousSession
    from apikeys.models import ApiKey
    from billing.models import BillingCustomer, ConversionCharge, StripeEvent, StripeSubscription
    from factories import (
        ConversionFactory,
        CreditEntryFactory,
        SubscriptionFactory,
        TransactionFactory,
        UserFactory,
    )
    from gamification.models import (
        Achievement,
        UserAchievement,
        UserChallengeProgress,
        UserReward,
        WeeklyChallenge,
    )
    from uploads.models import ResumableUpload
    from webhooks.models import WebhookDelivery, WebhookEndpoint

    user = UserFactory(email="lectora@example.com")
    subscription = SubscriptionFactory(user=user, plan="pro")
    AnonymousSession.objects.create(adopted_by=user, adopted_at=timezone.now())
    CreditEntryFactory(user=user, delta=3)
    ApiKey.objects.create_key(name="ci", user=user, scopes=["read"])
    conversion = ConversionFactory(user=user)
    transaction = TransactionFactory(user=user, amount=Decimal("0.50"))
    StripeEvent.objects.create(event_id="evt_1", type="payment_intent.succeeded", payload={"id": "evt_1"})
    ConversionCharge.objects.create(conversion=conversion, kind="payment", transaction=transaction)
    StripeSubscription.objects.create(user=user, plan=subscription.plan, stripe_subscription_id="sub_1",
                                      current_period_end=timezone.now() + timedelta(days=30))
    BillingCustomer.objects.create(user=user, stripe_customer_id="cus_1")
    now = timezone.now()
    monday = (now - timedelta(days=now.weekday())).date()
    challenge = WeeklyChallenge.objects.create(kind=WeeklyChallenge._meta.get_field("kind").choices[0][0],
                                               week_start=monday, starts_at=now, ends_at=now + timedelta(days=7),
                                               target=5, points_reward=50)
    UserChallengeProgress.objects.create(user=user, challenge=challenge, progress=2)
    UserReward.objects.create(user=user, action="admin_grant", points=10, idempotency_key="k1")
    achievement = Achievement.objects.first() or Achievement.objects.create(
        id="primera", name="Primera", description="d", icon="*", category="milestone", rarity="common",
        points_reward=10)
    UserAchievement.objects.create(user=user, achievement=achievement)
    ResumableUpload.objects.create(user=user, filename="a.png", length=10, expires_at=now + timedelta(days=1))
    endpoint = WebhookEndpoint.objects.create(user=user, url="https://example.com/hook",
                                              events=["conversion.completed"])
    WebhookDelivery.objects.create(user=user, endpoint=endpoint, url=endpoint.url, event_type="conversion.completed",
                                   event_id=uuid.uuid4(), payload={})
    return user


def _client(lang, user, otp_login) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=lang)
    client.cookies["django_language"] = lang
    return otp_login(client, user)


def _request(user, path="/admin/"):
    request = RequestFactory().get(path)
    request.user = user
    return request


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def _rendered_labels(page: str) -> set[str]:
    """Every label-like text of an admin page: <label>, column headers, filter titles, fieldset
    titles, action names (a trailing ':' dropped)."""
    found = set()
    for fragment in re.findall(r"<label[^>]*>(.*?)</label>", page, re.S):
        found.add(_text(fragment).rstrip(":").strip())
    for fragment in re.findall(r'<th scope="col".*?<div class="text">(.*?)</div>', page, re.S):
        found.add(_text(fragment))
    found.update(capfirst(html.unescape(t)) for t in re.findall(r'data-filter-title="([^"]*)"', page))
    for fragment in re.findall(r"<fieldset[^>]*>\s*(?:<legend[^>]*>|<h2[^>]*>)(.*?)</(?:legend|h2)>", page, re.S):
        found.add(_text(fragment))
    select = re.search(r'<select name="action".*?</select>', page, re.S)
    if select:
        found.update(_text(o) for o in re.findall(r"<option[^>]*>(.*?)</option>", select.group(0), re.S))
    return {label for label in found if label}


def _form_labels(model_admin, request, obj) -> list[str]:
    """The labels the add/change form shows: form fields, read-only fields and fieldset titles."""
    form_class = model_admin.get_form(request, obj, change=obj is not None)
    fieldsets = model_admin.get_fieldsets(request, obj)
    readonly = model_admin.get_readonly_fields(request, obj)
    labels = [str(name) for name, _options in fieldsets if name]
    for name in flatten_fieldsets(fieldsets):
        if name in readonly or name not in form_class.base_fields:
            labels.append(capfirst(str(label_for_field(name, model_admin.model, model_admin, form=form_class))))
        else:
            labels.append(str(form_class.base_fields[name].label))
    return labels


def _changelist_labels(model_admin, request) -> list[str]:
    changelist = model_admin.get_changelist_instance(request)
    labels = [str(header["text"]) for header in result_headers(changelist)
              if header.get("class_attrib") != ' class="action-checkbox-column"']
    labels = [label for label in labels if label and "<" not in label]
    labels += [str(spec.title) for spec in changelist.filter_specs]
    labels += [str(description) for _name, description in model_admin.get_action_choices(request)[1:]]
    return labels


def _expected(lang, fn, *args) -> list[str]:
    with translation.override(lang):
        return [capfirst(label) for label in fn(*args)]


@pytest.mark.parametrize(("model", "model_admin"), _registered(), ids=lambda v: getattr(v, "__name__", ""))
def test_admin_pages_are_in_the_readers_language(model, model_admin, rows, admin_user, otp_login):
    opts = model._meta
    obj = model._default_manager.order_by("pk").first()
    assert obj is not None, f"no {opts.label} row to open the change form of"
    pages = {"changelist": (reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"), None)}
    request = _request(admin_user)
    if model_admin.has_add_permission(request):
        pages["add"] = (reverse(f"admin:{opts.app_label}_{opts.model_name}_add"), None)
    pages["change"] = (reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]), obj)

    for kind, (url, page_obj) in pages.items():
        expected = {}
        for lang in LANGS:
            if kind == "changelist":
                expected[lang] = _expected(lang, _changelist_labels, model_admin, _request(admin_user, url))
            else:
                expected[lang] = _expected(lang, _form_labels, model_admin, _request(admin_user, url), page_obj)
        assert len(expected["es"]) == len(expected["en"])
        for lang in LANGS:
            response = _client(lang, admin_user, otp_login).get(url)
            assert response.status_code == 200, (lang, url, response.status_code)
            assert response.headers["Content-Language"] == lang
            rendered = _rendered_labels(response.content.decode())
            missing = [label for label in expected[lang] if label not in rendered]
            assert not missing, (lang, url, missing, sorted(rendered))
            if lang == "es":
                english = {en for es, en in zip(expected["es"], expected["en"], strict=True) if es != en}
                assert not (rendered & english), (url, sorted(rendered & english))
                assert not (rendered & KNOWN_ENGLISH), (url, sorted(rendered & KNOWN_ENGLISH))
        untranslated = [es for es, en in zip(expected["es"], expected["en"], strict=True)
                        if es == en and es not in SAME_IN_BOTH]
        assert not untranslated, (url, "same in Spanish and English", untranslated)


def test_every_field_of_our_models_has_a_translated_label():
    """Fields of models not (yet) in the admin too: verbose_name through gettext_lazy, and an English
    translation for it."""
    from django.apps import apps
    from django.utils.functional import Promise

    wrong = []
    for model in apps.get_models():
        if model._meta.app_label not in OUR_APPS | {"idempotency"}:
            continue
        for name in ("verbose_name", "verbose_name_plural"):
            label = getattr(model._meta, name)
            with translation.override("es"):
                spanish = str(label)
            with translation.override("en"):
                english = str(label)
            if not isinstance(label, Promise) or english == spanish:
                wrong.append(f"{model._meta.label}.Meta.{name}")
        for field in model._meta.concrete_fields:
            if field.auto_created:
                continue
            label = field.verbose_name
            with translation.override("es"):
                spanish = capfirst(str(label))
            with translation.override("en"):
                english = capfirst(str(label))
            if not isinstance(label, Promise) or (spanish == english and spanish not in SAME_IN_BOTH):
                wrong.append(f"{model._meta.label}.{field.name}: {spanish!r} / {english!r}")
            for text in (field.help_text,) if field.help_text else ():
                if not isinstance(text, Promise) and text not in {"SHA-256"}:
                    wrong.append(f"{model._meta.label}.{field.name} help_text {text!r}")
    assert not wrong, wrong


@pytest.mark.parametrize("lang", LANGS)
def test_third_party_admin_pages_open(lang, admin_user, otp_login):
    """dj-stripe, axes, celery beat, django-otp, simplejwt and auth pages: list and add open (no 500)."""
    client = _client(lang, admin_user, otp_login)
    request = _request(admin_user)
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label in OUR_APPS:
            continue
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert client.get(url).status_code == 200, url
        if model_admin.has_add_permission(request):
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
            assert client.get(url).status_code == 200, url


def test_rendered_labels_sees_what_staff_read():
    """The page reader itself: labels, headers, filter titles, fieldsets and actions."""
    page = ('<fieldset class="module"><h2 id="x">Perfil</h2><label for="a">Nombre:</label>'
            '<label class="vCheckboxLabel" for="b">Activo</label></fieldset>'
            '<th scope="col" class="x"><div class="text"><a href="?o=1">Estado</a></div></th>'
            '<details data-filter-title="pagado con" open></details>'
            '<select name="action"><option value="" selected>---------</option>'
            '<option value="delete_selected">Eliminar</option></select>')
    assert _rendered_labels(page) == {"Perfil", "Nombre", "Activo", "Estado", "Pagado con", "---------", "Eliminar"}


@pytest.mark.parametrize(("lang", "header"), [("es", "Anclora Converter · administración"),
                                              ("en", "Anclora Converter · administration")])
def test_dashboard_has_the_sites_header(lang, header, admin_user, otp_login):
    """The dashboard is one of the site's pages: its header, not Django's default one."""
    page = _client(lang, admin_user, otp_login).get(reverse("dashboard")).content.decode()
    assert header in html.unescape(page)
    assert "Django" not in _text(re.search(r'<div id="branding">(.*?)</div>', page, re.S).group(1))


@pytest.mark.parametrize(("lang", "shown", "absent"), [
    ("es", "Cuentas | sesión anónima | Puede añadir sesión anónima", "Can add"),
    ("en", "Accounts | anonymous session | Can add anonymous session", "Puede añadir"),
])
def test_permissions_are_named_in_the_readers_language(lang, shown, absent, rows, admin_user, otp_login):
    """Django stores "Can add <model>" once, in English; the user and group forms name them per language."""
    client = _client(lang, admin_user, otp_login)
    for url in (reverse("admin:accounts_user_change", args=[rows.pk]), reverse("admin:auth_group_add")):
        page = html.unescape(client.get(url).content.decode())
        options = re.findall(r"<option[^>]*>(.*?)</option>", page, re.S)
        assert shown in options, (url, options[:5])
        assert not [option for option in options if absent in option], url
