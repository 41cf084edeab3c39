"""Payment providers behind one interface: Stripe (real or localstripe) and an offline test mode.

`get_provider()` picks one from settings: with `STRIPE_SECRET_KEY` the stripe SDK talks to
Stripe (or to `STRIPE_API_BASE`, e.g. localstripe on loopback, which `make run` starts when no
key is configured); without a key, `OfflineTestProvider` — a clearly labelled test mode that
keeps its intents in the cache and completes payments itself: the Stripe-shaped events it
produces are handed back by `events_take()`, and billing.services applies them through the same
event service the webhook uses. Objects are returned as plain dicts in Stripe's shapes.
Providers know nothing of billing's rows or services.
"""

from __future__ import annotations

import secrets
import time
import uuid
from functools import lru_cache

import stripe
from django.conf import settings
from django.core.cache import cache

TEST_CARDS = {"visa": "pm_card_visa", "decline": "pm_card_chargeCustomerFail"}


class ProviderError(Exception):
    """The provider refused (card declined, not found, unreachable)."""

    def __init__(self, message: str, *, code: str = "provider_error"):
        super().__init__(message)
        self.message = message
        self.code = code


class StripeProvider:
    name = "stripe"

    def __init__(self, *, api_key: str, api_base: str = ""):
        self.api_key = api_key
        self.api_base = api_base.rstrip("/")
        options = {"base_addresses": {"api": self.api_base}} if self.api_base else {}
        self.client = stripe.StripeClient(api_key, max_network_retries=2, **options)

    @property
    def test_mode(self) -> bool:
        return self.api_key.startswith(("sk_test_", "rk_test_"))

    def events_take(self) -> list[dict]:
        """Stripe's events arrive by webhook: none produced here."""
        return []

    @property
    def label(self) -> str:
        return "localstripe" if self.api_base else ("Stripe (test)" if self.test_mode else "Stripe")

    def _call(self, fn, *args, **kwargs) -> dict:
        try:
            return fn(*args, **kwargs).to_dict()
        except stripe.CardError as exc:
            raise ProviderError(exc.user_message or str(exc), code="card_declined") from exc
        except stripe.InvalidRequestError as exc:
            code = "not_found" if exc.http_status == 404 else "invalid_request"
            raise ProviderError(exc.user_message or str(exc), code=code) from exc
        except stripe.StripeError as exc:
            raise ProviderError(exc.user_message or str(exc)) from exc

    # --- payment intents ----------------------------------------------------------
    def create_intent(self, *, amount_cents: int, currency: str, metadata: dict, idempotency_key: str) -> dict:
        return self._call(self.client.v1.payment_intents.create,
                          params={"amount": amount_cents, "currency": currency.lower(), "metadata": metadata},
                          options={"idempotency_key": idempotency_key})

    def retrieve_intent(self, intent_id: str) -> dict:
        return self._call(self.client.v1.payment_intents.retrieve, intent_id)

    def confirm_test_card(self, intent_id: str, *, card: str = "visa") -> dict:
        """Test mode only: pay with a Stripe test card (set on the intent, then confirm)."""
        if not self.test_mode:
            raise ProviderError("test cards only in test mode", code="not_test_mode")
        self._call(self.client.v1.payment_intents.update, intent_id,
                   params={"payment_method": TEST_CARDS[card]})
        return self._call(self.client.v1.payment_intents.confirm, intent_id)

    def retrieve_charge(self, charge_id: str) -> dict:
        return self._call(self.client.v1.charges.retrieve, charge_id)

    def refund(self, *, intent_id: str, amount_cents: int, idempotency_key: str) -> dict:
        return self._call(self.client.v1.refunds.create,
                          params={"payment_intent": intent_id, "amount": amount_cents},
                          options={"idempotency_key": idempotency_key})

    # --- customers and subscriptions ----------------------------------------------
    def create_customer(self, *, email: str, metadata: dict, idempotency_key: str) -> dict:
        customer = self._call(self.client.v1.customers.create, params={"email": email, "metadata": metadata},
                              options={"idempotency_key": idempotency_key})
        if self.test_mode:
            # Test mode: the customer pays with Stripe's test Visa.
            method = self._call(self.client.v1.payment_methods.attach, "pm_card_visa",
                                params={"customer": customer["id"]})
            self._call(self.client.v1.customers.update, customer["id"],
                       params={"invoice_settings": {"default_payment_method": method["id"]}})
        return customer

    def ensure_plan(self, *, slug: str, name: str, amount_cents: int) -> str:
        """A legacy Plan per (plan, price) — localstripe supports Plans, not Prices."""
        plan_id = f"anclora-{slug}-{amount_cents}"
        try:
            self.client.v1.plans.retrieve(plan_id)
        except stripe.InvalidRequestError:
            product = self._call(self.client.v1.products.create, params={"name": name})
            self._call(self.client.v1.plans.create, params={
                "id": plan_id, "amount": amount_cents, "currency": "eur", "interval": "month",
                "product": product["id"],
            })
        except stripe.StripeError as exc:
            raise ProviderError(str(exc)) from exc
        return plan_id

    def create_subscription(self, *, customer_id: str, plan_id: str, metadata: dict, idempotency_key: str) -> dict:
        return self._call(self.client.v1.subscriptions.create,
                          params={"customer": customer_id, "items": [{"plan": plan_id}], "metadata": metadata},
                          options={"idempotency_key": idempotency_key})

    def retrieve_subscription(self, subscription_id: str) -> dict:
        return self._call(self.client.v1.subscriptions.retrieve, subscription_id)

    def cancel_subscription_at_period_end(self, subscription_id: str) -> dict:
        return self._call(self.client.v1.subscriptions.update, subscription_id,
                          params={"cancel_at_period_end": True})

    def cancel_subscription_now(self, subscription_id: str) -> dict:
        return self._call(self.client.v1.subscriptions.cancel, subscription_id)

    def delete_customer(self, customer_id: str) -> dict:
        return self._call(self.client.v1.customers.delete, customer_id)


