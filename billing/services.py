"""Writes on billing: prices, payments, webhooks, refunds, subscriptions, giving back charges."""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_UP, Decimal, InvalidOperation

import stripe
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from djstripe.event_handlers import djstripe_receiver
from djstripe.models import Charge, PaymentIntent

from accounts import services as account_services
from accounts.abuse import Window, window_give_back, window_take
from accounts.credits import CreditReason, credits_change
from accounts.models import SubscriptionPlan, User, UserSubscription
from accounts.owners import Owner
from accounts.plans import FREE_PLAN_SLUG
from anclora.core import events
from anclora.core.errors import ApplicationError
from conversions.catalog import canonical, pair_supported

from . import pricing, selectors, stripe_sync
from .models import (
    AnonymousAllowanceUse,
    BillingCustomer,
    ConversionCharge,
    ConversionTransaction,
    StripeEvent,
    StripeSubscription,
    TransactionItem,
)
from .providers import ProviderError, get_provider

logger = logging.getLogger(__name__)

MB = 1024 * 1024


def _invalid(field: str, message: str, code: str = "validation_error") -> ApplicationError:
    return ApplicationError(f"{field}: {message}", code=code, status=400, details={field: [message]})


# --- prices -------------------------------------------------------------------------
def conversion_request_validate(*, source_format, target_format, file_size_mb, quality,
                                features=()) -> dict:
    """Normalised conversion details, or a 400 naming the field."""
    source = canonical(source_format) if isinstance(source_format, str) else None
    if source is None:
        raise _invalid("source_format", _("Formato de origen no soportado."), "unsupported_format")
    target = canonical(target_format) if isinstance(target_format, str) else None
    if target is None:
        raise _invalid("target_format", _("Formato de destino no soportado."), "unsupported_format")
    if not pair_supported(source, target):
        raise _invalid("target_format", _("No se puede convertir de %(src)s a %(dst)s.") % {"src": source,
                                                                                            "dst": target},
                       "unsupported_pair")
    if isinstance(file_size_mb, bool):
        raise _invalid("file_size_mb", _("Debe ser un número."))
    try:
        size = Decimal(str(file_size_mb))
    except (InvalidOperation, ValueError, TypeError):
        raise _invalid("file_size_mb", _("Debe ser un número.")) from None
    if not size.is_finite() or size <= 0 or size > settings.MAX_UPLOAD_MB:
        raise _invalid("file_size_mb", _("Debe estar entre 0 y %(max)d MB.") % {"max": settings.MAX_UPLOAD_MB})
    if not isinstance(quality, str) or quality not in pricing.QUALITY_MULTIPLIERS:
        raise _invalid("quality", _("Calidad no válida."), "invalid_quality")
    if not isinstance(features, list | tuple):
        raise _invalid("features", _("Debe ser una lista."), "invalid_feature")
    features = list(features)
    for name in features:
        if not isinstance(name, str) or name not in pricing.FEATURE_COSTS:
            raise _invalid("features", _("Opción desconocida: %(name)s") % {"name": name}, "invalid_feature")
    return {"source_format": source, "target_format": target, "file_size_mb": size, "quality": quality,
            "features": features}


def price_estimate(*, source_format, target_format, file_size_mb, quality, features=(),
                   server_load: str | None = None) -> pricing.PriceBreakdown:
    details = conversion_request_validate(source_format=source_format, target_format=target_format,
                                          file_size_mb=file_size_mb, quality=quality, features=features)
    return pricing.price(**details, server_load=server_load or selectors.server_load(
        max_age=settings.BILLING_ESTIMATE_LOAD_MAX_AGE))


def estimate_response(breakdown: pricing.PriceBreakdown) -> dict:
    """The seed's estimate shape (numbers as floats at the edge only)."""
    return {
        "estimated_price": float(breakdown.total_price),
        "currency": pricing.CURRENCY,
        "breakdown": {
            "base_price": float(breakdown.base_price),
            "conversion_type": breakdown.conversion_type,
            "size_category": breakdown.size_category,
            "size_multiplier": float(breakdown.size_multiplier),
            "quality": breakdown.quality,
            "quality_multiplier": float(breakdown.quality_multiplier),
            "feature_cost": float(breakdown.feature_cost),
            "server_load": breakdown.server_load,
            "server_load_factor": float(breakdown.server_load_factor),
            "total_price": float(breakdown.total_price),
        },
    }


def size_mb_for_bytes(size_bytes: int) -> Decimal:
    """A file's size in MB rounded up to 0.01 (so the paid tier is never below the real one)."""
    return (Decimal(size_bytes) / MB).quantize(Decimal("0.01"), rounding=ROUND_UP)


# --- payments: one transaction pays for the files it was priced for --------------------
MAX_FILES_PER_PAYMENT = 20  # as many as one convert request takes
PAID_BY_KINDS = ("allowance", "credit", "payment")


def _intent_view(tx: ConversionTransaction, intent: dict | None) -> dict:
    return {"transaction": tx, "client_secret": (intent or {}).get("client_secret", "")}


def _owner_tag(owner: Owner) -> str:
    return f"u{owner.user.pk}" if owner.user is not None else f"s{owner.session.pk}"


