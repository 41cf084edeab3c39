"""Webhooks: the owner's signing secret, registered endpoints, and deliveries of the conversion events
(recorded in the publisher's transaction, sent after commit by Celery, retried with backoff)."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.owners import Owner
from anclora.core.errors import ApplicationError
from anclora.core.locks import serialise
from conversions import selectors as conversion_selectors
from conversions.webhooks import webhook_url_allowed

from . import signing, transport
from .models import EVENT_TYPES, WebhookDelivery, WebhookEndpoint, WebhookSecret

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
# Wait after attempt n (1-based) before attempt n + 1: about 52 minutes from the first to the last.
BACKOFF_SECONDS = (30, 120, 300, 900, 1800)
# An attempt in flight holds the delivery this long (a worker that dies leaves it due again).
ATTEMPT_LEASE = timedelta(seconds=60)
MAX_ENDPOINTS_PER_USER = 10
KEEP_DELIVERIES = timedelta(days=30)
ENDED = ("completed", "failed", "cancelled")
_EVENT_NAMESPACE = uuid.UUID("5b0f2a52-4a54-4a33-9d8e-0f3c6c2b7a11")


# --- secret --------------------------------------------------------------------------------------
def webhook_secret_get(*, owner: Owner) -> WebhookSecret:
    """The owner's signing secret, created on first use."""
    lookup = {"user": owner.user} if owner.user else {"session": owner.session}
    try:
        with transaction.atomic():
            secret, _ = WebhookSecret.objects.get_or_create(**lookup, defaults={"secret": signing.secret_generate()})
    except IntegrityError:  # created meanwhile by a parallel request
        secret = WebhookSecret.objects.get(**lookup)
    return secret


@transaction.atomic
def webhook_secret_rotate(*, owner: Owner) -> WebhookSecret:
    """A new secret; every delivery from now on (retries included) is signed with it."""
    secret = webhook_secret_get(owner=owner)
    secret.secret = signing.secret_generate()
    secret.save(update_fields=["secret", "updated_at"])
    return secret


# --- endpoints -----------------------------------------------------------------------------------
def _validate_events(events: list[str]) -> list[str]:
    chosen = [e for e in EVENT_TYPES if e in set(events or ())]
    unknown = sorted(set(events or ()) - set(EVENT_TYPES))
    if unknown or not chosen:
        raise ApplicationError(_("Elige al menos un evento válido."), code="invalid_events",
                               details={"events": [", ".join(EVENT_TYPES)]})
    return chosen


@transaction.atomic
def webhook_endpoint_create(*, user, url: str, events: list[str]) -> WebhookEndpoint:
    chosen = _validate_events(events)
    if not webhook_url_allowed(url):
        raise ApplicationError(_("La URL debe ser http(s) y pública."), code="invalid_webhook_url",
                               details={"url": [_("Solo se admiten direcciones http(s) públicas.")]})
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()  # one count at a time per user
    if WebhookEndpoint.objects.filter(user=user).count() >= MAX_ENDPOINTS_PER_USER:
        raise ApplicationError(_("Has alcanzado el máximo de endpoints de webhook."), code="too_many_endpoints",
                               status=409, details={"url": [str(MAX_ENDPOINTS_PER_USER)]})
    return WebhookEndpoint.objects.create(user=user, url=url, events=chosen)


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()  # its deliveries go with it (pending ones are never sent)


def webhooks_adopt(*, session_id, user) -> None:
    """``anonymous_session_adopted``: the session's delivery log becomes the user's."""
    WebhookDelivery.objects.filter(session_id=session_id, user__isnull=True).update(user=user, session=None)


# --- events → deliveries -------------------------------------------------------------------------
def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _conversion_data(conversion) -> dict:
    data = {
        "id": str(conversion.pk), "batch_id": str(conversion.batch_id), "status": conversion.status,
        "original_filename": conversion.source.original_filename,
        "original_format": conversion.original_format, "target_format": conversion.target_format,
        "download_url": _absolute(reverse("api:conversions:download", args=[conversion.pk]))
        if conversion.status == "completed" else None,
    }
    if conversion.status != "completed":
        data["error"] = conversion.error_message or None
        data["error_code"] = conversion.error_code or None
    return data


def _event(event_type: str, key: str, data: dict) -> dict:
    return {"id": str(uuid.uuid5(_EVENT_NAMESPACE, f"{event_type}:{key}")), "type": event_type,
            "created": int(timezone.now().timestamp()), "data": data}


def _record(*, event: dict, owner_fields: dict, endpoint: WebhookEndpoint | None, url: str) -> WebhookDelivery | None:
    """One pending delivery (none if this event already went to this destination)."""
    try:
        with transaction.atomic():
            delivery = WebhookDelivery.objects.create(
                **owner_fields, endpoint=endpoint, url=url, event_type=event["type"], event_id=event["id"],
                payload=event, next_attempt_at=timezone.now(),
            )
    except IntegrityError:
        return None
    transaction.on_commit(lambda: _enqueue(delivery.pk), robust=True)  # a broker outage: the beat sweep sends it
    return delivery


