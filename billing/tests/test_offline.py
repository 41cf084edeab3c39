"""Offline test mode (no STRIPE_SECRET_KEY): the same flow through OfflineTestProvider, and the pages."""

import pytest

from billing.models import ConversionTransaction, StripeEvent
from factories import give_credits, upload

pytestmark = pytest.mark.django_db


def _exhaust(client, sample, n=5, **extra):
    for _ in range(n):
        assert upload(client, [sample("png")], "jpg", **extra).status_code == 202


def test_sixth_conversion_pays_with_the_test_card_and_converts(api_client, sample, no_worker, offline):
    first = upload(api_client, [sample("png")], "jpg").json()
    sid = first["session_id"]
    _exhaust(api_client, sample, n=4, session_id=sid)
    refused = upload(api_client, [sample("png")], "jpg", session_id=sid)
    assert refused.status_code == 402
    request = refused.json()["details"]["how_to_pay"]["conversion_request"]
    created = api_client.post("/api/payments/create-payment-intent",
                              {"conversion_request": request, "session_id": sid}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["test_mode"] is True and body["payment_intent_id"].startswith("pi_offline_")
    paid = api_client.post(f"/api/payments/transactions/{body['transaction_id']}/pay-test",
                           {"session_id": sid}, format="json")
    assert paid.status_code == 200 and paid.json()["status"] == "completed"
    assert StripeEvent.objects.filter(type="payment_intent.succeeded").count() == 1
    released = upload(api_client, [sample("png")], "jpg", session_id=sid, transaction_id=body["transaction_id"])
    assert released.status_code == 202, released.content
    assert released.json()["conversions"][0]["paid_by"] == "payment"


def test_offline_decline_and_refund(api_client, sample, admin_user, offline):
    request = {"source_format": "png", "target_format": "jpg", "file_size_mb": 1, "quality": "basic"}
    body = api_client.post("/api/payments/create-payment-intent", {"conversion_request": request},
                           format="json").json()
    url = f"/api/payments/transactions/{body['transaction_id']}/pay-test"
    sid = {"session_id": body["session_id"]}
    assert api_client.post(url, {"card": "decline", **sid}, format="json").status_code == 402
    assert ConversionTransaction.objects.get(pk=body["transaction_id"]).status == "failed"
    body = api_client.post("/api/payments/create-payment-intent", {"conversion_request": request, **sid},
                           format="json").json()
    api_client.post(f"/api/payments/transactions/{body['transaction_id']}/pay-test", sid, format="json")
    from billing.services import transaction_refund

    tx = transaction_refund(transaction_id=body["transaction_id"], actor=admin_user)
    assert tx.status == "refunded"
    with pytest.raises(Exception, match="reembolsada"):
        transaction_refund(transaction_id=body["transaction_id"], actor=admin_user)


def test_offline_subscribe_pro_lifts_the_limit(client, api_client, sample, no_worker, offline, make_user):
    user = make_user()
    api_client.force_authenticate(user)
    _exhaust(api_client, sample)
    assert upload(api_client, [sample("png")], "jpg").status_code == 402
    client.force_login(user)
    page = client.get("/plans/")
    assert page.status_code == 200
    assert "Suscribirme a Pro" in page.content.decode()
    response = client.post("/plans/subscribe/", {"plan": "pro"})
    assert response.status_code == 302
    assert user.subscriptions.get(status="active").plan.slug == "pro"
    assert upload(api_client, [sample("png")], "jpg").status_code == 202
    assert "Cancelar suscripción" in client.get("/plans/").content.decode()
    client.post("/plans/cancel/")
    assert "termina al final del periodo" in client.get("/plans/").content.decode()


def test_checkout_page_pays_with_the_test_card(client, offline):
    request = {"source_format": "png", "target_format": "jpg", "file_size_mb": 1, "quality": "basic"}
    client.get("/")  # an anonymous session in the page session
    response = client.post("/api/payments/create-payment-intent", {"conversion_request": request},
                           content_type="application/json")
    tx_id = response.json()["transaction_id"]
    page = client.get(f"/checkout/{tx_id}/")
    assert page.status_code == 200 and "Pagar con tarjeta de prueba" in page.content.decode()
    client.post(f"/checkout/{tx_id}/pay/", {"card": "visa"})
    assert ConversionTransaction.objects.get(pk=tx_id).status == "completed"
    assert client.get(f"/checkout/{tx_id}/").status_code == 200


def test_account_page_lists_transactions(client, make_user, offline):
    user = make_user()
    client.force_login(user)
    request = {"source_format": "png", "target_format": "jpg", "file_size_mb": 1, "quality": "basic"}
    client.post("/api/payments/create-payment-intent", {"conversion_request": request},
                content_type="application/json")
    page = client.get("/account/").content.decode()
    assert 'id="transactions"' in page and "0.05" in page.replace(",", ".")


def test_convert_page_shows_price_widgets(client, make_user, offline):
    user = make_user()
    give_credits(user, 2)
    client.force_login(user)
    page = client.get("/").content.decode()
    assert 'id="price-box"' in page and 'name="use_credit"' in page


def test_adopting_a_session_moves_its_transactions(api_client, offline, make_user):
    from accounts.services import anonymous_session_adopt

    request = {"source_format": "png", "target_format": "jpg", "file_size_mb": 1, "quality": "basic"}
    body = api_client.post("/api/payments/create-payment-intent", {"conversion_request": request},
                           format="json").json()
    user = make_user()
    anonymous_session_adopt(session_id=body["session_id"], user=user)
    assert ConversionTransaction.objects.get(pk=body["transaction_id"]).user == user
