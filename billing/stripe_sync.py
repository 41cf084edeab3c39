"""Stripe events through dj-stripe.

A verified event is handed to dj-stripe, which stores it once (`djstripe.Event`, unique id) and
re-reads the object it names from Stripe with our key (`api_retrieve`) before syncing it
(PaymentIntent, Charge, Subscription…). Our receivers below then apply the *synced* object —
never the event body — to our own rows. An object that cannot be re-read is not synced, so it
changes nothing. The offline test mode (no Stripe at all) has no objects to sync and keeps
`billing.StripeEvent` (billing/services.py).

localstripe has no `/v1/account`: `local_account_ensure` creates the account row dj-stripe would
otherwise fetch (STACK.md).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import stripe
from django.conf import settings
from django.core import checks
from django.db import IntegrityError, transaction
from django.db.models import Q
from djstripe.exceptions import InvalidStripeAPIKey
from djstripe.models import Account, APIKey, Charge, Customer, Event, PaymentIntent, Refund
from djstripe.models.api import API_KEY_REGEX

from anclora.core.locks import serialise

from .models import ConversionTransaction

logger = logging.getLogger(__name__)

LOCAL_ACCOUNT_ID = "acct_localstripe"
# Events whose object dj-stripe re-reads and syncs before our receivers apply it.
SYNCED_BY_DJSTRIPE = ("payment_intent.", "charge.")
SUBSCRIPTION_EVENTS = frozenset({"customer.subscription.created", "customer.subscription.updated",
                                 "customer.subscription.deleted", "invoice.paid", "invoice.payment_succeeded"})


class SyncUnavailable(Exception):
    """Stripe could not be reached while processing: the event is not stored, Stripe retries it."""


def _point_sdk() -> None:
    """dj-stripe calls the SDK's global client: aim it where our provider talks (settings can change)."""
    stripe.api_base = settings.STRIPE_API_BASE.rstrip("/") or "https://api.stripe.com"


def local_account_ensure(api_key: str) -> None:
    """Against a Stripe-compatible server without /v1/account, link our key to a local account row."""
    _point_sdk()
    if not settings.STRIPE_API_BASE:
        return
    with transaction.atomic():
        account, _created = Account.objects.get_or_create(id=LOCAL_ACCOUNT_ID, defaults={
            "livemode": False, "stripe_data": {"id": LOCAL_ACCOUNT_ID, "object": "account", "country": "ES",
                                               "default_currency": "eur",
                                               "settings": {"dashboard": {"display_name": "localstripe"}}}})
        key, _created = APIKey.objects.get_or_create_by_api_key(api_key)
        if key.djstripe_owner_account_id != account.pk:
            APIKey.objects.filter(pk=key.pk).update(djstripe_owner_account=account)


class MalformedEvent(Exception):
    """A correctly signed event whose body is not a Stripe event dj-stripe can read."""


def _event_claim(event_id: str) -> bool:
    """Inside the applying transaction: False when the event is already stored. dj-stripe's
    ``_create_from_stripe_object`` returns an existing row instead of inserting, so a delivery that
    looked before the first one committed and creates after it would apply the handlers again; on
    PostgreSQL a transaction-scoped advisory lock on the id makes the look and the insert one step."""
    serialise(f"stripe-event:{event_id}")
    return not Event.objects.filter(id=event_id).exists()


def event_process(event: dict, *, subscription_changed: Callable[[str], None]) -> str:
    """Store and apply one verified event once: 'duplicate' when dj-stripe already has it.

    This is `djstripe.models.Event.process` with the duplicate made visible: the event row and
    every handler's effect commit together, and a concurrent delivery of the same id loses on
    the unique constraint. Payment and charge events reach billing.services through its dj-stripe
    receivers; a subscription event calls ``subscription_changed(subscription_id)``, which raises
    SyncUnavailable when the subscription cannot be re-read now.
    """
    api_key = settings.STRIPE_SECRET_KEY
    obj = (event.get("data") or {}).get("object")
    if not isinstance(obj, dict) or not isinstance(obj.get("object"), str) or not isinstance(event.get("id"), str):
        raise MalformedEvent("event without data.object.object")
    if Event.objects.filter(id=event["id"]).exists():
        return "duplicate"
    try:
        local_account_ensure(api_key)
    except InvalidStripeAPIKey as exc:  # misconfigured: refuse, so Stripe retries once it is fixed
        raise SyncUnavailable(str(exc)) from exc
    event = {"api_version": None, "request": None, "pending_webhooks": 0, **event}
    try:
        with transaction.atomic():
            if not _event_claim(event["id"]):
                return "duplicate"
            stored = Event._create_from_stripe_object(event, api_key=api_key)
            kind = str(event.get("type", ""))
            if kind.startswith(SYNCED_BY_DJSTRIPE):
                stored.invoke_webhook_handlers()  # dj-stripe re-reads and syncs, then our receivers apply
            elif kind in SUBSCRIPTION_EVENTS:
                _subscription_event(kind, obj, subscription_changed)
    except IntegrityError:
        if Event.objects.filter(id=event["id"]).exists():
            return "duplicate"
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedEvent(str(exc)) from exc
    except stripe.InvalidRequestError as exc:
        # The named object cannot be re-read (made up, or not ours): nothing is stored or changed.
        logger.warning("event %s names an object Stripe does not give us (%s): ignored", event.get("id"), exc)
        return "ignored"
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
        raise SyncUnavailable(str(exc)) from exc
    return "processed"