def _owned_with_key(owner: Owner, idempotency_key: str) -> ConversionTransaction | None:
    return ConversionTransaction.objects.filter(owner.filter(), idempotency_key=idempotency_key).first()


def _request_matches(tx: ConversionTransaction, validated: list[dict]) -> bool:
    """Whether a retry with the same idempotency key asks for what the stored transaction was priced for."""
    cent = Decimal("0.01")
    stored = [(item.source_format, item.target_format, item.quality, item.file_size_mb.quantize(cent), item.name)
              for item in tx.items.order_by("position")]
    asked = [(d["source_format"], d["target_format"], d["quality"],
              d["file_size_mb"].quantize(cent, rounding=ROUND_HALF_EVEN), d["name"]) for d in validated]
    return stored == asked


def _idempotency_key_conflict() -> ApplicationError:
    message = _("Esta idempotency_key ya se usó con otra petición; usa una clave nueva para una petición distinta.")
    return ApplicationError(message, code="idempotency_conflict", status=409, details={"idempotency_key": [message]})


def _intent_key_marker(owner: Owner, idempotency_key: str) -> str:
    digest = hashlib.sha256(f"{_owner_tag(owner)}\0{idempotency_key}".encode()).hexdigest()
    return f"abuse:payment-intent-key:{digest[:40]}"


def _intent_slots_take(*, owner: Owner, address: str | None, idempotency_key: str | None) -> list[Window] | None:
    """One of the owner's (and the client address's) payment intents for this hour, or 429 (nothing kept).

    With an idempotency key only the first request takes slots: a concurrent retry with the same key
    creates no second intent (the provider call is idempotent on it), so it needs none (returns None).
    """
    marker = _intent_key_marker(owner, idempotency_key) if idempotency_key else None
    if marker is not None and not cache.add(marker, 1, timeout=3600):
        return None
    try:
        return _intent_windows_take(owner=owner, address=address)
    except ApplicationError:
        if marker is not None:
            cache.delete(marker)
        raise


def _intent_windows_take(*, owner: Owner, address: str | None) -> list[Window]:
    caps = [("payment-intent-owner", _owner_tag(owner), settings.PAYMENT_INTENTS_PER_HOUR)]
    if address:
        caps.append(("payment-intent-address", address, settings.PAYMENT_INTENTS_PER_ADDRESS_HOUR))
    taken: list[Window] = []
    for kind, bucket, limit in caps:
        window = window_take(kind, bucket, limit=limit, seconds=3600)
        taken.append(window)
        if not window.allowed:
            _intent_slots_give_back(taken)
            raise ApplicationError(
                _("Demasiados pagos iniciados en la última hora. Inténtalo de nuevo en %(s)d segundos.")
                % {"s": window.retry_after},
                code="too_many_payment_intents", status=429, details={"retry_after": window.retry_after})
    return taken


def _intent_slots_give_back(windows: list[Window] | None, *, owner: Owner | None = None,
                            idempotency_key: str | None = None) -> None:
    if windows is None:  # a retry with a key that holds no slot of its own
        return
    for window in windows:
        window_give_back(window)
    if owner is not None and idempotency_key:
        cache.delete(_intent_key_marker(owner, idempotency_key))


def _files_summary(files) -> list[dict]:
    """What paid each file of the priced request (shown on the checkout page; display only)."""
    summary = []
    for entry in (files if isinstance(files, list | tuple) else [])[:MAX_FILES_PER_PAYMENT]:
        if isinstance(entry, dict) and entry.get("paid_by") in PAID_BY_KINDS:
            summary.append({"name": str(entry.get("name") or "")[:255], "paid_by": entry["paid_by"],
                            "prepaid": bool(entry.get("prepaid")),
                            "source_format": str(entry.get("source_format") or "")[:16],
                            "target_format": str(entry.get("target_format") or "")[:16]})
    return summary


def transaction_create(*, owner: Owner, conversion_request: dict | None = None,
                       conversion_requests: list[dict] | None = None, idempotency_key: str | None = None,
                       files: list[dict] | None = None, address: str | None = None) -> dict:
    """A pending ConversionTransaction for one file or a whole batch (one item per file, one
    PaymentIntent for their sum); a retry with the same key (per owner) and the same request returns
    the same ones (another request with that key: 409 ``idempotency_conflict``).

    New intents are capped per owner (PAYMENT_INTENTS_PER_HOUR) and per client address
    (PAYMENT_INTENTS_PER_ADDRESS_HOUR; ``address`` is the caller's accounts.abuse bucket, or the
    anonymous owner's): past either, 429 with Retry-After and nothing created at the provider. A
    replay uses no slot."""
    requests = list(conversion_requests or []) or ([conversion_request] if conversion_request else [])
    if not requests:
        raise _invalid("conversion_request", _("Este campo es obligatorio."))
    if len(requests) > MAX_FILES_PER_PAYMENT:
        raise _invalid("conversion_requests", _("Como mucho %(n)d archivos por pago.") % {
            "n": MAX_FILES_PER_PAYMENT})
    validated = []
    for request in requests:
        if not isinstance(request, dict):
            raise _invalid("conversion_requests", _("Cada elemento debe ser un objeto."))
        details = conversion_request_validate(**{k: request.get(k) for k in
                                                 ("source_format", "target_format", "file_size_mb", "quality")})
        details["name"] = str(request.get("name") or "")[:255]
        validated.append(details)
    provider = get_provider()
    if idempotency_key:
        existing = _owned_with_key(owner, idempotency_key)
        if existing is not None:
            if not _request_matches(existing, validated):
                raise _idempotency_key_conflict()
            return _transaction_replay(existing, owner=owner, provider=provider)
    slots = _intent_slots_take(owner=owner, address=address or owner.address, idempotency_key=idempotency_key)
    try:
        result = _transaction_create_new(owner=owner, provider=provider, validated=validated,
                                         idempotency_key=idempotency_key, files=files)
    except BaseException:  # nothing of ours was created: a retry may take the slot again
        _intent_slots_give_back(slots, owner=owner, idempotency_key=idempotency_key)
        raise
    # A concurrent retry with the same key stored it first ("replayed"): one intent at the provider (its
    # call is idempotent on the key), counted by whichever of the two requests took the slot.
    result.pop("replayed", None)
    return result