class OfflineTestProvider:
    """Test mode without Stripe: intents live in the cache; paying completes them at once.

    Completing a payment or a subscription produces a Stripe-shaped event; the caller takes them
    with `events_take()` and applies them like a verified webhook (billing.services).
    """

    name = "offline"
    test_mode = True
    label = "modo de prueba sin conexión"
    _PREFIX = "billing:offline:"
    _TTL = 60 * 60 * 24 * 30

    def __init__(self):
        self._events: list[dict] = []

    def events_take(self) -> list[dict]:
        """The events this provider produced since the last call, oldest first."""
        taken, self._events = self._events, []
        return taken

    def _get(self, key: str) -> dict:
        obj = cache.get(self._PREFIX + key)
        if obj is None:
            raise ProviderError(f"No such object: {key}", code="not_found")
        return obj

    def _put(self, obj: dict) -> dict:
        cache.set(self._PREFIX + obj["id"], obj, self._TTL)
        return dict(obj)

    def _emit(self, event_type: str, obj: dict) -> None:
        self._events.append({
            "id": f"evt_offline_{uuid.uuid4().hex}", "type": event_type, "created": int(time.time()),
            "data": {"object": dict(obj)}, "livemode": False,
        })

    def create_intent(self, *, amount_cents: int, currency: str, metadata: dict, idempotency_key: str) -> dict:
        existing = cache.get(self._PREFIX + "idem:" + idempotency_key)
        if existing:
            return self._get(existing)
        intent_id = f"pi_offline_{secrets.token_hex(8)}"
        cache.set(self._PREFIX + "idem:" + idempotency_key, intent_id, self._TTL)
        return self._put({"id": intent_id, "object": "payment_intent", "amount": amount_cents,
                          "currency": currency.lower(), "metadata": metadata, "status": "requires_payment_method",
                          "client_secret": f"{intent_id}_secret_{secrets.token_hex(8)}", "amount_refunded": 0})

    def retrieve_intent(self, intent_id: str) -> dict:
        return self._get(intent_id)

    def confirm_test_card(self, intent_id: str, *, card: str = "visa") -> dict:
        intent = self._get(intent_id)
        if intent["status"] == "succeeded":
            return intent
        if card == "decline":
            intent["status"] = "requires_payment_method"
            intent["last_payment_error"] = {"code": "card_declined"}
            self._put(intent)
            self._emit("payment_intent.payment_failed", intent)
            raise ProviderError("Your card was declined.", code="card_declined")
        intent["status"] = "succeeded"
        self._put(intent)
        self._emit("payment_intent.succeeded", intent)
        return intent

    def retrieve_charge(self, charge_id: str) -> dict:
        """Offline intents have no separate charges: `_ch` + the intent id stands for the intent's one."""
        if not charge_id.startswith("ch_offline_"):
            raise ProviderError(f"No such charge: {charge_id}", code="not_found")
        intent = self._get(charge_id.replace("ch_offline_", "pi_offline_", 1))
        return {"id": charge_id, "object": "charge", "payment_intent": intent["id"], "amount": intent["amount"],
                "amount_refunded": intent["amount_refunded"], "currency": intent["currency"]}

    def refund(self, *, intent_id: str, amount_cents: int, idempotency_key: str) -> dict:
        intent = self._get(intent_id)
        if intent["amount_refunded"] + amount_cents > intent["amount"]:
            raise ProviderError("Refund exceeds the amount paid", code="refund_exceeds")
        intent["amount_refunded"] += amount_cents
        self._put(intent)
        return {"id": f"re_offline_{secrets.token_hex(8)}", "amount": amount_cents, "status": "succeeded",
                "payment_intent": intent_id}

    def create_customer(self, *, email: str, metadata: dict, idempotency_key: str) -> dict:
        return {"id": f"cus_offline_{secrets.token_hex(8)}", "email": email}

    def ensure_plan(self, *, slug: str, name: str, amount_cents: int) -> str:
        return f"anclora-{slug}-{amount_cents}"

    def create_subscription(self, *, customer_id: str, plan_id: str, metadata: dict, idempotency_key: str) -> dict:
        now = int(time.time())
        subscription = self._put({
            "id": f"sub_offline_{secrets.token_hex(8)}", "object": "subscription", "customer": customer_id,
            "status": "active", "metadata": metadata, "cancel_at_period_end": False,
            "current_period_start": now, "current_period_end": now + 30 * 24 * 3600,
            "plan": {"id": plan_id},
        })
        # The first invoice is paid at once with the test card.
        self._emit("invoice.payment_succeeded", {"id": f"in_offline_{secrets.token_hex(8)}", "object": "invoice",
                                                 "subscription": subscription["id"], "paid": True})
        return subscription

    def retrieve_subscription(self, subscription_id: str) -> dict:
        return self._get(subscription_id)

    def cancel_subscription_at_period_end(self, subscription_id: str) -> dict:
        subscription = self._get(subscription_id)
        subscription["cancel_at_period_end"] = True
        return self._put(subscription)

    def cancel_subscription_now(self, subscription_id: str) -> dict:
        subscription = self._get(subscription_id)
        subscription["status"] = "canceled"
        return self._put(subscription)

    def delete_customer(self, customer_id: str) -> dict:
        return {"id": customer_id, "object": "customer", "deleted": True}


@lru_cache(maxsize=8)
def _stripe_provider(api_key: str, api_base: str) -> StripeProvider:
    return StripeProvider(api_key=api_key, api_base=api_base)


def get_provider():
    if settings.STRIPE_SECRET_KEY:
        return _stripe_provider(settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE)
    return OfflineTestProvider()
