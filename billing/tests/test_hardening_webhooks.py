"""Forged, replayed and future-dated Stripe events: an event is a notification, never a fact.

Each test signs its event with the installation's webhook secret, exactly as an attacker who
learnt the secret (or a misbehaving sender) could: the signature alone must not be enough to
grant a plan, mark a refund or complete a payment.
"""

import os
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest

from accounts.selectors import plan_for_user
from billing.models import ConversionTransaction, StripeEvent, StripeSubscription
from billing.providers import get_provider

from .conftest import event_payload, post_webhook, sign

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
REQUEST = {"source_format": "png", "target_format": "jpg", "file_size_mb": 0.01, "quality": "standard"}


def _subscription_event(user, *, subscription_id=None, kind="customer.subscription.created"):
    return event_payload(kind, {
        "id": subscription_id or f"sub_{uuid.uuid4().hex[:14]}", "object": "subscription", "status": "active",
        "customer": f"cus_{uuid.uuid4().hex[:14]}", "current_period_end": int(time.time()) + 86400 * 30,
        "metadata": {"user_id": str(user.pk), "plan": "enterprise"}, "plan": {"id": "anclora-enterprise-9999"},
    })


@pytest.mark.parametrize("provider", ["offline", "localstripe"])
def test_forged_subscription_event_grants_no_plan(request, api_client, make_user, provider):
    request.getfixturevalue(provider)
    victim = make_user()
    for kind in ("customer.subscription.created", "customer.subscription.updated"):
        response = post_webhook(api_client, _subscription_event(victim, kind=kind))
        assert response.status_code == 200, response.content
    invoice = event_payload("invoice.payment_succeeded", {"id": "in_forged", "object": "invoice",
                                                          "subscription": "sub_forged"})
    assert post_webhook(api_client, invoice).status_code == 200
    shapeless = event_payload("invoice.payment_succeeded", {"id": "in_forged", "subscription": "sub_forged"})
    assert post_webhook(api_client, shapeless).status_code in (200, 400)
    assert plan_for_user(victim).slug == "gratuito"
    assert not StripeSubscription.objects.filter(user=victim).exists()


def test_event_naming_a_real_subscription_we_did_not_create_grants_nothing(api_client, make_user, localstripe):
    """Someone subscribes at the provider directly and writes the victim's id into the metadata."""
    victim = make_user()
    client = get_provider().client
    customer = client.v1.customers.create(params={"email": "attacker@example.com"})
    method = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    client.v1.customers.update(customer.id, params={"invoice_settings": {"default_payment_method": method.id}})
    plan_id = get_provider().ensure_plan(slug="enterprise", name="Enterprise", amount_cents=9999)
    real = client.v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"plan": plan_id}],
        "metadata": {"user_id": str(victim.pk), "plan": "enterprise"}})
    assert real.status == "active"
    response = post_webhook(api_client, _subscription_event(victim, subscription_id=real.id))
    assert response.status_code == 200
    assert plan_for_user(victim).slug == "gratuito"


def test_subscription_of_another_customer_is_not_applied(api_client, make_user, localstripe):
    """Our row says user A subscribed to sub X; the provider says X belongs to another customer."""
    from billing.models import BillingCustomer

    user = make_user()
    api_client.force_authenticate(user)
    response = api_client.post("/api/payments/subscribe", {"plan": "basico"}, format="json")
    assert response.status_code in (200, 201), response.content
    row = StripeSubscription.objects.get(user=user)
    assert plan_for_user(user).slug == "basico"
    # someone else with a paid Pro subscription at the provider tries to have it applied to this user
    client = get_provider().client
    other = client.v1.customers.create(params={"email": "other@example.com"})
    method = client.v1.payment_methods.attach("pm_card_visa", params={"customer": other.id})
    client.v1.customers.update(other.id, params={"invoice_settings": {"default_payment_method": method.id}})
    plan_id = get_provider().ensure_plan(slug="pro", name="Pro", amount_cents=1999)
    foreign = client.v1.subscriptions.create(params={"customer": other.id, "items": [{"plan": plan_id}]})
    StripeSubscription.objects.create(user=user, plan=row.plan.__class__.objects.get(slug="pro"),
                                      stripe_subscription_id=foreign.id)
    assert BillingCustomer.objects.get(user=user).stripe_customer_id != other.id
    post_webhook(api_client, _subscription_event(user, subscription_id=foreign.id))
    assert plan_for_user(user).slug == "basico"


def _completed_transaction(api_client) -> dict:
    body = api_client.post("/api/payments/create-payment-intent", {"conversion_request": REQUEST},
                           format="json").json()
    url = f"/api/payments/transactions/{body['transaction_id']}/pay-test"
    response = api_client.post(url, {"card": "visa", "session_id": body.get("session_id")}, format="json")
    assert response.status_code == 200, response.content
    return body


@pytest.mark.parametrize("provider", ["offline", "localstripe"])
def test_forged_refund_event_changes_nothing(request, api_client, provider):
    request.getfixturevalue(provider)
    body = _completed_transaction(api_client)
    for charge_id in (f"ch_{uuid.uuid4().hex[:14]}", "ch_offline_" + body["payment_intent_id"][11:] + "x"):
        forged = {"id": charge_id, "object": "charge", "payment_intent": body["payment_intent_id"],
                  "amount_refunded": 7, "refunded": True}
        assert post_webhook(api_client, event_payload("charge.refunded", forged)).status_code == 200
    tx = ConversionTransaction.objects.get(pk=body["transaction_id"])
    assert (tx.status, tx.refunded_amount) == ("completed", Decimal("0.00"))


