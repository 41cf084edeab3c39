"""Issue 11, finding 2: one payment pays for exactly the files it was priced for, as a whole batch;
finding 7a: idempotency keys are scoped to their owner. Through the real convert and payments APIs."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from billing.models import ConversionCharge, ConversionTransaction, TransactionItem
from conversions.models import Conversion
from conversions.services import conversion_fail
from factories import upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _offline(offline):
    """The offline test-mode provider (the default in tests)."""


@pytest.fixture
def confirmed(monkeypatch):
    """Counts the provider's card confirmations (a charge) per PaymentIntent."""
    from billing.providers import OfflineTestProvider

    calls = []
    original = OfflineTestProvider.confirm_test_card

    def counting(self, intent_id, *, card="visa"):
        calls.append(intent_id)
        return original(self, intent_id, card=card)

    monkeypatch.setattr(OfflineTestProvider, "confirm_test_card", counting)
    return calls


def _anonymous_with_allowance_left(client, sample, left: int) -> str:
    first = upload(client, [sample("png")], "jpg")
    assert first.status_code == 202, first.content
    session_id = first.json()["session_id"]
    for _ in range(4 - left):
        assert upload(client, [sample("png")], "jpg", session_id=session_id).status_code == 202
    return session_id


def _pay(client, details: dict, *, session_id=None, key="batch-1") -> dict:
    body = {"conversion_requests": details["how_to_pay"]["conversion_requests"], "idempotency_key": key}
    if session_id:
        body["session_id"] = session_id
    created = client.post("/api/payments/create-payment-intent", body, format="json")
    assert created.status_code == 201, created.content
    tx_id = created.json()["transaction_id"]
    paid = client.post(f"/api/payments/transactions/{tx_id}/pay-test", {"card": "visa", "session_id": session_id},
                       format="json")
    assert paid.status_code == 200 and paid.json()["status"] == "completed", paid.content
    return created.json()


def test_batch_with_one_allowance_left_pays_the_other_file_only(api_client, sample, no_worker, confirmed):
    session_id = _anonymous_with_allowance_left(api_client, sample, left=1)
    files = [sample("png"), sample("png")]
    refused = upload(api_client, files, "jpg", session_id=session_id)
    assert refused.status_code == 402, refused.content
    details = refused.json()["details"]
    assert [f["paid_by"] for f in details["files"]] == ["allowance", "payment"]
    assert [f["name"] for f in details["files"]] == [p.name for p in files]
    one_price = details["files"][1]["estimated_price"]
    assert details["files"][0]["price"] == 0 and details["files"][1]["price"] == one_price
    assert details["amount_due"] == one_price == details["estimated_price"]
    assert len(details["how_to_pay"]["conversion_requests"]) == 1
    assert "agotado" not in refused.json()["error"]  # one conversion of the plan is left
    assert "1 de estos 2" in refused.json()["error"]

    created = _pay(api_client, details, session_id=session_id)
    assert created["amount"] == one_price  # charged exactly what the page said is due
    response = upload(api_client, files, "jpg", session_id=session_id, transaction_id=created["transaction_id"])
    assert response.status_code == 202, response.content
    assert [c["paid_by"] for c in response.json()["conversions"]] == ["allowance", "payment"]
    tx = ConversionTransaction.objects.get(pk=created["transaction_id"])
    assert tx.consumed_by_id is not None and len(confirmed) == 1


def test_batch_with_no_allowance_left_is_paid_by_one_payment(api_client, sample, no_worker, confirmed):
    session_id = _anonymous_with_allowance_left(api_client, sample, left=0)
    files = [sample("png"), sample("png"), sample("png")]
    details = upload(api_client, files, "jpg", session_id=session_id).json()["details"]
    assert [f["paid_by"] for f in details["files"]] == ["payment"] * 3
    total = sum(Decimal(str(f["price"])) for f in details["files"])
    assert Decimal(str(details["amount_due"])) == total

    created = _pay(api_client, details, session_id=session_id)
    tx = ConversionTransaction.objects.get(pk=created["transaction_id"])
    assert tx.amount == total and tx.items.count() == 3
    assert [Decimal(str(i["amount"])) for i in created["items"]] == [item.amount for item in tx.items.all()]
    from billing.providers import get_provider

    assert get_provider().retrieve_intent(tx.stripe_payment_intent_id)["amount"] == int(total * 100)

    response = upload(api_client, files, "jpg", session_id=session_id, transaction_id=str(tx.pk))
    assert response.status_code == 202, response.content
    conversions = response.json()["conversions"]
    assert [c["paid_by"] for c in conversions] == ["payment"] * 3
    assert set(TransactionItem.objects.filter(transaction=tx).values_list("consumed_by", flat=True)) == \
        {Conversion.objects.get(pk=c["id"]).pk for c in conversions}
    tx.refresh_from_db()
    assert tx.consumed_by_id is not None

    # Never more files than were paid: the payment is used up.
    again = upload(api_client, [sample("png")], "jpg", session_id=session_id, transaction_id=str(tx.pk))
    assert again.status_code == 402 and "transaction_id" in again.json()["details"]
    assert len(confirmed) == 1


