"""Issue 14, the "seen" items that the server decides, through the Django test client, in Spanish
and English: numbers in SVG markup never localised, the back office translated, failure messages in
the reader's language, readable dates, deleted files, confirmation pages, curated time zones,
aria-describedby ids that exist, the rewards' own icons and names that do not clash."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone, translation

from accounts import services as account_services
from accounts.models import User
from conversions.models import Conversion
from storage.models import StoredFile

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Anclora-2026x"
LANGS = ("es", "en")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


def _client(lang: str, user=None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=lang)
    client.cookies["django_language"] = lang
    if user is not None:
        client.force_login(user)
        if user.language != lang:
            User.objects.filter(pk=user.pk).update(language=lang)
    return client


def _user(email="lector@example.com", **extra):
    from factories import verified

    return verified(account_services.user_create(email=email, password=PASSWORD, **extra))


def _convert(user, path, target="jpg"):
    from accounts.owners import Owner
    from conversions import services

    return services.conversion_request(owner=Owner(user=user), target_format=target,
                                       uploads=[services.Upload(path=path, name=path.name,
                                                                size=path.stat().st_size)])[0]


@pytest.fixture
def staff_client(otp_login):
    def make(lang):
        staff = account_services.user_create(email="jefa@example.com", password=PASSWORD)
        User.objects.filter(pk=staff.pk).update(is_staff=True, is_superuser=True, language=lang)
        client = _client(lang)
        otp_login(client, User.objects.get(pk=staff.pk))
        return client

    return make


# --- admin dashboard ----------------------------------------------------------------------------
@pytest.mark.parametrize("lang", LANGS)
def test_dashboard_chart_numbers_are_plain_in_every_language(staff_client, lang):
    html = staff_client(lang).get("/admin/dashboard/").content.decode()
    svgs = re.findall(r"<svg class=\"dash-chart.*?</svg>", html, re.S)
    assert len(svgs) == 2
    numbers = [v for v in re.findall(r'\b(?:x|y|width|height|viewBox)="([^"]*)"', "".join(svgs)) if v != "100%"]
    assert len(numbers) > 120
    assert all(re.fullmatch(r"[\d. ]+", value) for value in numbers), [v for v in numbers if "," in v][:3]
    # 30 bars of 22 units from x=30: some x values have decimals ("52.0"), none with a comma
    assert 'x="52.0"' in html


@pytest.mark.parametrize("lang", LANGS)
def test_dashboard_activity_names_people_and_speaks_the_language(staff_client, lang, sample):
    user = _user("actividad@example.com")
    _convert(user, sample("png"), "jpg")
    html = staff_client(lang).get("/admin/dashboard/").content.decode()
    activity = html.split("dash-table", 1)[1]
    assert "actividad@example.com" in activity
    assert not UUID.search(activity) and not ISO.search(activity.split("datetime=")[0])
    visible = re.sub(r'datetime="[^"]*"', "", activity)
    assert not ISO.search(visible)
    if lang == "es":
        assert "PNG a JPG" in activity and "conversion (" not in activity
        assert "Conversión" in activity
    else:
        assert "PNG to JPG" in activity and "Conversion" in activity


@pytest.mark.parametrize("lang, expected, absent", [
    ("es", ["Estado", "Pagado con", "Formato original"], [">Status<", ">Paid by<"]),
    ("en", ["Status", "Paid by", "Original format"], [">Estado<", ">Pagado con<"]),
])
def test_admin_column_headers_follow_the_language(staff_client, lang, expected, absent, sample):
    _convert(_user(), sample("png"), "jpg")
    client = staff_client(lang)
    html = client.get("/admin/conversions/conversion/").content.decode()
    headers = " ".join(re.findall(r'<th scope="col".*?</th>', html, re.S))
    for label in expected:
        assert f">{label}<" in headers, label
    for label in absent:
        assert label not in headers
    users = client.get("/admin/accounts/user/").content.decode()
    assert (">Puntos totales<" if lang == "es" else ">Total points<") in users


# --- failures in the reader's language ------------------------------------------------------------
@pytest.mark.parametrize("lang", LANGS)
def test_failure_message_is_rendered_in_the_readers_language(lang, sample, no_worker):
    from conversions import services

    user = _user()
    damaged = _convert(user, sample("png"), "jpg")
    services.conversion_fail(conversion_id=damaged.pk, message="La imagen está dañada o no es válida",
                             code="corrupt_input")
    http = _convert(user, sample("png"), "webp")
    services.conversion_fail(conversion_id=http.pk, message="El servidor de origen respondió 404.",
                             code="source_http_error", params={"status": 404})
    assert Conversion.objects.get(pk=http.pk).error_params == {"status": 404}
    client = _client(lang, user)
    page = client.get("/conversions/").content.decode()
    api = client.get(f"/api/conversion/{damaged.pk}", HTTP_ACCEPT_LANGUAGE=lang).json()
    api_http = client.get(f"/api/conversion/{http.pk}", HTTP_ACCEPT_LANGUAGE=lang).json()
    if lang == "es":
        assert "La imagen está dañada o no es válida" in page and "respondió 404" in page
        assert api["error"] == "La imagen está dañada o no es válida"
    else:
        assert "The image is damaged or invalid" in page and "answered 404" in page
        assert "dañada" not in page and "respondió" not in page
        assert api["error"] == "The image is damaged or invalid"
        assert api_http["error"] == "The source server answered 404."
    assert api["error_code"] == "corrupt_input"


def test_a_message_stored_in_english_is_still_shown_in_spanish(sample, no_worker):
    from conversions import services

    user = _user()
    job = _convert(user, sample("png"), "jpg")
    with translation.override("en"):
        services.conversion_fail(conversion_id=job.pk, message=translation.gettext(
            "La conversión superó el tiempo máximo permitido"), code="timeout")
    assert "tiempo máximo" in _client("es", user).get("/conversions/").content.decode()


# --- dates and sizes ----------------------------------------------------------------------------------
def test_dates_use_the_locale_formats(sample, no_worker):
    user = _user()
    job = _convert(user, sample("png"), "jpg")
    when = timezone.make_aware(datetime(2026, 12, 3, 13, 14))
    StoredFile.objects.filter(pk=job.source_id).update(expires_at=when)
    english = _client("en", user).get("/conversions/").content.decode()
    assert "3 Dec 2026, 13:14" in english and "p.m." not in english and "12/03/2026" not in english
    spanish = _client("es", user).get("/conversions/").content.decode()
    assert "03/12/2026 13:14" in spanish and "p.m." not in spanish


# --- deleted files, confirmations, downloads ----------------------------------------------------------
@pytest.mark.parametrize("lang", LANGS)
def test_deleting_a_file_asks_first_and_its_conversion_reads_deleted(lang, sample):
    user = _user()
    job = _convert(user, sample("png"), "jpg")
    job.refresh_from_db()
    assert job.status == "completed"
    client = _client(lang, user)
    files = client.get("/files/").content.decode()
    assert f"/files/{job.output_id}/download/" in files and f"/files/{job.source_id}/download/" in files
    download = client.get(f"/files/{job.output_id}/download/")
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"\xff\xd8")
    confirm = client.get(f"/files/{job.output_id}/delete/")
    assert confirm.status_code == 200
    assert StoredFile.objects.get(pk=job.output_id).is_deleted is False  # a GET deletes nothing
    assert f'action="/files/{job.output_id}/delete/"' in confirm.content.decode()
    client.post(f"/files/{job.output_id}/delete/")
    assert StoredFile.objects.get(pk=job.output_id).is_deleted is True
    listing = client.get("/conversions/").content.decode()
    assert (">eliminado<" if lang == "es" else ">deleted<") in listing
    assert f"/conversions/{job.pk}/download/" not in listing
    assert client.get(f"/files/{job.output_id}/download/").status_code == 410
    assert client.get(f"/files/{job.output_id}/delete/").status_code == 302  # already gone: back to the list


def test_someone_elses_file_cannot_be_downloaded_or_confirmed(sample):
    owner = _user()
    job = _convert(owner, sample("png"), "jpg")
    other = _client("es", _user("otra@example.com"))
    assert other.get(f"/files/{job.source_id}/download/").status_code == 404
    assert other.get(f"/files/{job.source_id}/delete/").status_code == 404


def test_batch_zip_has_a_readable_name(sample):
    from accounts.owners import Owner
    from conversions import services

    user = _user()
    paths = [sample("png"), sample("png"), sample("png")]
    created = services.conversion_request(owner=Owner(user=user), target_format="jpg", uploads=[
        services.Upload(path=p, name=p.name, size=p.stat().st_size) for p in paths])
    response = _client("es", user).get(f"/conversions/batch/{created[0].batch_id}/download/")
    day = timezone.localdate().isoformat()
    assert f'filename="anclora-{day}-3-archivos.zip"' in response["Content-Disposition"]


def test_subscribing_shows_a_summary_and_asks_to_confirm(offline):
    from billing.models import StripeSubscription

    user = _user()
    client = _client("es", user)
    plans = client.get("/plans/").content.decode()
    assert re.search(r'<form method="get" action="/plans/subscribe/">', plans)
    summary = client.get("/plans/subscribe/?plan=pro")
    html = summary.content.decode()
    assert summary.status_code == 200 and "Confirmar y pagar" in html and "al mes" in html
    assert 'method="post" action="/plans/subscribe/"' in html
    assert not StripeSubscription.objects.filter(user=user).exists()  # nothing before confirming
    assert client.get("/plans/subscribe/?plan=gratuito").status_code == 302
    assert client.get("/plans/subscribe/?plan=%3Cscript%3E").status_code == 302
    client.post("/plans/subscribe/", {"plan": "pro"})
    assert StripeSubscription.objects.filter(user=user, plan__slug="pro").exists()


# --- time zones -------------------------------------------------------------------------------------
def test_time_zone_select_is_curated_and_grouped():
    user = _user()
    client = _client("es", user)
    html = client.get("/account/").content.decode()
    select = re.search(r'<select name="time_zone".*?</select>', html, re.S).group(0)
    assert "Factory" not in select and "localtime" not in select
    assert select.count("<option") < 120 and select.count("<optgroup") >= 5
    assert re.search(r'<option value="Europe/Madrid" selected>Madrid \(UTC\+0[12]:00\)', select)
    ok = client.post("/account/", {"action": "profile", "language": "es", "time_zone": "America/Bogota"})
    assert ok.status_code == 302 and User.objects.get(pk=user.pk).time_zone == "America/Bogota"
    bad = client.post("/account/", {"action": "profile", "language": "es", "time_zone": "Factory"})
    assert bad.status_code == 200 and User.objects.get(pk=user.pk).time_zone == "America/Bogota"
    # a valid zone outside the list stays selectable for whoever already has it
    User.objects.filter(pk=user.pk).update(time_zone="Europe/Oslo")
    assert '<option value="Europe/Oslo" selected>' in client.get("/account/").content.decode()


# --- rewards ----------------------------------------------------------------------------------------
EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf\u2b50\u2693]")


def test_rewards_use_own_icons_and_names_never_repeat_a_level_title():
    from gamification import rules

    titles = {level.title for level in rules.LEVELS}
    assert not titles & {a.name for a in rules.ACHIEVEMENTS}
    names = {a.id: a.name for a in rules.ACHIEVEMENTS}
    assert names["first_conversion"] == "Primer Paso" and names["conversion_legend"] == "Leyenda Digital"
    assert rules.level_by_number(5).title == "Experto en Conversión"
    assert rules.level_by_number(6).title == "Gurú de Archivos"
    assert rules.level_by_number(8).title == "Campeón Converter"
    user = _user()
    html = _client("es", user).get("/rewards/").content.decode()
    main = html.split('<main', 1)[1]
    assert not EMOJI.search(main), EMOJI.search(main)
    assert main.count("achievements.svg#") == rules.TOTAL_ACHIEVEMENTS
    for a in rules.ACHIEVEMENTS:
        assert f"achievements.svg#{a.id}" in main


def test_every_achievement_has_a_drawn_icon():
    from django.conf import settings

    from gamification import rules

    sprite = (settings.BASE_DIR / "static" / "img" / "achievements.svg").read_text()
    for a in rules.ACHIEVEMENTS:
        assert f'<symbol id="{a.id}"' in sprite


# --- aria-describedby ---------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/", "/conversions/", "/files/", "/plans/", "/rewards/", "/account/",
                                  "/account/api-keys/"])
def test_every_aria_describedby_points_to_an_element(path):
    html = _client("es", _user()).get(path).content.decode()
    ids = set(re.findall(r'\bid="([^"]+)"', html))
    refs = [ref for value in re.findall(r'aria-describedby="([^"]+)"', html) for ref in value.split()]
    missing = [ref for ref in refs if ref not in ids]
    assert not missing, missing
    if path == "/rewards/":
        assert 'aria-describedby="id_points_helptext"' in html


def test_money_for_a_payment_row_is_localised(staff_client):
    from billing.models import ConversionTransaction

    user = _user("pagadora@example.com")
    ConversionTransaction.objects.create(
        user=user, amount=Decimal("12.50"), status="completed", stripe_payment_intent_id="pi_issue14",
        conversion_details={"source_format": "jpg", "target_format": "png", "file_size_mb": 1, "quality": "basic"},
        completed_at=timezone.now())
    html = staff_client("es").get("/admin/dashboard/").content.decode()
    assert "12,50 EUR (completada)" in html and "pagadora@example.com" in html
