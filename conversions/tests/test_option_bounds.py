"""Values inside `options` are bounded before they are parsed or converted (SECURITY.md "Input bounds"):
a JSON text nested 2,000 levels deep, a 401-digit integer, 1e400 → a 400 naming the field, never a 500."""

from __future__ import annotations

import base64
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conversions.models import Conversion
from factories import upload

pytestmark = pytest.mark.django_db

HUGE = "9" * 401  # an integer literal with 401 digits: valid JSON, float() of it raises OverflowError
DEEP = "[" * 2000 + "]" * 2000  # json.loads recurses once per level: RecursionError


@pytest.fixture
def user_client(make_user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(make_user())
    return client


def _obj(name: str, literal: str) -> str:
    """A JSON object text with one member whose value is written as is (json.dumps cannot write 401 digits
    of an int without building it first, nor keep the literal unchanged)."""
    return '{"%s": %s}' % (name, literal)  # noqa: UP031


def _named(resp, name: str) -> dict:
    assert resp.status_code == 400, resp.content
    body = resp.json()
    assert body["code"] == "invalid_option" and body["error"].startswith(f"{name}: "), body
    assert list(body["details"]["options"]) == [name]
    return body


@pytest.mark.parametrize("raw, name", [
    (_obj("width", HUGE), "width"), (_obj("width", "-" + HUGE), "width"),
    ('{"width": 1e400}', "width"), (_obj("height", f'"{HUGE}"'), "height"),
    ('{"width": 12.5}', "width"),
])
def test_huge_numbers_in_multipart_options_are_a_400_naming_the_option(api_client, sample, raw, name):
    body = _named(upload(api_client, [sample("png")], "jpg", options=raw), name)
    assert not Conversion.objects.exists()
    if raw == _obj("width", HUGE):
        assert body["details"]["options"]["width"] == ["Debe ser como mucho 16384."]


def test_huge_numbers_for_pdf_pages_and_media_options(api_client, sample):
    _named(upload(api_client, [sample("pdf")], "png", options=_obj("dpi", HUGE)), "dpi")
    _named(upload(api_client, [sample("mp3")], "wav", options=_obj("sample_rate", HUGE)), "sample_rate")
    _named(upload(api_client, [sample("mp3")], "wav", options='{"trim_end": 1e400}'), "trim_end")
    assert not Conversion.objects.exists()


def test_options_nested_2000_arrays_deep_are_a_400_before_parsing(api_client, sample):
    resp = upload(api_client, [sample("png")], "jpg", options=DEEP)
    assert resp.status_code == 400, resp.content
    body = resp.json()
    assert list(body["details"]) == ["options"] and "32" in body["details"]["options"][0]
    assert not Conversion.objects.exists()
    deep_value = '{"width": %s}' % ("[" * 40 + "]" * 40)  # deeper than the limit inside an object
    resp = upload(api_client, [sample("png")], "jpg", options=deep_value)
    assert resp.status_code == 400 and list(resp.json()["details"]) == ["options"], resp.content


@pytest.mark.parametrize("options", [_obj("width", HUGE), DEEP, '{"width": 1e400}'])
def test_url_import_options_are_bounded_too(api_client, monkeypatch, options):
    from uploads import imports

    monkeypatch.setattr(imports, "url_import_enqueue", lambda **kw: None)
    data = {"source_url": "https://example.com/a.png", "target_format": "jpg", "options": options}
    resp = api_client.post("/api/conversion/convert", data, format="multipart")
    assert resp.status_code == 400, resp.content
    assert "options" in resp.json()["details"]
    if options != DEEP:
        _named(resp, "width")
    assert not Conversion.objects.exists()


@pytest.mark.usefixtures("commit_per_request")
@pytest.mark.parametrize("options", [_obj("width", HUGE), DEEP])
def test_upload_id_options_are_bounded_too(user_client, sample, options):
    data = sample("png").read_bytes()
    meta = "filename " + base64.b64encode(b"foto.png").decode()
    created = user_client.post("/api/uploads/", HTTP_UPLOAD_LENGTH=str(len(data)), HTTP_UPLOAD_METADATA=meta,
                               HTTP_TUS_RESUMABLE="1.0.0")
    assert created.status_code == 201, created.content
    patched = user_client.generic("PATCH", created.json()["upload_url"], data,
                                  content_type="application/offset+octet-stream", HTTP_UPLOAD_OFFSET="0",
                                  HTTP_TUS_RESUMABLE="1.0.0")
    assert patched.status_code == 204, patched.content
    resp = user_client.post("/api/conversion/convert", {"upload_id": created.json()["id"], "target_format": "jpg",
                                                        "options": options}, format="multipart")
    assert resp.status_code == 400, resp.content
    assert "options" in resp.json()["details"]
    if options != DEEP:
        _named(resp, "width")
    assert not Conversion.objects.exists()


def test_the_page_form_bounds_option_values(client, sample):
    resp = client.post("/convert/", {"file": SimpleUploadedFile("foto.png", sample("png").read_bytes()),
                                     "target_format": "webp", "quality": "standard", "opt_width": HUGE},
                       follow=True)
    assert resp.status_code == 200
    assert "width: " in resp.content.decode() and not Conversion.objects.exists()


def test_options_as_an_object_are_bounded_in_the_service():
    """A JSON body delivers options as an object (the body parser bounds its depth): its numbers are
    still bounded before float()."""
    from anclora.core.errors import ApplicationError
    from conversions import services

    for value in (10**400, -(10**400), float("inf"), float("nan"), "1" * 33):
        with pytest.raises(ApplicationError) as caught:
            services.conversion_options_validate(source="png", target="jpg", options={"width": value})
        assert caught.value.status == 400 and list(caught.value.details["options"]) == ["width"]


def test_the_estimate_endpoint_refuses_huge_numbers(api_client):
    body = '{"source_format": "png", "target_format": "jpg", "file_size_mb": ' + HUGE + "}"
    resp = api_client.post("/api/payments/estimate", body, content_type="application/json")
    assert resp.status_code == 400, resp.content
    assert "file_size_mb" in resp.json()["details"]
    resp = api_client.post("/api/payments/estimate", json.dumps({"source_format": "png", "target_format": "jpg",
                                                                 "file_size_mb": 1, "options": {"x": 1}}),
                           content_type="application/json")
    assert resp.status_code == 200, resp.content  # no options there: extra keys are ignored
