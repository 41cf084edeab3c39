"""Every page through the Django test client: GET and POST paths, error states, locale formatting and
the markup rules the browser relies on (no inline script, no other host, every control labelled)."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import User
from billing.models import ConversionTransaction
from conversions.models import Conversion
from factories import PASSWORD, give_credits
from storage.models import StoredFile

pytestmark = pytest.mark.django_db

ANONYMOUS_PAGES = ["/", "/conversions/", "/files/", "/plans/", "/login/", "/signup/"]
USER_PAGES = ["/", "/conversions/", "/files/", "/plans/", "/rewards/", "/account/"]
ES_PRICE = re.compile(r"\d+,\d\d\u00a0€")


@pytest.fixture
def offline(settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_API_BASE = ""


def _png(sample, name="foto.png"):
    return SimpleUploadedFile(name, sample("png").read_bytes())


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def assert_page_rules(html: str, where: str) -> None:
    assert re.search(r"<script(?![^>]*\ssrc=)[^>]*>", html) is None, f"inline script on {where}"
    assert re.search(r"<[^>]+\son[a-z]+\s*=", html) is None, f"inline event handler on {where}"
    foreign = re.findall(r'(?:src|href|action)="((?:https?:)?//[^"]*)"', html)
    assert not foreign, f"{where} points at other hosts: {foreign}"
    for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
        if re.search(r'type="(hidden|submit)"', tag):
            continue
        found = re.search(r'\sid="([^"]+)"', tag)
        assert found, f"control without id on {where}: {tag}"
        assert f'for="{found.group(1)}"' in html or "aria-label" in tag, f"unlabelled control on {where}: {tag}"


def test_every_page_renders_for_visitors_and_users(client, make_user, offline):
    for url in ANONYMOUS_PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert '<html lang="es">' in html and "css/app.css" in html
        assert_page_rules(html, url)
    user = make_user()
    give_credits(user, 1)
    client.force_login(user)
    for url in USER_PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_page_rules(response.content.decode(), url)
    for url in ("/login/", "/signup/"):  # already signed in
        assert client.get(url)["Location"] == "/"


def test_signed_in_pages_need_login(client):
    for url in ("/rewards/", "/account/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(f"/login/?next={url}")
    for url in ("/plans/subscribe/", "/plans/cancel/"):
        assert client.post(url, {"plan": "pro"})["Location"].startswith("/login/")


def test_post_only_routes_refuse_get(client, make_user):
    client.force_login(make_user())
    some = "00000000-0000-0000-0000-000000000000"
    for url in ("/logout/", "/language/", "/convert/", "/plans/cancel/",
                f"/checkout/{some}/pay/", f"/files/{some}/extend/", f"/conversions/{some}/cancel/"):
        assert client.get(url).status_code == 405, url
    # These two answer a GET with a confirmation page (issue 14); a GET changes nothing.
    assert client.get("/plans/subscribe/").status_code == 302  # no plan chosen: back to the plans
    assert client.get(f"/files/{some}/delete/").status_code == 404


def test_prices_plan_names_and_retention_in_the_locale(client, offline):
    html = client.get("/plans/").content.decode()
    assert "4,99\u00a0€" in html and "0,05\u00a0€" in html and "+0,10\u00a0€" in html
    assert "Gratuito" in html and "Archivos guardados 7 días" in html and "Imagen → imagen" in html
    assert "Carga alta" in html and "Inicia sesión para suscribirte" in html
    client.post("/language/", {"language": "en", "next": "/plans/"})
    html = client.get("/plans/").content.decode()
    assert '<html lang="en">' in html
    assert "€4.99" in html and "€0.05" in html and "Free" in html and "Gratuito" not in html
    assert "Files kept for 7 days" in html and "Image → image" in html and "High load" in html


def test_dates_follow_the_profile_time_zone(client, make_user, sample, no_worker):
    user = make_user()
    User.objects.filter(pk=user.pk).update(time_zone="America/New_York")
    client.force_login(user)
    client.post("/convert/", {"file": _png(sample), "target_format": "jpg", "quality": "standard"})
    source = StoredFile.objects.get()
    from zoneinfo import ZoneInfo

    from django.utils import formats

    local = source.expires_at.astimezone(ZoneInfo("America/New_York"))
    assert formats.date_format(local, "SHORT_DATETIME_FORMAT") in client.get("/conversions/").content.decode()


def test_convert_form_errors_in_words(client, sample):
    response = client.post("/convert/", {"target_format": "jpg", "quality": "standard"}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert "No se ha enviado ningún archivo." in _messages(response)
    response = client.post("/convert/", {"file": _png(sample), "target_format": "xyz", "quality": "standard"},
                           follow=True)
    assert any(m.startswith("Convertir a:") and "xyz" in m for m in _messages(response))
    assert not Conversion.objects.exists()


def test_list_refreshes_while_active_and_cancel(client, sample, no_worker):
    assert "Aún no tienes conversiones" in client.get("/conversions/").content.decode()
    client.get("/")
    client.post("/convert/", {"file": _png(sample), "target_format": "jpg", "quality": "standard"})
    conversion = Conversion.objects.get()
    html = client.get("/conversions/").content.decode()
    assert 'http-equiv="refresh"' in html and f"/conversions/{conversion.pk}/cancel/" in html
    assert Client().post(f"/conversions/{conversion.pk}/cancel/").status_code == 404  # not theirs
    response = client.post(f"/conversions/{conversion.pk}/cancel/", follow=True)
    assert "Conversión cancelada." in _messages(response)
    conversion.refresh_from_db()
    assert conversion.status == "cancelled"
    assert 'http-equiv="refresh"' not in client.get("/conversions/").content.decode()
    response = client.get(f"/conversions/batch/{conversion.batch_id}/download/")
    assert response.status_code == 409 and "error-page" in response.content.decode()


@pytest.mark.usefixtures("commit_per_request")  # the eager worker runs after each request
def test_batch_download_zip(client, sample):
    client.get("/")
    client.post("/convert/", {"file": [_png(sample, "a.png"), _png(sample, "b.png")], "target_format": "jpg",
                              "quality": "standard"})
    batch_id = Conversion.objects.values_list("batch_id", flat=True).first()
    response = client.get(f"/conversions/batch/{batch_id}/download/")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert sorted(archive.namelist()) == ["a.jpg", "b.jpg"]
    assert archive.read("a.jpg")[:3] == b"\xff\xd8\xff"
    assert Client().get(f"/conversions/batch/{batch_id}/download/").status_code == 404


@pytest.mark.usefixtures("commit_per_request")  # the eager worker runs after each request
def test_no_js_payment_credit_and_checkout_path(client, make_user, sample, offline):
    user = make_user()
    client.force_login(user)
    for _ in range(5):
        client.post("/convert/", {"file": _png(sample), "target_format": "jpg", "quality": "standard"})
    response = client.post("/convert/", {"file": _png(sample), "target_format": "jpg", "quality": "standard"},
                           follow=True)
    tx = ConversionTransaction.objects.get(user=user)
    assert response.redirect_chain[-1][0] == f"/checkout/{tx.pk}/"
    assert any(ES_PRICE.search(m) and "Gratuito" in m for m in _messages(response))
    html = response.content.decode()
    assert ES_PRICE.search(html) and "Pagar con tarjeta de prueba" in html

    response = client.post(f"/checkout/{tx.pk}/pay/", {"card": "visa"}, follow=True)
    assert "Pago completado. Ya puedes convertir el archivo." in _messages(response)
    assert f"/?transaction_id={tx.pk}" in response.content.decode()
    assert f'value="{tx.pk}"' in client.get(f"/?transaction_id={tx.pk}").content.decode()
    response = client.post("/convert/", {"file": _png(sample), "target_format": "jpg", "quality": "standard",
                                         "transaction_id": str(tx.pk)}, follow=True)
    assert response.redirect_chain[-1][0] == "/conversions/"
    paid = Conversion.objects.get(paid_by="payment")
    assert paid.status == "completed"
    assert "Este pago ya se usó" in client.get(f"/checkout/{tx.pk}/").content.decode()

    give_credits(user, 1)
    client.post("/convert/", {"file": _png(sample), "target_format": "jpg", "quality": "standard",
                              "use_credit": "true"})
    assert Conversion.objects.filter(paid_by="credit", status="completed").count() == 1
    assert User.objects.get(pk=user.pk).conversion_credits == 0


def test_checkout_decline_and_other_owner(client, offline):
    client.get("/")
    request = {"source_format": "png", "target_format": "jpg", "file_size_mb": 1, "quality": "basic"}
    tx_id = client.post("/api/payments/create-payment-intent", {"conversion_request": request},
                        content_type="application/json").json()["transaction_id"]
    html = client.get(f"/checkout/{tx_id}/").content.decode()
    assert "0,05\u00a0€" in html and "calidad básica" in html
    response = client.post(f"/checkout/{tx_id}/pay/", {"card": "decline"}, follow=True)
    assert any("rechaz" in m.lower() or "declin" in m.lower() for m in _messages(response)), _messages(response)
    assert "Pago rechazado" in response.content.decode()
    other = Client()
    response = other.get(f"/checkout/{tx_id}/")
    assert response.status_code == 404 and "error-page" in response.content.decode()
    assert other.post(f"/checkout/{tx_id}/pay/", {"card": "visa"}).status_code in (302, 404)
    assert ConversionTransaction.objects.get(pk=tx_id).status == "failed"


def test_files_page_error_states(client, make_user, sample, no_worker):
    client.get("/")
    client.post("/convert/", {"file": _png(sample), "target_format": "jpg", "quality": "standard"})
    stored = StoredFile.objects.get()
    html = client.get("/files/").content.decode()
    assert "foto.png" in html and "Ampliar" not in html  # visitors cannot extend (no credits)
    response = client.post(f"/files/{stored.pk}/extend/", {"credits": "1"}, follow=True)
    assert any("Necesitas una cuenta" in m for m in _messages(response))

    user = make_user()
    other = Client()
    other.force_login(user)
    assert other.post(f"/files/{stored.pk}/extend/", {"credits": "1"}).status_code == 404
    assert other.post(f"/files/{stored.pk}/delete/").status_code == 404
    assert "Tienes 0 créditos." in other.get("/files/").content.decode()
    other.post("/convert/", {"file": _png(sample, "mio.png"), "target_format": "jpg", "quality": "standard"})
    mine = StoredFile.objects.get(user=user)
    response = other.post(f"/files/{mine.pk}/extend/", {"credits": "abc"}, follow=True)
    assert "El número de créditos debe ser positivo." in _messages(response)
    response = other.post(f"/files/{mine.pk}/extend/", {"credits": "1"}, follow=True)
    assert any("créditos" in m for m in _messages(response))
    response = other.post(f"/files/{mine.pk}/delete/", follow=True)
    assert "Archivo eliminado." in _messages(response)
    assert "Eliminado" in response.content.decode()


def test_subscribe_and_cancel_errors(client, make_user, offline):
    client.force_login(make_user())
    response = client.post("/plans/subscribe/", {"plan": "no-existe"}, follow=True)
    assert response.redirect_chain[-1][0] == "/plans/" and len(_messages(response)) == 1
    assert 'class="message error"' in response.content.decode()
    response = client.post("/plans/cancel/", follow=True)
    assert 'class="message error"' in response.content.decode()


def test_language_switch_rules(client, make_user):
    response = client.post("/language/", {"language": "xx", "next": "https://evil.example/"})
    assert response["Location"] == "/" and response.cookies["django_language"].value == "es"
    user = make_user()
    client.force_login(user)
    response = client.post("/language/", {"language": "en", "next": "/files/"})
    assert response["Location"] == "/files/"
    assert User.objects.get(pk=user.pk).language == "en"
    assert "My files" in client.get("/files/").content.decode()


def test_account_form_errors(client, make_user):
    user = make_user()
    client.force_login(user)
    response = client.post("/account/", {"action": "profile", "first_name": "A", "last_name": "B",
                                         "language": "es", "time_zone": "Mars/Olympus"})
    assert response.status_code == 200 and 'class="field-error"' in response.content.decode()
    response = client.post("/account/", {"action": "password", "old_password": "mal", "new_password": "Otra456$$"})
    html = response.content.decode()
    assert response.status_code == 200 and ("form-error" in html or "field-error" in html)
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)
    response = client.post("/account/", {"action": "delete", "password": "mal"})
    assert "La contraseña no es correcta." in response.content.decode()
    assert User.objects.filter(pk=user.pk).exists()


def test_login_errors_keep_the_form(client, make_user):
    user = make_user()
    response = client.post("/login/", {"email": user.email, "password": "mal"})
    assert response.status_code in (400, 401) and 'role="alert"' in response.content.decode()
    response = client.post("/login/", {"email": "", "password": ""})
    assert 'class="field-error"' in response.content.decode()


def test_404_and_500_pages_in_the_site_style(client, rf):
    from django.utils import translation

    from anclora.core.views import server_error

    response = client.get("/no-existe/")
    html = response.content.decode()
    assert response.status_code == 404 and "error-page" in html and "css/app.css" in html
    assert 'class="site-header"' in html and "Página no encontrada" in html
    with translation.override("en"):
        response = server_error(rf.get("/"))
    html = response.content.decode()
    assert response.status_code == 500 and '<html lang="en">' in html and "css/app.css" in html
    assert 'class="site-header"' in html and "error-page" in html
    assert_page_rules(html, "500")