@pytest.mark.usefixtures("commit_per_request")  # the eager worker runs after each request
def test_after_payment_every_file_of_the_batch_converts(api_client, make_user, sample, confirmed):
    user = make_user()
    api_client.force_authenticate(user)
    for _ in range(5):
        assert upload(api_client, [sample("png")], "jpg").status_code == 202
    files = [sample("png"), sample("png")]
    details = upload(api_client, files, "jpg").json()["details"]
    created = _pay(api_client, details)
    response = upload(api_client, files, "jpg", transaction_id=created["transaction_id"])
    assert response.status_code == 202, response.content
    ids = [c["id"] for c in response.json()["conversions"]]
    assert list(Conversion.objects.filter(pk__in=ids).values_list("status", flat=True)) == ["completed"] * 2
    assert Conversion.objects.filter(user=user, paid_by="payment").count() == 2


def test_paying_twice_does_not_charge_twice(api_client, sample, no_worker, confirmed):
    session_id = _anonymous_with_allowance_left(api_client, sample, left=0)
    files = [sample("png"), sample("png")]
    details = upload(api_client, files, "jpg", session_id=session_id).json()["details"]
    first = _pay(api_client, details, session_id=session_id, key="same-batch")
    second = _pay(api_client, details, session_id=session_id, key="same-batch")
    assert first["transaction_id"] == second["transaction_id"]
    assert first["payment_intent_id"] == second["payment_intent_id"]
    assert ConversionTransaction.objects.count() == 1 and len(confirmed) == 1
    assert upload(api_client, files, "jpg", session_id=session_id,
                  transaction_id=first["transaction_id"]).status_code == 202


def test_a_paid_file_left_over_is_used_without_naming_the_payment(api_client, sample, no_worker, confirmed):
    """Paid, then the page was closed before converting: sending the files again uses that payment."""
    session_id = _anonymous_with_allowance_left(api_client, sample, left=0)
    files = [sample("png"), sample("png")]
    details = upload(api_client, files, "jpg", session_id=session_id).json()["details"]
    _pay(api_client, details, session_id=session_id)
    response = upload(api_client, files, "jpg", session_id=session_id)
    assert response.status_code == 202, response.content
    assert [c["paid_by"] for c in response.json()["conversions"]] == ["payment", "payment"]
    assert len(confirmed) == 1


def test_failed_file_of_a_paid_batch_gives_back_its_share_only(api_client, sample, no_worker):
    session_id = _anonymous_with_allowance_left(api_client, sample, left=0)
    files = [sample("png"), sample("png")]
    details = upload(api_client, files, "jpg", session_id=session_id).json()["details"]
    tx_id = _pay(api_client, details, session_id=session_id)["transaction_id"]
    conversions = upload(api_client, files, "jpg", session_id=session_id, transaction_id=tx_id).json()["conversions"]
    conversion_fail(conversion_id=conversions[1]["id"], message="engine broke")
    conversion_fail(conversion_id=conversions[1]["id"], message="again")  # once only
    tx = ConversionTransaction.objects.get(pk=tx_id)
    assert tx.status == "completed" and tx.consumed_by_id is None
    assert tx.items.filter(consumed_at__isnull=True).count() == 1
    assert ConversionCharge.objects.get(conversion_id=conversions[1]["id"]).refunded
    # that one file's share converts one more file, and only one
    two = upload(api_client, files, "jpg", session_id=session_id, transaction_id=tx_id)
    assert two.status_code == 402
    assert [f["paid_by"] for f in two.json()["details"]["files"]] == ["payment", "payment"]
    assert [f["prepaid"] for f in two.json()["details"]["files"]].count(True) == 1
    assert two.json()["details"]["amount_due"] == two.json()["details"]["files"][0]["estimated_price"]
    one = upload(api_client, [sample("png")], "jpg", session_id=session_id, transaction_id=tx_id)
    assert one.status_code == 202 and one.json()["conversions"][0]["paid_by"] == "payment"