def _endpoints_for(user, event_type: str | None = None) -> list[WebhookEndpoint]:
    """The user's active endpoints (those that asked for ``event_type`` when given)."""
    if user is None:
        return []
    return [e for e in WebhookEndpoint.objects.filter(user=user, active=True)
            if event_type is None or event_type in e.events]


def conversion_event_record(*, conversion_id, event_type: str) -> int:
    """A conversion ended: a delivery to each of its owner's endpoints that asked for the event and to
    its per-request webhook_url; the batch is checked after commit."""
    conversion = conversion_selectors.conversion_get(conversion_id=conversion_id)
    if conversion is None:
        return 0
    active = _endpoints_for(conversion.user)
    endpoints = [e for e in active if event_type in e.events]
    if any("batch.completed" in e.events for e in active):
        batch_id = conversion.batch_id
        transaction.on_commit(lambda: batch_completed_check(batch_id=batch_id), robust=True)  # never fails the job
    if not endpoints and not conversion.webhook_url:
        return 0  # nobody listens: no event to build (most jobs; this runs inside every job's completion)
    finished = conversion.finished_at.timestamp() if conversion.finished_at else ""
    event = _event(event_type, f"{conversion.pk}:{finished}", {"conversion": _conversion_data(conversion)})
    owner_fields = {"user": conversion.user, "session": None if conversion.user_id else conversion.session}
    recorded = [_record(event=event, owner_fields=owner_fields, endpoint=e, url=e.url) for e in endpoints]
    if conversion.webhook_url:
        recorded.append(_record(event=event, owner_fields=owner_fields, endpoint=None, url=conversion.webhook_url))
    return sum(1 for d in recorded if d is not None)


def conversion_event_handler(event_type: str):
    """The domain-event subscriber: inside the publisher's transaction, in a savepoint, never failing it."""
    def handle(*, conversion_id, **_ignored):
        try:
            with transaction.atomic():
                conversion_event_record(conversion_id=conversion_id, event_type=event_type)
        except Exception:  # noqa: BLE001 - a webhook never fails a conversion
            logger.exception("webhook event %s for conversion %s not recorded", event_type, conversion_id)
    handle.__name__ = f"webhooks_{event_type.replace('.', '_')}"
    return handle


@transaction.atomic
def batch_completed_check(*, batch_id) -> int:
    """After a job of a user's batch ended: when none is still active, batch.completed once per endpoint
    (the event id is the batch's, so two jobs ending together record it once)."""
    conversions = list(conversion_selectors.conversion_list_for_batch(batch_id=batch_id))
    if not conversions or any(c.status not in ENDED for c in conversions) or conversions[0].user is None:
        return 0
    user = conversions[0].user
    counts = {status: sum(1 for c in conversions if c.status == status) for status in ENDED}
    event = _event("batch.completed", str(batch_id), {"batch": {
        "id": str(batch_id), "total": len(conversions), **counts,
        "conversions": [_conversion_data(c) for c in conversions],
    }})
    recorded = [_record(event=event, owner_fields={"user": user}, endpoint=e, url=e.url)
                for e in _endpoints_for(user, "batch.completed")]
    return sum(1 for d in recorded if d is not None)


# --- sending -------------------------------------------------------------------------------------
def _enqueue(delivery_id, countdown: float = 0) -> None:
    # By name: tasks.py calls services (registered in every process by WebhooksConfig.ready()).
    # The queue is CELERY_TASK_ROUTES' ("remote": a slow receiver never holds a conversion worker).
    current_app.tasks["webhooks.tasks.webhook_delivery_task"].apply_async(
        args=[str(delivery_id)], countdown=countdown)


@transaction.atomic
def _claim(delivery_id, now) -> str:
    """Take one due attempt: an UPDATE that only one worker can win (a duplicate task does nothing).
    "claimed"; "not_due"; or "waiting" when the owner already has WEBHOOK_DELIVERIES_IN_FLIGHT_MAX
    attempts in flight: then the delivery is due again in WEBHOOK_DELIVERY_WAIT_SECONDS (not an attempt)."""
    due = WebhookDelivery.objects.filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING,
                                         next_attempt_at__lte=now)
    owner = due.values("user_id", "session_id").first()
    if owner is None:
        return "not_due"
    if owner["user_id"]:
        mine, key = Q(user_id=owner["user_id"]), f"user:{owner['user_id']}"
    else:
        mine, key = Q(session_id=owner["session_id"], user__isnull=True), f"session:{owner['session_id']}"
    serialise(f"webhook-deliveries:{key}")  # the count and the claim below are one step per owner
    in_flight = WebhookDelivery.objects.filter(mine, status=WebhookDelivery.Status.PENDING,
                                               leased_until__gt=now).count()
    if in_flight >= settings.WEBHOOK_DELIVERIES_IN_FLIGHT_MAX:
        wait = settings.WEBHOOK_DELIVERY_WAIT_SECONDS
        if due.update(next_attempt_at=now + timedelta(seconds=wait)):
            transaction.on_commit(lambda: _enqueue(delivery_id, countdown=wait), robust=True)  # or the beat sweep
        return "waiting"
    claimed = due.update(attempts=F("attempts") + 1, next_attempt_at=now + ATTEMPT_LEASE, last_attempt_at=now,
                         leased_until=now + ATTEMPT_LEASE)
    return "claimed" if claimed else "not_due"