def _transaction_create_new(*, owner: Owner, provider, validated: list[dict], idempotency_key: str | None,
                            files) -> dict:
    load = selectors.server_load()
    priced = [(details, pricing.price(**{k: details[k] for k in ("source_format", "target_format",
                                                                  "file_size_mb", "quality")},
                                      server_load=load)) for details in validated]
    total = sum((breakdown.total_price for _details, breakdown in priced), Decimal("0.00"))
    first, breakdown = priced[0]
    tx_id = uuid.uuid4()
    stored = {"source_format": first["source_format"], "target_format": first["target_format"],
              "file_size_mb": str(first["file_size_mb"]), "quality": first["quality"],
              "size_category": breakdown.size_category, "conversion_type": breakdown.conversion_type,
              "base_price": str(breakdown.base_price), "size_multiplier": str(breakdown.size_multiplier),
              "quality_multiplier": str(breakdown.quality_multiplier),
              "server_load_factor": str(breakdown.server_load_factor),
              "file_count": len(priced), "files": _files_summary(files)}
    try:
        intent = provider.create_intent(
            amount_cents=pricing.to_cents(total), currency=pricing.CURRENCY,
            metadata={"transaction_id": str(tx_id), "kind": "conversion", "files": str(len(priced))},
            idempotency_key=f"anclora-pi-{_owner_tag(owner)}-{idempotency_key}" if idempotency_key
            else f"anclora-pi-{tx_id}",
        )
    except ProviderError as exc:
        raise ApplicationError(_("El proveedor de pagos no está disponible: %(e)s") % {"e": exc.message},
                               code="payment_provider_error", status=502) from exc
    _mirror(provider, intent=intent)
    try:
        with transaction.atomic():
            tx = ConversionTransaction.objects.create(
                id=tx_id, **owner.fields(), amount=total, currency=pricing.CURRENCY,
                conversion_details=stored, provider=provider.name, stripe_payment_intent_id=intent["id"],
                idempotency_key=idempotency_key or None,
            )
            TransactionItem.objects.bulk_create([
                TransactionItem(transaction=tx, position=position, name=details["name"],
                                source_format=details["source_format"], target_format=details["target_format"],
                                quality=details["quality"], file_size_mb=details["file_size_mb"],
                                size_category=item_breakdown.size_category, amount=item_breakdown.total_price)
                for position, (details, item_breakdown) in enumerate(priced)])
    except IntegrityError:  # a concurrent retry with the same key won
        existing = _owned_with_key(owner, idempotency_key) if idempotency_key else None
        if existing is None:
            existing = ConversionTransaction.objects.filter(stripe_payment_intent_id=intent["id"]).first()
        if existing is None:
            raise
        if idempotency_key and not _request_matches(existing, validated):
            raise _idempotency_key_conflict() from None
        return {**_transaction_replay(existing, owner=owner, provider=provider), "replayed": True}
    return {"transaction": tx, "client_secret": intent.get("client_secret", ""), "breakdown": breakdown}


def _transaction_replay(tx: ConversionTransaction, *, owner: Owner, provider) -> dict:
    if not _owned_by(tx, owner):
        raise ApplicationError(_("Esa clave de idempotencia ya se usó en otra petición."),
                               code="idempotency_conflict", status=409,
                               details={"idempotency_key": [_("ya usada")]})
    try:
        intent = provider.retrieve_intent(tx.stripe_payment_intent_id)
    except ProviderError:
        intent = {}
    d = tx.conversion_details
    breakdown = pricing.PriceBreakdown(
        conversion_type=d.get("conversion_type", ""), base_price=Decimal(d.get("base_price", "0")),
        size_category=d.get("size_category", ""), size_multiplier=Decimal(d.get("size_multiplier", "0")),
        quality=d.get("quality", ""), quality_multiplier=Decimal(d.get("quality_multiplier", "0")),
        feature_cost=Decimal("0.00"), server_load="", server_load_factor=Decimal(d.get("server_load_factor", "1")),
        total_price=tx.amount,
    )
    return {"transaction": tx, "client_secret": intent.get("client_secret", ""), "breakdown": breakdown}


