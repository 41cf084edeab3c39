import pytest

pytestmark = pytest.mark.django_db


def _assert_json_error(resp, status):
    assert resp.status_code == status, resp.content[:300]
    assert resp["Content-Type"].startswith("application/json")
    body = resp.json()
    assert set(body) == {"error", "code", "details"}
    return body


def test_unknown_api_route_is_json_404(client):
    body = _assert_json_error(client.get("/api/no-such-endpoint"), 404)
    assert body["code"] == "not_found"


def test_wrong_method_is_json_405(client):
    body = _assert_json_error(client.get("/api/auth/login"), 405)
    assert body["code"] == "method_not_allowed"


def test_malformed_json_is_400(client):
    resp = client.post("/api/auth/login", data="{not json", content_type="application/json")
    body = _assert_json_error(resp, 400)
    assert body["code"] == "parse_error"


def test_wrong_types_are_400_naming_field(client):
    resp = client.post("/api/auth/login", data={"email": ["a"], "password": {"x": 1}},
                       content_type="application/json")
    body = _assert_json_error(resp, 400)
    assert "password" in body["details"]


def test_page_404_is_html(client):
    resp = client.get("/no-such-page/")
    assert resp.status_code == 404
    assert resp["Content-Type"].startswith("text/html")
    assert b"404" in resp.content


def test_unhandled_api_error_is_json_500(client, monkeypatch):
    from accounts import services

    def boom(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "user_login", boom)
    client.raise_request_exception = False
    resp = client.post("/api/auth/login", {"email": "a@b.es", "password": "x"},
                       content_type="application/json")
    body = _assert_json_error(resp, 500)
    assert body["code"] == "server_error"
    assert "boom" not in body["error"]


def test_schema_and_docs_are_served_locally(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    text = schema.content.decode()
    for path in ("/api/auth/register", "/api/auth/login", "/api/auth/me", "/api/health"):
        assert path in text
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn." not in html and "unpkg" not in html and "jsdelivr" not in html