def synced_object(model, object_id) -> dict | None:
    """The object as dj-stripe last re-read it from Stripe (None when it could not be)."""
    if not isinstance(object_id, str) or not object_id:
        return None
    row = model.objects.filter(id=object_id).first()
    return dict(row.stripe_data) if row is not None and row.stripe_data else None


def intent_link(intent_id: str) -> None:
    """Point our transaction at dj-stripe's copy of its payment intent."""
    row = PaymentIntent.objects.filter(id=intent_id).only("pk").first()
    if row is not None:
        ConversionTransaction.objects.filter(stripe_payment_intent_id=intent_id).exclude(
            djstripe_payment_intent=row).update(djstripe_payment_intent=row)


def event_object_id(event) -> str | None:
    obj = (event.data or {}).get("object") or {}
    return obj.get("id") if isinstance(obj, dict) else None


def _subscription_event(kind: str, obj: dict, subscription_changed: Callable[[str], None]) -> None:
    """Subscriptions are re-read with the SDK (services.subscription_sync), not synced by dj-stripe:
    dj-stripe 2.11 cannot store localstripe's legacy-Plan subscriptions (its SubscriptionItem rows
    need fields localstripe does not send), and one path offline and in production is worth more."""
    subscription_id = obj.get("subscription") if kind.startswith("invoice.") else obj.get("id")
    if isinstance(subscription_id, dict):
        subscription_id = subscription_id.get("id")
    if isinstance(subscription_id, str) and subscription_id:
        subscription_changed(subscription_id)


def objects_sync(*, intent: dict | None = None, refund: dict | None = None) -> None:
    """Keep dj-stripe's copies current after our own calls (localstripe sends no refund events)."""
    api_key = settings.STRIPE_SECRET_KEY
    try:
        local_account_ensure(api_key)
        if intent is not None:
            PaymentIntent.sync_from_stripe_data(intent, api_key=api_key)
            intent_link(intent["id"])
        if refund is not None:
            charge_id = refund.get("charge")
            if isinstance(charge_id, str) and charge_id:
                Charge.sync_from_stripe_data(Charge(id=charge_id).api_retrieve(api_key=api_key), api_key=api_key)
            Refund.sync_from_stripe_data(refund, api_key=api_key)
    except (stripe.StripeError, InvalidStripeAPIKey) as exc:  # a copy for bookkeeping: our rows are right
        logger.warning("dj-stripe sync failed: %s", exc)


@checks.register(checks.Tags.compatibility)
def stripe_key_check(app_configs=None, **kwargs):
    """dj-stripe refuses keys that do not look like Stripe's: say so at start, not at the first payment."""
    key = settings.STRIPE_SECRET_KEY
    if key and not re.match(API_KEY_REGEX, key):
        return [checks.Error("STRIPE_SECRET_KEY does not look like a Stripe secret key "
                             "(sk_test_/sk_live_/rk_… followed by 24+ letters or digits).", id="billing.E001")]
    return []


def customer_forget(customer_id: str) -> int:
    """dj-stripe's copies of a deleted account's customer and its customer events (they hold the e-mail)."""
    Customer.objects.filter(id=customer_id).delete()
    deleted, _rows = Event.objects.filter(type__startswith="customer.").filter(
        Q(data__object__id=customer_id) | Q(data__object__customer=customer_id)).delete()
    return deleted
