"""Hostile input over HTTP (SECURITY.md "Input bounds"): never a 500, always a 400 JSON naming the field.

The operations and fields come from our own OpenAPI schema, so a new endpoint or field is covered
without editing this file: every JSON body gets deeply nested and oversized bodies, every integer
and number out-of-range values, every string 100,000 characters.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest
from drf_spectacular.generators import SchemaGenerator

from anclora.core.parsers import json_depth

pytestmark = pytest.mark.django_db

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
COMPONENTS = SCHEMA["components"]["schemas"]
HUGE = ["10000000000000000000", "1" + "0" * 30, "-1" + "0" * 30]  # 10^19, 10^30, -10^30
LONG = "x" * 100_000


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = COMPONENTS[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _leaves(schema: dict, path: tuple = ()):
    """(path, schema) of every scalar property of a request body, nested objects included."""
    schema = _resolve(schema)
    for key in ("allOf", "oneOf", "anyOf"):
        for part in schema.get(key, []):
            yield from _leaves(part, path)
    if schema.get("type") == "object" or "properties" in schema:
        for name, sub in schema.get("properties", {}).items():
            yield from _leaves(sub, (*path, name))
    elif schema.get("type") not in (None, "array"):
        yield path, schema


def _json_operations():
    for path, item in SCHEMA["paths"].items():
        for method, op in item.items():
            content = (op.get("requestBody") or {}).get("content", {})
            if "application/json" in content:
                yield path, method, op, content["application/json"]["schema"]


JSON_OPERATIONS = [(path, method) for path, method, _, _ in _json_operations()]
FIELDS = sorted({(path, method, leaf_path, leaf.get("type"))
                 for path, method, _, body in _json_operations()
                 for leaf_path, leaf in _leaves(body) if leaf_path and leaf.get("type")})
INTEGER_FIELDS = [f for f in FIELDS if f[3] in ("integer", "number")]
STRING_FIELDS = [f for f in FIELDS if f[3] == "string"]
INTEGER_QUERY_PARAMS = sorted({(path, p["name"]) for path, item in SCHEMA["paths"].items()
                               for method, op in item.items() if method == "get"
                               for p in op.get("parameters", [])
                               if p["in"] == "query" and p.get("schema", {}).get("type") == "integer"})


def _url(path: str) -> str:
    return re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)


@pytest.fixture
def staff(django_user_model):
    """A staff user, so that permissions never answer before the body is read."""
    return django_user_model.objects.create_user(email="hostile@example.com", password="Secreta123!x",
                                                 is_staff=True)


@pytest.fixture
def client(api_client, staff):
    api_client.force_authenticate(staff)
    return api_client


def _send(client, method: str, path: str, raw: str | bytes):
    return getattr(client, method)(_url(path), data=raw, content_type="application/json")


def _error(resp, *statuses) -> dict:
    assert resp.status_code in statuses, (resp.status_code, resp.content[:300])
    assert resp["Content-Type"].startswith("application/json")
    body = resp.json()
    assert set(body) == {"error", "code", "details"}
    return body


def _names(details) -> set[str]:
    """Every key of a (nested) field-error dict."""
    if isinstance(details, dict):
        return set(details) | {n for v in details.values() for n in _names(v)}
    if isinstance(details, list):
        return {n for v in details for n in _names(v)}
    return set()


# Valid values for the other fields of an operation whose validation stops at the first bad field
# (the estimate is validated by its service, field by field).
VALID_SIBLINGS = {
    "/api/payments/estimate": {"source_format": "png", "target_format": "jpg", "file_size_mb": 1,
                               "quality": "standard"},
}


def _body_with(path: str, leaf_path: tuple, raw_value: str) -> str:
    """A JSON body with `raw_value` (JSON text, possibly beyond what json.dumps writes) at `leaf_path`."""
    body = dict(VALID_SIBLINGS.get(path, {}))
    node = body
    for name in leaf_path[:-1]:
        node = node.setdefault(name, {})
    node[leaf_path[-1]] = "__VALUE__"
    return json.dumps(body).replace('"__VALUE__"', raw_value)


def test_the_schema_gives_the_suite_something_to_attack():
    assert ("/api/auth/login", "post") in JSON_OPERATIONS
    assert ("/api/auth/register", "post") in JSON_OPERATIONS
    assert ("/api/payments/estimate", "post") in JSON_OPERATIONS
    assert ("/api/rewards/redeem-credits", "post", ("points",), "integer") in INTEGER_FIELDS
    assert ("/api/rewards/leaderboard", "limit") in INTEGER_QUERY_PARAMS
    assert ("/api/files/", "page_size") in INTEGER_QUERY_PARAMS
    assert len(STRING_FIELDS) > 10


# --- nesting depth and size -------------------------------------------------------------
@pytest.mark.parametrize(("path", "method"), JSON_OPERATIONS)
@pytest.mark.parametrize("shape", ["array", "object", "object_in_field"])
def test_deeply_nested_json_is_400(client, path, method, shape):
    depth = 1000
    if shape == "array":
        raw = "[" * depth + "]" * depth
    elif shape == "object":
        raw = '{"a":' * depth + "1" + "}" * depth
    else:
        raw = '{"email": ' + '{"a":' * depth + "1" + "}" * depth + "}"
    body = _error(_send(client, method, path, raw), 400)
    if path != "/api/payments/webhook":  # reads raw bytes for the signature: refused before parsing
        assert body["code"] == "json_too_deep"


@pytest.mark.parametrize(("path", "method"), JSON_OPERATIONS)
def test_body_over_the_size_limit_is_413(client, settings, path, method):
    if path == "/api/payments/webhook":
        pytest.skip("raw bytes for the signature; Django's DATA_UPLOAD_MAX_MEMORY_SIZE bounds it")
    raw = json.dumps({"email": "a" * (settings.API_JSON_MAX_BYTES + 10)})
    body = _error(_send(client, method, path, raw), 413)
    assert body["code"] == "request_too_large"


def test_the_size_limit_is_a_setting(client, settings):
    settings.API_JSON_MAX_BYTES = 100
    raw = json.dumps({"email": "a@example.com", "password": "x" * 100})
    assert _error(client.post("/api/auth/login", data=raw, content_type="application/json"), 413)
    settings.API_JSON_MAX_BYTES = 10_000
    assert _error(client.post("/api/auth/login", data=raw, content_type="application/json"), 401)


def test_nesting_within_the_limit_still_parses(client):
    features = "[" * 20 + "]" * 20
    raw = json.dumps({"source_format": "png", "target_format": "jpg", "file_size_mb": 1, "features": "F"})
    raw = raw.replace('"F"', features)
    body = _error(client.post("/api/payments/estimate", data=raw, content_type="application/json"), 400)
    assert "features" in body["details"]  # a validation answer: the body was parsed


def test_brackets_inside_strings_do_not_count(client):
    tricky = json.dumps({"email": "[" * 5000 + '\\"{{{{' + "{" * 5000, "password": "]" * 900})
    assert json_depth(tricky) == 1
    resp = client.post("/api/auth/login", data=tricky, content_type="application/json")
    assert _error(resp, 400, 401)["code"] != "json_too_deep"


@pytest.mark.parametrize(("text", "depth"), [
    ("1", 0), ("[]", 1), ('{"a": [1, {"b": []}]}', 4), ('["]]]]", "\\\\", [["\\"["]]]', 3),
    ('"[[[["', 0), ("[" * 1000, 1000),
])
def test_json_depth_is_counted_without_recursion(text, depth):
    assert json_depth(text) == depth


def test_non_finite_and_huge_numbers_are_400(client):
    for raw in ('{"points": 1e400}', '{"points": NaN}', '{"points": %s}' % ("9" * 5000)):
        resp = client.post("/api/rewards/redeem-credits", data=raw, content_type="application/json")
        _error(resp, 400)


def test_convert_without_a_body_is_400(client):
    """Found by the negative schemathesis run: no body at all reached `getlist` on a plain dict (500)."""
    body = _error(client.post("/api/conversion/convert"), 400)
    assert "file" in body["details"]


@pytest.mark.parametrize("value", HUGE, ids=["1e19", "1e30", "-1e30"])
def test_extend_retention_page_with_huge_credits_is_not_a_500(staff, tmp_path, value):
    from django.test import Client

    from accounts.owners import Owner
    from storage import services as storage_services

    source = tmp_path / "nota.txt"
    source.write_bytes(b"hola")
    stored = storage_services.stored_file_create(owner=Owner(user=staff), path=source, kind="original",
                                                 original_filename="nota.txt", file_format="txt",
                                                 content_type="text/plain")
    page = Client()
    page.force_login(staff)
    resp = page.post(f"/files/{stored.pk}/extend/", {"credits": value})
    assert resp.status_code == 302  # back to the list with a message, nothing extended
    stored.refresh_from_db()
    assert stored.extended_hours == 0


# --- integers and numbers ---------------------------------------------------------------
@pytest.mark.parametrize("value", HUGE, ids=["1e19", "1e30", "-1e30"])
@pytest.mark.parametrize(("path", "method", "field", "kind"), INTEGER_FIELDS)
def test_out_of_range_numbers_are_400_naming_the_field(client, path, method, field, kind, value):
    body = _error(_send(client, method, path, _body_with(path, field, value)), 400)
    assert field[-1] in _names(body["details"]), body


@pytest.mark.parametrize("value", HUGE, ids=["1e19", "1e30", "-1e30"])
def test_redeem_credits_with_huge_points_is_400(client, value):
    resp = client.post("/api/rewards/redeem-credits", data=f'{{"points": {value}}}',
                       content_type="application/json")
    body = _error(resp, 400)
    assert "points" in body["details"]


@pytest.mark.parametrize("value", HUGE, ids=["1e19", "1e30", "-1e30"])
def test_redeem_page_with_huge_points_is_a_form_error(staff, value):
    from django.test import Client

    page = Client()
    page.force_login(staff)
    resp = page.post("/rewards/", {"points": value})
    assert resp.status_code == 400
    assert "points" in resp.context["form"].errors


@pytest.mark.parametrize("value", [*HUGE, "0", "-1", "abc"])
@pytest.mark.parametrize(("path", "param"), INTEGER_QUERY_PARAMS)
def test_out_of_range_integer_query_parameters_are_400(client, path, param, value):
    body = _error(client.get(_url(path), {param: value}), 400)
    assert param in body["details"]


# --- strings ----------------------------------------------------------------------------
@pytest.mark.parametrize(("path", "method", "field", "kind"), STRING_FIELDS)
def test_100k_character_strings_are_400(client, path, method, field, kind):
    body = _error(_send(client, method, path, _body_with(path, field, json.dumps(LONG))), 400)
    assert field[-1] in _names(body["details"]), body


# --- the schema documents the bounds ----------------------------------------------------
def _request_fields_without_bounds():
    missing = []
    for path, method, _op, body in _json_operations():
        for leaf_path, leaf in _leaves(body):
            kind = leaf.get("type")
            if kind in ("integer", "number") and ("minimum" not in leaf or "maximum" not in leaf):
                missing.append((method, path, leaf_path))
            if kind == "string" and "maxLength" not in leaf and "enum" not in leaf \
                    and leaf.get("format") not in ("uuid", "date-time", "date", "binary"):
                missing.append((method, path, leaf_path))
    for path, item in SCHEMA["paths"].items():
        for method, op in item.items():
            for param in op.get("parameters", []):
                schema = param.get("schema", {})
                if schema.get("type") == "integer" and ("minimum" not in schema or "maximum" not in schema):
                    missing.append((method, path, param["name"]))
    return missing


def _integers_without_bounds(schema, path=(), seen=None):
    seen = set() if seen is None else seen
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        seen.add(name)
        return _integers_without_bounds(COMPONENTS[name], (name,), seen)
    found = []
    for key in ("allOf", "oneOf", "anyOf"):
        for part in schema.get(key, []):
            found += _integers_without_bounds(part, path, seen)
    for name, sub in schema.get("properties", {}).items():
        found += _integers_without_bounds(sub, (*path, name), seen)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            found += _integers_without_bounds(schema[key], (*path, key), seen)
    if schema.get("type") == "integer" and ("minimum" not in schema or "maximum" not in schema):
        found.append(path)
    return found


def test_every_request_field_and_parameter_documents_its_bounds():
    assert _request_fields_without_bounds() == []


def test_every_integer_in_the_schema_has_a_minimum_and_a_maximum():
    missing = [p for name in sorted(COMPONENTS) for p in _integers_without_bounds({"$ref": f"#/x/{name}"})]
    assert missing == []