def _owned_by(tx: ConversionTransaction, owner: Owner | None) -> bool:
    if owner is None:
        return False
    if owner.user is not None:
        return tx.user_id == owner.user.pk
    return tx.user_id is None and tx.session_id == owner.session.pk


def transaction_get_for_owner(*, owner: Owner | None, transaction_id) -> ConversionTransaction:
    tx = selectors.transaction_list_for_owner(owner=owner).filter(pk=transaction_id).first()
    if tx is None:
        raise ApplicationError(_("Transacción no encontrada."), code="not_found", status=404)
    return tx


def _mark_completed(tx: ConversionTransaction) -> bool:
    """pending/failed → completed (the row is locked). Publishes payment_succeeded once."""
    if tx.status not in (ConversionTransaction.Status.PENDING, ConversionTransaction.Status.FAILED):
        return False
    tx.status = ConversionTransaction.Status.COMPLETED
    tx.completed_at = timezone.now()
    tx.save(update_fields=["status", "completed_at", "updated_at"])
    # Gamification awards 10 points per EUR here (it subscribes to this event).
    events.publish("payment_succeeded", transaction_id=tx.pk, user_id=tx.user_id, amount_eur=tx.amount)
    return True


def _apply_intent_state(tx: ConversionTransaction, intent: dict) -> str:
    """Bring a locked transaction in line with the PaymentIntent as the provider reports it."""
    status = intent.get("status")
    amount_ok = int(intent.get("amount", -1)) == pricing.to_cents(tx.amount) and \
        str(intent.get("currency", "")).upper() == tx.currency
    if status == "succeeded" and amount_ok:
        _mark_completed(tx)
    elif tx.status == ConversionTransaction.Status.PENDING and (
            status == "canceled" or (status == "requires_payment_method" and intent.get("last_payment_error"))):
        tx.status = ConversionTransaction.Status.FAILED
        tx.save(update_fields=["status", "updated_at"])
    return tx.status


def _mirror(provider, *, intent: dict | None = None, refund: dict | None = None) -> None:
    """dj-stripe's copies of the objects our own calls created or changed (Stripe providers only)."""
    if provider.name == "stripe":
        stripe_sync.objects_sync(intent=intent, refund=refund)


def transaction_sync(*, transaction_id) -> ConversionTransaction:
    """Re-read the PaymentIntent and apply its state (a redirect or a client's word is not a payment)."""
    with transaction.atomic():
        tx = ConversionTransaction.objects.select_for_update().get(pk=transaction_id)
        try:
            intent = get_provider().retrieve_intent(tx.stripe_payment_intent_id)
        except ProviderError as exc:
            logger.warning("cannot re-read %s: %s", tx.stripe_payment_intent_id, exc)
            return tx
        _mirror(get_provider(), intent=intent)
        _apply_intent_state(tx, intent)
    return tx


def transaction_client_secret(*, transaction_id) -> str:
    """The PaymentIntent's client secret, for Stripe.js on the checkout page ("" when unavailable)."""
    tx = ConversionTransaction.objects.get(pk=transaction_id)
    try:
        return get_provider().retrieve_intent(tx.stripe_payment_intent_id).get("client_secret") or ""
    except ProviderError as exc:
        logger.warning("cannot read the client secret of %s: %s", tx.stripe_payment_intent_id, exc)
        return ""


def transaction_pay_test_card(*, owner: Owner | None, transaction_id, card: str = "visa") -> ConversionTransaction:
    """Test mode: pay a pending transaction with a test card (never available with live keys)."""
    tx = transaction_get_for_owner(owner=owner, transaction_id=transaction_id)
    provider = get_provider()
    if not provider.test_mode:
        raise ApplicationError(_("Las tarjetas de prueba solo existen en modo de prueba."), code="not_test_mode",
                               status=403)
    if tx.status == ConversionTransaction.Status.FAILED:
        raise ApplicationError(_("Este pago fue rechazado: crea un pago nuevo."), code="payment_failed", status=409)
    if tx.status == ConversionTransaction.Status.PENDING:
        try:
            provider.confirm_test_card(tx.stripe_payment_intent_id, card=card)
        except ProviderError as exc:
            _provider_events_apply(provider)
            transaction_sync(transaction_id=tx.pk)
            raise ApplicationError(_("Pago rechazado: %(e)s") % {"e": exc.message}, code="card_declined",
                                   status=402, details={"transaction_id": [str(tx.pk)]}) from exc
        _provider_events_apply(provider)
    return transaction_sync(transaction_id=tx.pk)


def _provider_events_apply(provider) -> None:
    """Events the provider produced itself (the offline test mode) go the verified webhook's way."""
    for event in provider.events_take():
        stripe_event_process(event=event)


