"""API keys: authentication per scope, revocation and expiry, management, owners' lifecycle, rate limit."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services as account_services
from apikeys.models import ApiKey
from factories import upload

from .conftest import key_client

pytestmark = pytest.mark.django_db


def _jwt_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {account_services.tokens_for_user(user)['access_token']}")
    return client


# --- management -------------------------------------------------------------------------------------
def test_create_shows_the_key_once_and_stores_it_hashed(make_user):
    user = make_user()
    client = _jwt_client(user)
    resp = client.post("/api/keys", {"name": "CI", "scopes": ["convert", "read"]}, format="json")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    key = body["key"]
    assert body["id"] == key.split(".")[0] and body["scopes"] == ["convert", "read"]
    stored = ApiKey.objects.get(prefix=body["id"])
    assert stored.user == user and key not in stored.hashed_key and key.split(".")[1] not in stored.id
    listed = client.get("/api/keys").json()
    assert listed["count"] == 1 and "key" not in listed["results"][0]
    assert listed["results"][0]["name"] == "CI" and listed["results"][0]["revoked"] is False


def test_create_validates_scopes_and_name(make_user):
    client = _jwt_client(make_user())
    assert client.post("/api/keys", {"name": "x", "scopes": ["admin"]}, format="json").status_code == 400
    assert client.post("/api/keys", {"name": "x", "scopes": []}, format="json").status_code == 400
    assert client.post("/api/keys", {"name": "", "scopes": ["read"]}, format="json").status_code == 400
    past = (timezone.now() - timedelta(days=1)).isoformat()
    resp = client.post("/api/keys", {"name": "x", "scopes": ["read"], "expiry_date": past}, format="json")
    assert resp.status_code == 400 and resp.json()["code"] == "invalid_expiry"


def test_revoke_through_the_api_and_others_keys_are_404(make_user, make_key):
    user, other = make_user(), make_user()
    key = make_key(user, scopes=["read"])
    prefix = key.split(".")[0]
    assert _jwt_client(other).delete(f"/api/keys/{prefix}").status_code == 404
    assert key_client(key).get("/api/conversion/history").status_code == 200
    assert _jwt_client(user).delete(f"/api/keys/{prefix}").status_code == 204
    resp = key_client(key).get("/api/conversion/history")
    assert resp.status_code == 401 and resp.json()["code"] == "invalid_api_key"
    assert ApiKey.objects.get(prefix=prefix).revoked_at is not None


def test_a_key_cannot_manage_keys(make_user, make_key):
    user = make_user()
    key = make_key(user)  # every scope
    client = key_client(key)
    for resp in (client.get("/api/keys"),
                 client.post("/api/keys", {"name": "more", "scopes": ["read"]}, format="json"),
                 client.delete(f"/api/keys/{key.split('.')[0]}")):
        assert resp.status_code == 403, resp.content
        assert resp.json()["code"] == "api_key_not_allowed"
    assert ApiKey.objects.filter(user=user).count() == 1 and not ApiKey.objects.get().revoked


def test_anonymous_cannot_manage_keys():
    assert APIClient().get("/api/keys").status_code == 401


# --- authentication and scopes ----------------------------------------------------------------------
def test_read_scope_reads_and_is_refused_writes_naming_the_scope(make_user, make_key, sample, no_worker):
    user = make_user()
    client = key_client(make_key(user, scopes=["read"]))
    me = client.get("/api/auth/me")
    assert me.status_code == 200 and me.json()["user"]["email"] == user.email
    assert client.get("/api/conversion/history").status_code == 200
    assert client.get("/api/files/").status_code == 200
    assert client.get("/api/rewards/profile").status_code == 200
    refused = upload(client, [sample("png")], "jpg")
    assert refused.status_code == 403
    assert refused.json()["code"] == "api_key_scope_missing" and "convert" in refused.json()["error"]
    pay = client.post("/api/payments/create-payment-intent", {"conversion_request": {
        "source_format": "png", "target_format": "jpg", "file_size_mb": 0.01, "quality": "standard"}}, format="json")
    assert pay.status_code == 403 and "billing" in pay.json()["error"]
    assert not no_worker


def test_convert_scope_converts_as_the_keys_user(make_user, make_key, sample, no_worker):
    user = make_user()
    client = key_client(make_key(user, scopes=["convert"]))
    resp = upload(client, [sample("png")], "jpg")
    assert resp.status_code == 202, resp.content
    assert resp.json()["session_id"] is None  # the user's conversion, under the user's plan
    from conversions.models import Conversion

    conversion = Conversion.objects.get()
    assert conversion.user == user
    cancel = client.post(f"/api/conversion/{conversion.pk}/cancel")
    assert cancel.status_code == 200
    detail = client.get(f"/api/conversion/{conversion.pk}")
    assert detail.status_code == 403 and "read" in detail.json()["error"]


def test_convert_scope_converts_again(make_user, make_key, sample):
    """Issue 24: POST /api/conversion/<id>/convert-again takes a `convert` key, as POST /api/convert does."""
    user = make_user()
    client = key_client(make_key(user, scopes=["convert"]))
    first = upload(client, [sample("png")], "jpg")
    assert first.status_code == 202, first.content
    conversion_id = first.json()["conversions"][0]["id"]
    again = client.post(f"/api/conversion/{conversion_id}/convert-again", {"target_format": "webp"}, format="json")
    assert again.status_code == 202, again.content
    assert again.json()["conversions"][0]["target_format"] == "webp"
    from conversions.models import Conversion

    assert Conversion.objects.filter(user=user, target_format="webp").count() == 1
    reader = key_client(make_key(user, scopes=["read"]))
    refused = reader.post(f"/api/conversion/{conversion_id}/convert-again", {"target_format": "gif"}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "api_key_scope_missing"


def test_billing_scope_pays(make_user, make_key, settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_API_BASE = ""
    user = make_user()
    client = key_client(make_key(user, scopes=["billing"]))
    resp = client.post("/api/payments/create-payment-intent", {"conversion_request": {
        "source_format": "png", "target_format": "jpg", "file_size_mb": 0.01, "quality": "standard"}}, format="json")
    assert resp.status_code == 201, resp.content
    assert client.get("/api/payments/transactions").status_code == 200
    assert client.get("/api/conversion/history").status_code == 403


def test_unknown_revoked_and_expired_keys_are_401(make_user, make_key):
    user = make_user()
    assert key_client("nope.nothing").get("/api/conversion/history").status_code == 401
    key = make_key(user, scopes=["read"])
    prefix = key.split(".")[0]
    assert key_client(prefix + ".wrongsecret").get("/api/conversion/history").status_code == 401
    ApiKey.objects.filter(prefix=prefix).update(expiry_date=timezone.now() - timedelta(seconds=1))
    resp = key_client(key).get("/api/conversion/history")
    assert resp.status_code == 401 and resp.json()["code"] == "invalid_api_key"
    assert "WWW-Authenticate" in resp
    other = make_key(user, scopes=["read"])
    from apikeys import services

    services.api_key_revoke(api_key=ApiKey.objects.get(prefix=other.split(".")[0]))
    assert key_client(other).get("/api/conversion/history").status_code == 401


def test_last_used_is_recorded(make_user, make_key):
    key = make_key(make_user(), scopes=["read"])
    assert ApiKey.objects.get().last_used_at is None
    key_client(key).get("/api/conversion/history")
    assert ApiKey.objects.get().last_used_at is not None


def test_a_staff_users_key_never_acts_as_staff(admin_user, make_key, settings):
    settings.ADMIN_REQUIRE_2FA = False  # even where a staff JWT would do
    key = make_key(admin_user)
    client = key_client(key)
    assert client.get("/api/admin/stats").status_code == 403
    import uuid

    assert client.post(f"/api/payments/transactions/{uuid.uuid4()}/refund").status_code == 403


def test_is_verified_staff_refuses_a_key_even_where_the_route_would_allow_it(admin_user, rf):
    from rest_framework.request import Request

    from anclora.core.permissions import IsVerifiedStaff
    from apikeys import services

    api_key = services.api_key_create(user=admin_user, name="x", scopes=["read"]).api_key
    request = Request(rf.get("/"))
    request.user, request.auth = admin_user, api_key
    assert IsVerifiedStaff().has_permission(request, None) is False


# --- the owner's lifecycle --------------------------------------------------------------------------
def test_deleting_the_user_kills_its_keys(make_user, make_key):
    user = make_user()
    key = make_key(user)
    revoked = []
    from anclora.core import events

    events.subscribe("user_deleting", lambda user: revoked.extend(
        ApiKey.objects.filter(user=user, revoked=True).values_list("prefix", flat=True)))
    account_services.user_delete(user=user)
    assert revoked == [key.split(".")[0]]  # revoked inside the deletion, before the row went
    assert not ApiKey.objects.exists()
    assert key_client(key).get("/api/conversion/history").status_code == 401


def test_deactivating_the_user_kills_its_keys(make_user, make_key):
    user = make_user()
    key = make_key(user)
    account_services.user_deactivate(user=user)
    assert ApiKey.objects.get().revoked
    assert key_client(key).get("/api/conversion/history").status_code == 401


def test_an_inactive_user_is_refused_even_if_its_key_was_not_revoked(make_user, make_key):
    from accounts.models import User

    user = make_user()
    key = make_key(user)
    User.objects.filter(pk=user.pk).update(is_active=False)  # no signal: the check at authentication holds
    assert not ApiKey.objects.get().revoked
    assert key_client(key).get("/api/conversion/history").status_code == 401


def test_deactivating_in_the_admin_kills_the_keys(make_user, make_key):
    user = make_user()
    make_key(user)
    user.is_active = False
    user.save()  # what the admin's change form does
    assert ApiKey.objects.get().revoked


# --- rate limit -------------------------------------------------------------------------------------
def test_per_key_rate_limit_with_retry_after(make_user, make_key, settings):
    settings.API_KEY_THROTTLE_RATE = "3/min"
    user = make_user()
    first, second = key_client(make_key(user, scopes=["read"])), key_client(make_key(user, scopes=["read"]))
    for _ in range(3):
        assert first.get("/api/conversion/history").status_code == 200
    limited = first.get("/api/conversion/history")
    assert limited.status_code == 429
    assert limited.json()["code"] == "throttled"
    assert 0 < int(limited["Retry-After"]) <= 60
    assert second.get("/api/conversion/history").status_code == 200  # per key, not per user
    assert _jwt_client(user).get("/api/conversion/history").status_code == 200  # JWT is not limited by it


# --- admin ------------------------------------------------------------------------------------------
def test_admin_lists_and_revokes_keys(verified_admin_client, make_user, make_key):
    user = make_user()
    key = make_key(user, name="integración")
    listing = verified_admin_client.get("/admin/apikeys/apikey/")
    assert listing.status_code == 200
    assert b"integraci" in listing.content and user.email.encode() in listing.content
    prefix = key.split(".")[0]
    resp = verified_admin_client.post("/admin/apikeys/apikey/", {
        "action": "revoke_keys", "_selected_action": [ApiKey.objects.get(prefix=prefix).pk]})
    assert resp.status_code == 302
    assert ApiKey.objects.get(prefix=prefix).revoked
    assert key_client(key).get("/api/conversion/history").status_code == 401


# --- the page ---------------------------------------------------------------------------------------
def test_account_page_creates_shows_once_and_revokes(client, make_user):
    user = make_user()
    client.force_login(user)
    assert b"/account/api-keys/" in client.get("/account/").content
    resp = client.post("/account/api-keys/", {"action": "create", "name": "script", "scopes": ["read"]})
    assert resp.status_code == 200
    api_key = ApiKey.objects.get(user=user)
    assert api_key.scopes == ["read"]
    shown = resp.content.decode()
    assert f"{api_key.prefix}." in shown
    again = client.get("/account/api-keys/").content.decode()
    assert "script" in again and f"{api_key.prefix}." not in again  # shown once
    client.post("/account/api-keys/", {"action": "revoke", "key_id": api_key.prefix})
    assert ApiKey.objects.get(user=user).revoked


def test_keys_reach_the_webhook_endpoints_within_their_scopes(make_user, make_key):
    user = make_user()
    reader = key_client(make_key(user, scopes=["read"]))
    assert reader.get("/api/webhooks/endpoints").status_code == 200
    assert reader.get("/api/webhooks/deliveries").status_code == 200
    refused = reader.get("/api/webhooks/secret")  # the signing secret is not a `read` matter
    assert refused.status_code == 403 and "convert" in refused.json()["error"]
    writer = key_client(make_key(user, scopes=["convert"]))
    assert writer.get("/api/webhooks/secret").status_code == 200