def _owner_secret(delivery: WebhookDelivery) -> str:
    owner = Owner(user=delivery.user) if delivery.user_id else Owner(session=delivery.session)
    return webhook_secret_get(owner=owner).secret


def webhook_delivery_attempt(*, delivery_id) -> str:
    """One attempt if the delivery is due and its owner has a free slot: sign, POST, record; schedule the
    next one or give up. Returns the delivery's status, or "not_due" / "waiting"."""
    now = timezone.now()
    claim = _claim(delivery_id, now)
    if claim != "claimed":
        return claim
    delivery = WebhookDelivery.objects.select_related("endpoint", "user", "session").filter(pk=delivery_id).first()
    if delivery is None:  # its endpoint or owner was deleted meanwhile
        return "gone"
    code, error = None, ""
    if delivery.endpoint is not None and not delivery.endpoint.active:
        error = "endpoint disabled"
    else:
        body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "AncloraConverter-Webhook/2",
                   "Anclora-Event-Id": str(delivery.event_id), "Anclora-Event-Type": delivery.event_type,
                   signing.HEADER: signing.signature_header(_owner_secret(delivery), body)}
        try:
            response = transport.post(delivery.url, body, headers)
            code = response.status
            if not 200 <= code < 300:
                error = f"HTTP {code}: {response.excerpt}"
        except transport.AddressRefused as exc:
            error = f"refused: {exc}"
        except Exception as exc:  # noqa: BLE001 - any network failure is a failed attempt
            error = f"{type(exc).__name__}: {exc}"
    return _attempt_record(delivery, code=code, error=error)


def _attempt_record(delivery: WebhookDelivery, *, code: int | None, error: str) -> str:
    now = timezone.now()
    fields = {"last_response_code": code, "last_error": error[:300], "leased_until": None}
    if not error:
        fields.update(status=WebhookDelivery.Status.SUCCEEDED, next_attempt_at=None, delivered_at=now)
    elif delivery.attempts >= MAX_ATTEMPTS or error == "endpoint disabled":
        fields.update(status=WebhookDelivery.Status.FAILED, next_attempt_at=None)
    else:
        wait = BACKOFF_SECONDS[min(delivery.attempts, len(BACKOFF_SECONDS)) - 1]
        fields.update(next_attempt_at=now + timedelta(seconds=wait))
    WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDelivery.Status.PENDING).update(**fields)
    if fields.get("next_attempt_at"):  # the beat task picks it up too if this message is lost
        _enqueue(delivery.pk, countdown=wait)
    if error:
        logger.info("webhook %s attempt %d to %s failed: %s", delivery.pk, delivery.attempts, delivery.url, error)
    return fields.get("status", WebhookDelivery.Status.PENDING)


def webhook_deliveries_due(*, now=None) -> int:
    """Beat: enqueue every due delivery (lost tasks, early wake-ups, dead workers); prune old logs."""
    now = now or timezone.now()
    due = list(WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
               .values_list("pk", flat=True)[:500])
    for delivery_id in due:
        _enqueue(delivery_id)
    WebhookDelivery.objects.filter(created_at__lt=now - KEEP_DELIVERIES).exclude(
        status=WebhookDelivery.Status.PENDING).delete()
    return len(due)


@transaction.atomic
def webhook_delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """By hand: the same event (id and body) again to the same destination, as a new logged delivery."""
    if WebhookDelivery.objects.filter(redelivery_of=delivery, status=WebhookDelivery.Status.PENDING).exists():
        raise ApplicationError(_("Ya hay un reenvío de esta entrega en curso."), code="redelivery_pending",
                               status=409)
    again = WebhookDelivery.objects.create(
        user=delivery.user, session=delivery.session, endpoint=delivery.endpoint,
        url=delivery.endpoint.url if delivery.endpoint else delivery.url,
        event_type=delivery.event_type, event_id=delivery.event_id, payload=delivery.payload,
        next_attempt_at=timezone.now(), redelivery_of=delivery,
    )
    transaction.on_commit(lambda: _enqueue(again.pk))
    return again