@transaction.atomic
def transaction_refund(*, transaction_id, actor: User | None = None) -> ConversionTransaction:
    """Refund what is left of a completed payment, once. The row lock serialises refunds."""
    tx = ConversionTransaction.objects.select_for_update().filter(pk=transaction_id).first()
    if tx is None:
        raise ApplicationError(_("Transacción no encontrada."), code="not_found", status=404)
    remaining = tx.amount - tx.refunded_amount
    if tx.status == ConversionTransaction.Status.REFUNDED or remaining <= 0:
        raise ApplicationError(_("Esta transacción ya está reembolsada."), code="already_refunded", status=409)
    if tx.status != ConversionTransaction.Status.COMPLETED:
        raise ApplicationError(_("Solo se reembolsan pagos completados."), code="not_refundable", status=409,
                               details={"status": [tx.status]})
    try:
        refund = get_provider().refund(intent_id=tx.stripe_payment_intent_id, amount_cents=pricing.to_cents(remaining),
                                       idempotency_key=f"anclora-refund-{tx.pk}-{tx.refunded_amount}")
    except ProviderError as exc:
        raise ApplicationError(_("El reembolso falló: %(e)s") % {"e": exc.message}, code="refund_failed",
                               status=502) from exc
    tx.refunded_amount = tx.amount
    tx.status = ConversionTransaction.Status.REFUNDED
    tx.refunded_at = timezone.now()
    tx.stripe_refund_id = refund.get("id", "")
    tx.save(update_fields=["refunded_amount", "status", "refunded_at", "stripe_refund_id", "updated_at"])
    _mirror(get_provider(), refund=refund)
    logger.info("transaction %s refunded by %s", tx.pk, actor)
    return tx


# --- webhooks ------------------------------------------------------------------------
def _signature_timestamp(signature: str | None) -> int | None:
    for part in (signature or "").split(","):
        key, _sep, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            return int(value)
    return None


def webhook_receive(*, payload: bytes, signature: str | None) -> str:
    """Verify the signature on the raw body, with the tolerance both ways, then process the event once.

    Stripe's SDK only refuses timestamps older than the tolerance; one from the future is as stale.
    """
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise ApplicationError(_("Webhooks desactivados: falta STRIPE_WEBHOOK_SECRET."), code="webhook_disabled",
                               status=400)
    tolerance = settings.STRIPE_WEBHOOK_TOLERANCE
    invalid = ApplicationError(_("Firma del webhook no válida."), code="invalid_signature", status=400)
    timestamp = _signature_timestamp(signature)
    if timestamp is None or timestamp > time.time() + tolerance:
        raise invalid
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret, tolerance=tolerance)
    except (ValueError, stripe.SignatureVerificationError) as exc:
        raise invalid from exc
    if get_provider().name != "stripe":
        return stripe_event_process(event=event.to_dict())
    try:
        return stripe_sync.event_process(event.to_dict(), subscription_changed=_subscription_changed)
    except stripe_sync.MalformedEvent as exc:
        raise ApplicationError(_("El evento no tiene la forma de un evento de Stripe."), code="invalid_event",
                               status=400) from exc
    except stripe_sync.SyncUnavailable as exc:
        raise _provider_unavailable() from exc


def _provider_unavailable() -> ApplicationError:
    return ApplicationError(_("El proveedor de pagos no está disponible; reintenta el evento."),
                            code="payment_provider_error", status=503)


class ProviderUnavailable(Exception):
    """The object named by an event could not be re-read for a transient reason: retry the event later."""


def stripe_event_process(*, event: dict) -> str:
    """Offline test mode: store the event (unique id) and apply its effect in the same transaction.

    With Stripe (or localstripe) configured, dj-stripe stores and syncs instead (billing/stripe_sync.py).

    An event is a notification, not a fact: the handlers re-read the object it names from the
    provider and decide from that and from our own rows. When the provider cannot be reached the
    event is not stored (503), so Stripe's retry applies it later.
    """
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    stored = StripeEvent.objects.create(event_id=str(event.get("id", ""))[:255],
                                                        type=str(event.get("type", ""))[:100], payload=event)
            except IntegrityError:
                return "duplicate"
            result = _event_dispatch(event)
            stored.processed_at = timezone.now()
            stored.save(update_fields=["processed_at"])
    except ProviderUnavailable as exc:
        raise _provider_unavailable() from exc
    return result


def _reread(fetch, object_id):
    """The provider's current object, None when it does not exist there (then the event changes nothing)."""
    if not isinstance(object_id, str) or not object_id:
        return None
    try:
        return fetch(object_id)
    except ProviderError as exc:
        if exc.code in ("not_found", "invalid_request"):
            logger.warning("event names %s, which the provider does not know: ignored", object_id)
            return None
        raise ProviderUnavailable(str(exc)) from exc


def _event_dispatch(event: dict) -> str:
    kind = event.get("type", "")
    obj = (event.get("data") or {}).get("object") or {}
    if not isinstance(obj, dict):
        return "ignored"
    provider = get_provider()
    if kind in ("payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled"):
        intent = _reread(provider.retrieve_intent, obj.get("id"))
        return "ignored" if intent is None else intent_apply(intent)
    if kind == "charge.refunded":
        charge = _reread(provider.retrieve_charge, obj.get("id"))
        return "ignored" if charge is None else charge_refunds_apply(charge)
    if kind in ("invoice.paid", "invoice.payment_succeeded"):
        subscription_id = obj.get("subscription")
        return subscription_sync(stripe_subscription_id=subscription_id) if isinstance(subscription_id, str) \
            else "ignored"
    if kind.startswith("customer.subscription."):
        subscription_id = obj.get("id")
        return subscription_sync(stripe_subscription_id=subscription_id) if isinstance(subscription_id, str) \
            else "ignored"
    return "ignored"