def test_quote_says_what_pays_each_file(api_client, sample, no_worker):
    session_id = _anonymous_with_allowance_left(api_client, sample, left=1)
    body = {"files": [{"name": "a.png", "source_format": "png", "size_bytes": 2000},
                      {"name": "b.png", "source_format": "png", "size_bytes": 2000}],
            "target_format": "jpg", "quality": "standard", "session_id": session_id}
    quote = api_client.post("/api/payments/quote", body, format="json")
    assert quote.status_code == 200, quote.content
    data = quote.json()
    assert [(f["name"], f["paid_by"]) for f in data["files"]] == [("a.png", "allowance"), ("b.png", "payment")]
    assert data["amount_due"] == data["files"][1]["price"] > 0
    assert api_client.post("/api/payments/quote", {**body, "target_format": "zzz"},
                           format="json").status_code == 400


@pytest.mark.usefixtures("commit_per_request")  # the eager worker runs after each request
def test_no_js_batch_checkout_lists_every_file_and_pays_once(client, sample, confirmed):
    client.get("/")
    for _ in range(4):
        client.post("/convert/", {"file": open(sample("png"), "rb"), "target_format": "jpg", "quality": "standard"})
    files = [sample("png"), sample("png")]
    response = client.post("/convert/", {"file": [open(p, "rb") for p in files], "target_format": "jpg",
                                         "quality": "standard"}, follow=True)
    tx = ConversionTransaction.objects.get()
    assert response.redirect_chain[-1][0] == f"/checkout/{tx.pk}/"
    html = response.content.decode()
    assert files[0].name in html and files[1].name in html
    assert "tu plan" in html and "este pago" in html and tx.items.count() == 1
    response = client.post(f"/checkout/{tx.pk}/pay/", {"card": "visa"}, follow=True)
    client.post(f"/checkout/{tx.pk}/pay/", {"card": "visa"})  # a second press charges nothing
    assert len(confirmed) == 1
    response = client.post("/convert/", {"file": [open(p, "rb") for p in files], "target_format": "jpg",
                                         "quality": "standard", "transaction_id": str(tx.pk)}, follow=True)
    assert response.redirect_chain[-1][0] == "/conversions/"
    batch = Conversion.objects.order_by("-created_at")[:2]
    assert sorted(c.paid_by for c in batch) == ["allowance", "payment"]
    assert all(c.status == "completed" for c in batch)


def test_idempotency_key_is_scoped_to_its_owner(make_user):
    request = {"source_format": "png", "target_format": "jpg", "file_size_mb": 1, "quality": "basic"}
    alice, mallory = APIClient(), APIClient()
    alice.force_authenticate(make_user())
    mallory.force_authenticate(make_user())
    squatted = mallory.post("/api/payments/create-payment-intent",
                            {"conversion_request": request, "idempotency_key": "order-1"}, format="json")
    mine = alice.post("/api/payments/create-payment-intent",
                      {"conversion_request": request, "idempotency_key": "order-1"}, format="json")
    assert squatted.status_code == 201 and mine.status_code == 201, mine.content
    assert mine.json()["transaction_id"] != squatted.json()["transaction_id"]
    assert mine.json()["payment_intent_id"] != squatted.json()["payment_intent_id"]
    # anonymous sessions too
    one, two = APIClient(), APIClient()
    a = one.post("/api/payments/create-payment-intent", {"conversion_request": request, "idempotency_key": "k"},
                 format="json").json()
    b = two.post("/api/payments/create-payment-intent", {"conversion_request": request, "idempotency_key": "k"},
                 format="json").json()
    assert a["transaction_id"] != b["transaction_id"] and a["session_id"] != b["session_id"]
    # and the same owner replaying its key gets its own transaction back
    again = alice.post("/api/payments/create-payment-intent",
                       {"conversion_request": request, "idempotency_key": "order-1"}, format="json")
    assert again.json()["transaction_id"] == mine.json()["transaction_id"]
