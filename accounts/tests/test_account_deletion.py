"""Any account can delete itself (issue 11, finding 3): the seed answered 500 (ProtectedError) for
anyone who had converted a file. What it owns goes, bytes included; payments stay anonymised."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.models import User
from accounts.owners import Owner
from anclora.core import events
from billing.models import ConversionCharge, ConversionTransaction
from conversions.models import Conversion
from factories import ConversionFactory, TransactionFactory, give_credits
from gamification import rules
from gamification import services as rewards
from gamification.models import UserAchievement, UserReward
from storage import services as storage
from storage.models import StoredFile

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db

EMAIL = "ana.garcia@example.com"


def _file(user, tmp_path, name: str, kind: str, fmt: str) -> StoredFile:
    path = tmp_path / f"{uuid.uuid4().hex}.{fmt}"
    path.write_bytes(b"contenido de " + name.encode())
    return storage.stored_file_create(owner=Owner(user=user), path=path, kind=kind, original_filename=name,
                                      file_format=fmt, content_type="application/octet-stream")


@pytest.fixture
def busy_user(make_user, tmp_path, api_client):
    """Files, a completed and a failed conversion, a payment, points, an achievement, credits, an API session."""
    user = make_user(email=EMAIL, first_name="Ana", last_name="García")
    source = _file(user, tmp_path, "Nóminas de Ana García.docx", "original", "docx")
    output = _file(user, tmp_path, "Nóminas de Ana García.pdf", "converted", "pdf")
    failed_source = _file(user, tmp_path, "DNI Ana.png", "original", "png")
    completed = ConversionFactory(user=user, source=source, output=output, original_format="docx",
                                  target_format="pdf", status=Conversion.Status.COMPLETED, paid_by="payment")
    ConversionFactory(user=user, source=failed_source, original_format="png", target_format="pdf",
                      status=Conversion.Status.FAILED, error_code="corrupt_input", paid_by="allowance")
    tx = TransactionFactory(
        user=user, amount=Decimal("0.20"), status=ConversionTransaction.Status.COMPLETED,
        idempotency_key="clave-de-ana", consumed_by=completed,
        conversion_details={"source_format": "docx", "target_format": "pdf", "file_size_mb": "0.01",
                            "quality": "standard", "name": "Nóminas de Ana García.docx",
                            "files": [{"name": "Nóminas de Ana García.docx", "paid_by": "payment"}]},
    )
    ConversionCharge.objects.create(conversion=completed, kind="payment", transaction=tx)
    events.publish("payment_succeeded", transaction_id=tx.pk, user_id=user.pk, amount_eur=tx.amount)
    rewards.achievements_ensure()
    assert rewards.achievement_unlock(user=user, achievement_id=rules.ACHIEVEMENTS[0].id)
    give_credits(user, 3)
    tokens = api_client.post("/api/auth/login", {"email": EMAIL, "password": PASSWORD}, format="json").json()
    assert UserReward.objects.filter(user=user).exists() and UserAchievement.objects.filter(user=user).exists()
    return {"user": User.objects.get(pk=user.pk), "tx": tx, "tokens": tokens,
            "names": [f.storage_name for f in (source, output, failed_source)]}


def _assert_gone(busy):
    user, tx = busy["user"], busy["tx"]
    assert not User.objects.filter(pk=user.pk).exists()
    assert not Conversion.objects.filter(user_id=user.pk).exists()
    assert not StoredFile.objects.filter(user_id=user.pk).exists()
    for name in busy["names"]:
        assert not default_storage.exists(name), name
    assert not UserReward.objects.filter(user_id=user.pk).exists()
    assert not UserAchievement.objects.filter(user_id=user.pk).exists()
    assert not OutstandingToken.objects.filter(user_id=user.pk).exists()
    # the payment stays as an accounting row, with nothing that leads to the person
    tx.refresh_from_db()
    assert tx.user_id is None and tx.session_id is None and tx.idempotency_key is None
    assert tx.amount == Decimal("0.20") and tx.status == ConversionTransaction.Status.COMPLETED
    assert tx.conversion_details["source_format"] == "docx" and tx.conversion_details["target_format"] == "pdf"
    text = str(tx.conversion_details)
    assert "Ana" not in text and "García" not in text and EMAIL not in text
    assert tx.conversion_details["files"] == [{"paid_by": "payment"}]


def test_delete_me_through_the_api_removes_everything_but_anonymised_payments(
        busy_user, api_client, django_capture_on_commit_callbacks):
    tokens = busy_user["tokens"]
    for name in busy_user["names"]:
        assert default_storage.exists(name)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    with django_capture_on_commit_callbacks(execute=True):
        resp = api_client.delete("/api/users/me")
    assert resp.status_code == 204, resp.content
    _assert_gone(busy_user)
    # the API session is refused: neither the access nor the refresh token works any more
    assert api_client.get("/api/auth/me").status_code == 401
    api_client.credentials()
    refused = api_client.post("/api/auth/refresh", {"refresh": tokens["refresh_token"]}, format="json")
    assert refused.status_code == 401
    # and the e-mail can sign up again, as a new account
    again = api_client.post("/api/auth/register", {"email": EMAIL, "password": PASSWORD}, format="json")
    assert again.status_code == 201


def test_delete_on_the_account_page_redirects_with_a_message(busy_user, client, django_capture_on_commit_callbacks):
    client.force_login(busy_user["user"])
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post("/account/", {"action": "delete", "password": PASSWORD}, follow=True)
    assert resp.status_code == 200
    assert resp.redirect_chain and resp.redirect_chain[-1][1] == 302
    assert "Tu cuenta ha sido eliminada" in resp.content.decode()
    assert not resp.wsgi_request.user.is_authenticated
    _assert_gone(busy_user)


def test_an_account_without_anything_deletes_too(make_user, api_client):
    user = make_user()
    api_client.force_authenticate(user)
    assert api_client.delete("/api/users/me").status_code == 204
    assert not User.objects.filter(pk=user.pk).exists()


def test_a_failure_while_deleting_keeps_the_account_and_the_bytes(busy_user, monkeypatch,
                                                                  django_capture_on_commit_callbacks):
    """Bytes go only once the deletion commits."""
    from accounts import services

    def boom(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(User, "delete", lambda self, *a, **k: boom())
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        services.user_delete(user=busy_user["user"])
    assert User.objects.filter(pk=busy_user["user"].pk).exists()
    assert Conversion.objects.filter(user=busy_user["user"]).count() == 2
    for name in busy_user["names"]:
        assert default_storage.exists(name)