# --- dj-stripe: its receivers apply the objects it re-read and synced (billing/stripe_sync.py) ---
@djstripe_receiver(["payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled"])
def payment_intent_changed(sender, event, **kwargs):
    intent = stripe_sync.synced_object(PaymentIntent, stripe_sync.event_object_id(event))
    if intent is not None:
        stripe_sync.intent_link(intent["id"])
        intent_apply(intent)


@djstripe_receiver("charge.refunded")
def charge_refunded(sender, event, **kwargs):
    charge = stripe_sync.synced_object(Charge, stripe_sync.event_object_id(event))
    if charge is not None:
        charge_refunds_apply(charge)


def _subscription_changed(subscription_id: str) -> None:
    try:
        subscription_sync(stripe_subscription_id=subscription_id)
    except ProviderUnavailable as exc:
        raise stripe_sync.SyncUnavailable(str(exc)) from exc


def intent_apply(intent: dict) -> str:
    """Apply a PaymentIntent as re-read from the provider to our transaction for it (if any)."""
    tx = ConversionTransaction.objects.select_for_update().filter(
        stripe_payment_intent_id=intent.get("id")).first() if isinstance(intent.get("id"), str) else None
    return "ignored" if tx is None else _apply_intent_state(tx, intent)


def charge_refunds_apply(charge: dict) -> str:
    """Record what the provider says was refunded of a charge of ours (never more than was paid)."""
    intent_id = charge.get("payment_intent")
    if isinstance(intent_id, dict):
        intent_id = intent_id.get("id")
    tx = ConversionTransaction.objects.select_for_update().filter(stripe_payment_intent_id=intent_id).first() \
        if isinstance(intent_id, str) and intent_id else None
    if tx is None:
        return "ignored"
    try:
        refunded_cents = int(charge.get("amount_refunded") or 0)
    except (TypeError, ValueError):
        return tx.status
    refunded = min(tx.amount, max(tx.refunded_amount, Decimal(refunded_cents) / 100))
    if refunded > tx.refunded_amount and tx.status in (ConversionTransaction.Status.COMPLETED,
                                                        ConversionTransaction.Status.REFUNDED):
        tx.refunded_amount = refunded
        tx.status = ConversionTransaction.Status.REFUNDED
        tx.refunded_at = tx.refunded_at or timezone.now()
        tx.save(update_fields=["refunded_amount", "status", "refunded_at", "updated_at"])
    return tx.status


# --- subscriptions -------------------------------------------------------------------
def subscription_period_roll(*, subscription: UserSubscription, now=None) -> UserSubscription:
    """The allowance resets with the period: an ended period rolls forward, or ends a cancelled plan.

    Called with the row locked (authorizer) or by the daily task.
    """
    now = now or timezone.now()
    if subscription.current_period_end > now:
        return subscription
    cancelled = StripeSubscription.objects.filter(user=subscription.user_id, plan=subscription.plan_id,
                                                  applied_at__isnull=False, cancel_at_period_end=True,
                                                  status=StripeSubscription.Status.ACTIVE)
    if cancelled.exists():
        cancelled.update(status=StripeSubscription.Status.CANCELED)
        return account_services.subscription_start(user=subscription.user,
                                                    plan=SubscriptionPlan.objects.get(slug=FREE_PLAN_SLUG), now=now)
    return account_services.subscription_period_advance(subscription=subscription, now=now)


def subscription_periods_roll(*, now=None) -> int:
    """Daily: every active subscription whose period ended rolls forward (idempotent)."""
    now = now or timezone.now()
    rolled = 0
    ids = list(UserSubscription.objects.filter(status=UserSubscription.Status.ACTIVE,
                                               current_period_end__lte=now).values_list("pk", flat=True))
    for pk in ids:
        with transaction.atomic():
            sub = UserSubscription.objects.select_for_update().select_related("user", "plan").filter(
                pk=pk, status=UserSubscription.Status.ACTIVE).first()
            if sub is not None and sub.current_period_end <= now:
                subscription_period_roll(subscription=sub, now=now)
                rolled += 1
    return rolled


def _customer_for(user: User, provider, *, fresh: bool = False) -> str:
    customer = BillingCustomer.objects.filter(user=user).first()
    same_kind = customer is not None and \
        customer.stripe_customer_id.startswith("cus_offline_") == (provider.name == "offline")
    if same_kind and not fresh:
        return customer.stripe_customer_id
    data = provider.create_customer(email=user.email, metadata={"user_id": str(user.pk)},
                                    idempotency_key=f"anclora-customer-{user.pk}-{uuid.uuid4()}")
    BillingCustomer.objects.update_or_create(user=user, defaults={"stripe_customer_id": data["id"]})
    return data["id"]


SUBSCRIPTION_PENDING_WINDOW = timedelta(hours=1)