def test_refund_event_for_a_real_unrefunded_charge_changes_nothing(api_client, localstripe):
    body = _completed_transaction(api_client)
    intent = get_provider().retrieve_intent(body["payment_intent_id"])
    latest = intent["latest_charge"]
    charge = {"id": latest["id"] if isinstance(latest, dict) else latest, "object": "charge",
              "payment_intent": body["payment_intent_id"], "amount_refunded": 7, "refunded": True}
    assert post_webhook(api_client, event_payload("charge.refunded", charge)).status_code == 200
    assert ConversionTransaction.objects.get(pk=body["transaction_id"]).status == "completed"


@pytest.mark.parametrize("provider", ["offline", "localstripe"])
def test_forged_success_for_an_unpaid_intent_changes_nothing(request, api_client, provider):
    request.getfixturevalue(provider)
    body = api_client.post("/api/payments/create-payment-intent", {"conversion_request": REQUEST},
                           format="json").json()
    fake = {"id": body["payment_intent_id"], "object": "payment_intent", "status": "succeeded", "amount": 7,
            "currency": "eur"}
    assert post_webhook(api_client, event_payload("payment_intent.succeeded", fake)).status_code == 200
    made_up = {**fake, "id": f"pi_{uuid.uuid4().hex[:14]}"}
    assert post_webhook(api_client, event_payload("payment_intent.succeeded", made_up)).status_code == 200
    assert ConversionTransaction.objects.get(pk=body["transaction_id"]).status == "pending"


@pytest.mark.parametrize("offset, accepted", [(3600, False), (301, False), (-301, False), (120, True), (-120, True)])
def test_timestamp_tolerance_applies_both_ways(api_client, offline, offset, accepted):
    payload = event_payload("ping.test", {"id": "x"})
    response = post_webhook(api_client, payload, sign(payload, timestamp=int(time.time()) + offset))
    assert response.status_code == (200 if accepted else 400), response.content
    assert StripeEvent.objects.exists() == accepted


def test_unreachable_provider_keeps_the_event_for_a_retry(api_client, settings, offline):
    """An object that cannot be re-read changes nothing; a transient failure is retried by Stripe."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    settings.STRIPE_SECRET_KEY = "sk_test_" + "unreachable" * 3
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{closed_port}"
    tx = ConversionTransaction.objects.create(amount=Decimal("0.07"), stripe_payment_intent_id="pi_unreachable",
                                              conversion_details=REQUEST)
    payload = event_payload("payment_intent.succeeded", {"id": "pi_unreachable", "object": "payment_intent",
                                                         "status": "succeeded"})
    response = post_webhook(api_client, payload)
    assert response.status_code == 503 and response.json()["code"] == "payment_provider_error"
    from djstripe.models import Event

    assert not Event.objects.exists()  # so the retry is processed, not dropped as a duplicate
    tx.refresh_from_db()
    assert tx.status == "pending"


# --- the webhook secret ---------------------------------------------------------------
def test_no_constant_webhook_secret_in_the_run_script():
    script = (ROOT / "scripts/run.sh").read_text()
    assert "whsec_" not in script.replace("stripe_webhook_secret whsec_", "")


def test_development_secret_is_random_per_installation_and_kept(tmp_path):
    from anclora.settings.installation import installation_secret

    first = installation_secret(tmp_path / "a", "stripe_webhook_secret", prefix="whsec_")
    again = installation_secret(tmp_path / "a", "stripe_webhook_secret", prefix="whsec_")
    other = installation_secret(tmp_path / "b", "stripe_webhook_secret", prefix="whsec_")
    assert first == again and first != other and first.startswith("whsec_") and len(first) > 30
    assert (tmp_path / "a/secrets/stripe_webhook_secret").stat().st_mode & 0o077 == 0


def _import_production(**extra_env):
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRIPE_")}
    env.update({"SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "example.com", **extra_env})
    return subprocess.run([sys.executable, "-c", "import anclora.settings.production"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_production_refuses_to_start_without_a_webhook_secret():
    missing = _import_production()
    assert missing.returncode != 0 and "STRIPE_WEBHOOK_SECRET" in missing.stderr
    assert _import_production(STRIPE_WEBHOOK_SECRET="whsec_real").returncode == 0


def test_the_run_script_key_is_one_djstripe_accepts_and_a_bad_key_fails_the_checks(settings):
    import re

    from djstripe.models.api import API_KEY_REGEX

    from billing.stripe_sync import stripe_key_check

    key = re.search(r'key="(sk_test_[^"]+)"', (ROOT / "scripts/run.sh").read_text()).group(1)
    assert re.match(API_KEY_REGEX, key)
    settings.STRIPE_SECRET_KEY = "sk_test_short_key"
    assert [error.id for error in stripe_key_check()] == ["billing.E001"]
    settings.STRIPE_SECRET_KEY = key
    assert stripe_key_check() == []
