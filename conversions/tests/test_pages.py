import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conversions.models import Conversion

# after-commit work (the eager worker) runs at the end of each request: no real transactions needed
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commit_per_request")]


def test_convert_page_lists_targets_and_session(client):
    resp = client.get("/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert 'id="dropzone"' in html and 'name="target_format"' in html
    assert '<option value="webp">WEBP</option>' in html
    assert client.session.get("anon_session_id")


def test_no_js_form_converts_and_lists(client, sample):
    client.get("/")
    path = sample("png")
    resp = client.post("/convert/", {"file": SimpleUploadedFile("foto.png", path.read_bytes()),
                                     "target_format": "webp", "quality": "high"}, follow=True)
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "foto.png" in html
    conversion = Conversion.objects.get()
    assert conversion.status == "completed" and conversion.quality == "high"
    download = client.get(f"/conversions/{conversion.pk}/download/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content)[8:12] == b"WEBP"


def test_no_js_form_shows_error_in_words(client, sample):
    client.get("/")
    path = sample("png")
    resp = client.post("/convert/", {"file": SimpleUploadedFile("foto.pdf", path.read_bytes()),
                                     "target_format": "docx", "quality": "standard"}, follow=True)
    assert "no coincide con el formato declarado" in resp.content.decode()
    assert not Conversion.objects.exists()


def test_other_visitor_gets_404_page(client, sample):
    from django.test import Client

    client.get("/")
    client.post("/convert/", {"file": SimpleUploadedFile("foto.png", sample("png").read_bytes()),
                              "target_format": "jpg", "quality": "standard"})
    conversion = Conversion.objects.get()
    other = Client()
    resp = other.get(f"/conversions/{conversion.pk}/download/")
    assert resp.status_code == 404 and resp["Content-Type"].startswith("text/html")
    assert "foto" not in other.get("/conversions/").content.decode()