@transaction.atomic
def subscription_subscribe(*, user: User, plan_slug: str) -> StripeSubscription:
    """A Stripe customer and subscription; the plan applies once Stripe reports it paid.

    The user's row is locked for the whole call, so a double click (or 20 parallel requests)
    creates one subscription at the provider, not one per request.
    """
    plan = SubscriptionPlan.objects.filter(slug=plan_slug, is_active=True).first()
    if plan is None:
        raise _invalid("plan", _("Plan desconocido."), "invalid_plan")
    if plan.price_eur <= 0:
        raise _invalid("plan", _("El plan gratuito no necesita suscripción: cancela la actual."), "invalid_plan")
    User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()
    current = selectors.stripe_subscription_current(user=user)
    if current is not None and current.plan_id == plan.pk and not current.cancel_at_period_end:
        raise ApplicationError(_("Ya tienes ese plan."), code="already_subscribed", status=409)
    if StripeSubscription.objects.filter(user=user, plan=plan, status=StripeSubscription.Status.INCOMPLETE,
                                         created_at__gte=timezone.now() - SUBSCRIPTION_PENDING_WINDOW).exists():
        raise ApplicationError(_("Ya hay una suscripción a ese plan pendiente de pago."),
                               code="subscription_pending", status=409)
    provider = get_provider()
    try:
        customer_id = _customer_for(user, provider)
        plan_id = provider.ensure_plan(slug=plan.slug, name=plan.name, amount_cents=pricing.to_cents(plan.price_eur))
        metadata = {"user_id": str(user.pk), "plan": plan.slug}
        try:
            data = provider.create_subscription(customer_id=customer_id, plan_id=plan_id, metadata=metadata,
                                                idempotency_key=f"anclora-sub-{user.pk}-{uuid.uuid4()}")
        except ProviderError:
            # The stored customer may be gone (a restarted localstripe keeps nothing): make a new one, once.
            customer_id = _customer_for(user, provider, fresh=True)
            data = provider.create_subscription(customer_id=customer_id, plan_id=plan_id, metadata=metadata,
                                                idempotency_key=f"anclora-sub-{user.pk}-{uuid.uuid4()}")
        _provider_events_apply(provider)
    except ProviderError as exc:
        raise ApplicationError(_("El proveedor de pagos no está disponible: %(e)s") % {"e": exc.message},
                               code="payment_provider_error", status=502) from exc
    StripeSubscription.objects.get_or_create(stripe_subscription_id=data["id"],
                                             defaults={"user": user, "plan": plan})
    try:
        subscription_sync(stripe_subscription_id=data["id"])
    except ProviderUnavailable:  # the webhook or the next sync applies it
        logger.warning("subscription %s created but not re-read yet", data["id"])
    return StripeSubscription.objects.select_related("plan").get(stripe_subscription_id=data["id"])


def _ts(value) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


@transaction.atomic
def subscription_sync(*, stripe_subscription_id: str) -> str:
    """Re-read one of our subscriptions from the provider and apply it: active → plan applies (once);
    ended → Gratuito. Who subscribed to which plan comes from our row, never from the provider's
    metadata; a subscription we did not create, or one that cannot be re-read, changes nothing."""
    row = StripeSubscription.objects.select_for_update().select_related("user", "plan").filter(
        stripe_subscription_id=stripe_subscription_id).first()
    if row is None:
        return "ignored"
    data = _reread(get_provider().retrieve_subscription, stripe_subscription_id)
    if data is None or data.get("id") != stripe_subscription_id:
        return "ignored"
    customer = data.get("customer")
    customer = customer.get("id") if isinstance(customer, dict) else customer
    ours = BillingCustomer.objects.filter(user=row.user_id).values_list("stripe_customer_id", flat=True).first()
    if customer and ours and customer != ours:
        logger.warning("subscription %s belongs to another customer: ignored", stripe_subscription_id)
        return "ignored"
    row.cancel_at_period_end = bool(data.get("cancel_at_period_end"))
    row.current_period_end = _ts(data.get("current_period_end")) or row.current_period_end
    status = data.get("status")
    if status in ("active", "trialing"):
        if row.applied_at is None:
            StripeSubscription.objects.filter(user=row.user_id, status=StripeSubscription.Status.ACTIVE).exclude(
                pk=row.pk).update(status=StripeSubscription.Status.CANCELED)
            account_services.subscription_start(user=row.user, plan=row.plan)
            row.applied_at = timezone.now()
        row.status = StripeSubscription.Status.ACTIVE
    elif status in ("canceled", "incomplete_expired", "unpaid"):
        was_active = row.status == StripeSubscription.Status.ACTIVE and row.applied_at is not None
        row.status = StripeSubscription.Status.CANCELED
        current = UserSubscription.objects.filter(user=row.user_id, status=UserSubscription.Status.ACTIVE).first()
        if was_active and current is not None and current.plan_id == row.plan_id:
            account_services.subscription_start(user=row.user, plan=SubscriptionPlan.objects.get(slug=FREE_PLAN_SLUG))
    row.save()
    return row.status


