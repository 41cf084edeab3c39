"""tus discovery (OPTIONS /api/uploads/) with an API key, and the CORS preflight of a browser tus client."""

import pytest
from rest_framework.test import APIClient

from apikeys import services as key_services

pytestmark = pytest.mark.django_db
ORIGIN = "https://app.example"


def _key_client(user, scopes):
    client = APIClient()
    key = key_services.api_key_create(user=user, name="tus", scopes=list(scopes)).key
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def test_an_api_key_with_convert_gets_the_tus_options(make_user):
    resp = _key_client(make_user(), ["convert"]).options("/api/uploads/")
    assert resp.status_code == 204, resp.content
    assert resp["Tus-Version"] == "1.0.0" and resp["Tus-Resumable"] == "1.0.0"
    assert set(resp["Tus-Extension"].split(",")) >= {"creation", "expiration", "termination"}
    assert int(resp["Tus-Max-Size"]) > 0


def test_a_key_without_convert_is_refused_naming_the_scope(make_user):
    resp = _key_client(make_user(), ["read"]).options("/api/uploads/")
    assert resp.status_code == 403
    assert resp.json()["code"] == "api_key_scope_missing" and "convert" in resp.json()["error"]


def test_an_unknown_key_is_401_on_options_too():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Api-Key nope.nope")
    assert client.options("/api/uploads/").status_code == 401


def test_head_of_an_upload_needs_convert_not_read(make_user):
    user = make_user()
    created = _key_client(user, ["convert"]).post(
        "/api/uploads/", HTTP_TUS_RESUMABLE="1.0.0", HTTP_UPLOAD_LENGTH="10")
    assert created.status_code == 201
    url = f"/api/uploads/{created.json()['id']}"
    assert _key_client(user, ["convert"]).head(url)["Upload-Offset"] == "0"
    assert _key_client(user, ["read"]).head(url).status_code == 403


def test_preflight_from_an_allowed_origin_lets_a_tus_client_through(settings):
    settings.CORS_ALLOWED_ORIGINS = [ORIGIN]
    # A browser's preflight carries no credentials: it must not be refused for lacking a key.
    resp = APIClient().options("/api/uploads/", HTTP_ORIGIN=ORIGIN, HTTP_ACCESS_CONTROL_REQUEST_METHOD="PATCH",
                               HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, tus-resumable, "
                                                                   "upload-offset, upload-length, upload-metadata")
    assert resp.status_code == 200
    assert resp["Access-Control-Allow-Origin"] == ORIGIN
    allowed = {h.strip() for h in resp["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "tus-resumable", "upload-offset", "upload-length", "upload-metadata"} <= allowed
    assert "PATCH" in resp["Access-Control-Allow-Methods"]


def test_the_actual_answer_exposes_the_tus_headers_to_the_allowed_origin(settings, make_user):
    settings.CORS_ALLOWED_ORIGINS = [ORIGIN]
    resp = _key_client(make_user(), ["convert"]).post(
        "/api/uploads/", HTTP_ORIGIN=ORIGIN, HTTP_TUS_RESUMABLE="1.0.0", HTTP_UPLOAD_LENGTH="10")
    assert resp.status_code == 201
    assert resp["Access-Control-Allow-Origin"] == ORIGIN
    exposed = {h.strip().lower() for h in resp["Access-Control-Expose-Headers"].split(",")}
    assert {"location", "upload-offset", "upload-length", "upload-expires", "tus-resumable"} <= exposed


def test_other_origins_get_no_cors_grant(settings):
    settings.CORS_ALLOWED_ORIGINS = [ORIGIN]
    resp = APIClient().options("/api/uploads/", HTTP_ORIGIN="https://evil.example",
                               HTTP_ACCESS_CONTROL_REQUEST_METHOD="PATCH")
    assert "Access-Control-Allow-Origin" not in resp