def subscription_cancel(*, user: User) -> StripeSubscription:
    """Cancel at period end: the plan stays until then, then Gratuito (daily task / next request)."""
    current = selectors.stripe_subscription_current(user=user)
    if current is None:
        raise ApplicationError(_("No tienes una suscripción de pago."), code="no_subscription", status=409)
    try:
        get_provider().cancel_subscription_at_period_end(current.stripe_subscription_id)
    except ProviderError as exc:
        raise ApplicationError(_("El proveedor de pagos no está disponible: %(e)s") % {"e": exc.message},
                               code="payment_provider_error", status=502) from exc
    StripeSubscription.objects.filter(pk=current.pk).update(cancel_at_period_end=True)
    current.refresh_from_db()
    return current


# --- giving back what a failed or cancelled conversion consumed -----------------------
@transaction.atomic
def charge_give_back(*, conversion_id) -> str | None:
    """Exactly once: allowance stops counting, a credit returns, a payment becomes reusable."""
    charge = ConversionCharge.objects.select_for_update().filter(conversion_id=conversion_id,
                                                                 refunded=False).first()
    if charge is None:
        return None
    charge.refunded = True
    charge.refunded_at = timezone.now()
    charge.save(update_fields=["refunded", "refunded_at"])
    if charge.kind == ConversionCharge.Kind.ALLOWANCE and charge.anonymous_use_id:
        # The anonymous allowance slot also returns to the address's monthly count.
        AnonymousAllowanceUse.objects.filter(pk=charge.anonymous_use_id, count__gt=0).update(count=F("count") - 1)
    if charge.kind == ConversionCharge.Kind.CREDIT:
        user_id = charge.conversion.user_id
        if user_id:
            credits_change(user_id=user_id, delta=1, reason=CreditReason.GIVE_BACK,
                           idempotency_key=str(conversion_id), subject=("conversion", conversion_id))
    elif charge.kind == ConversionCharge.Kind.PAYMENT and charge.transaction_id:
        # That file's share of the payment becomes reusable (its item); the payment is no longer all used.
        if charge.item_id:
            TransactionItem.objects.filter(pk=charge.item_id, consumed_by=conversion_id).update(
                consumed_by=None, consumed_at=None)
        ConversionTransaction.objects.filter(pk=charge.transaction_id).update(consumed_by=None)
    return charge.kind


# What a payment's details may hold that leads to a person (file names, addresses, identifiers).
_PERSONAL_KEYS = frozenset({"name", "filename", "file_name", "original_filename", "email", "first_name",
                            "last_name", "user_id", "session_id", "ip", "ip_address", "webhook_url"})


def _without_personal(value):
    if isinstance(value, dict):
        return {k: _without_personal(v) for k, v in value.items() if k not in _PERSONAL_KEYS}
    if isinstance(value, list):
        return [_without_personal(v) for v in value]
    return value


@transaction.atomic
def transactions_anonymise_for_user(*, user) -> int:
    """An account is being deleted (``user_deleting``): its payments stay as accounting rows (amount,
    currency, status, what was priced, the provider's reference) with nothing that leads to the person."""
    ids = []
    for tx in ConversionTransaction.objects.select_for_update().filter(user=user):
        tx.conversion_details = _without_personal(tx.conversion_details)
        tx.user = None
        tx.session = None
        tx.idempotency_key = None
        tx.save(update_fields=["conversion_details", "user", "session", "idempotency_key", "updated_at"])
        ids.append(tx.pk)
    # per-file rows of a payment keep the priced facts, not the file's name
    TransactionItem.objects.filter(transaction_id__in=ids).exclude(name="").update(name="")
    return len(ids)


def billing_customer_forget(*, user: User) -> None:
    """Account deletion: its subscriptions are cancelled at the provider now and the provider's customer
    is deleted, so the card is never charged again; dj-stripe's copies of its customer events go too.

    Runs inside the deletion's transaction: if the provider cannot be reached the deletion fails
    (503) rather than leave a subscription charging an account that no longer exists.
    """
    provider = get_provider()
    live = StripeSubscription.objects.filter(user=user).exclude(status=StripeSubscription.Status.CANCELED)
    customer_id = BillingCustomer.objects.filter(user=user).values_list("stripe_customer_id", flat=True).first()
    try:
        for subscription_id in live.values_list("stripe_subscription_id", flat=True):
            _ignore_missing(provider.cancel_subscription_now, subscription_id)
        if customer_id:
            _ignore_missing(provider.delete_customer, customer_id)
    except ProviderError as exc:
        raise ApplicationError(_("No se pudo cancelar tu suscripción con el proveedor de pagos; inténtalo más "
                                 "tarde."), code="payment_provider_error", status=503) from exc
    live.update(status=StripeSubscription.Status.CANCELED)
    if customer_id and provider.name == "stripe":
        stripe_sync.customer_forget(customer_id)


def _ignore_missing(call, object_id):
    try:
        return call(object_id)
    except ProviderError as exc:
        if exc.code != "not_found":
            raise
        return None


def transactions_adopt(*, session_id, user) -> int:
    """The session's payments move to the user; a session key the user already used is dropped."""
    taken = ConversionTransaction.objects.filter(user=user, idempotency_key__isnull=False).values(
        "idempotency_key")
    ConversionTransaction.objects.filter(session_id=session_id, user__isnull=True,
                                         idempotency_key__in=taken).update(idempotency_key=None)
    return ConversionTransaction.objects.filter(session_id=session_id, user__isnull=True).update(user=user)
