"""Idempotency-Key: claim a (caller, key) row first, do the work once, answer the stored response after.

- same key, same request → the stored status and JSON, without doing the work again;
- same key, another request → 409 ``idempotency_conflict``;
- same key while the first is still running → 409 ``idempotency_in_progress`` (Retry-After 1);
- a failed request (4xx/5xx) stores nothing: the claim is released and the client may retry;
- keys live IDEMPOTENCY_TTL (24 h); a claim left running by a crashed process for
  IDEMPOTENCY_STALE_CLAIM is taken over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from anclora.core.errors import ApplicationError

from .models import IdempotencyRecord

IDEMPOTENCY_TTL = timedelta(hours=24)
IDEMPOTENCY_STALE_CLAIM = timedelta(minutes=15)


@dataclass(frozen=True)
class Claim:
    record: IdempotencyRecord
    replay: bool  # True: answer record.response_* instead of doing the work


def idempotency_claim(*, owner_key: str, key: str, request_hash: str) -> Claim:
    for _attempt in range(5):
        now = timezone.now()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(owner_key=owner_key, key=key, request_hash=request_hash,
                                                          created=now)
            return Claim(record=record, replay=False)
        except IntegrityError:
            pass
        existing = IdempotencyRecord.objects.filter(owner_key=owner_key, key=key).first()
        if existing is None:
            continue  # released in between: claim again
        stale = existing.status == IdempotencyRecord.Status.PROCESSING and \
            existing.created < now - IDEMPOTENCY_STALE_CLAIM
        if existing.created < now - IDEMPOTENCY_TTL or stale:
            IdempotencyRecord.objects.filter(pk=existing.pk, created=existing.created).delete()
            continue
        if existing.request_hash != request_hash:
            raise ApplicationError(
                _("Esta Idempotency-Key ya se usó con otra petición; usa una clave nueva para una petición "
                  "distinta."), code="idempotency_conflict", status=409)
        if existing.status == IdempotencyRecord.Status.PROCESSING:
            break
        return Claim(record=existing, replay=True)
    raise ApplicationError(
        _("Ya hay una petición en curso con esta Idempotency-Key; repítela en un momento."),
        code="idempotency_in_progress", status=409, details={"retry_after": 1})


def idempotency_complete(*, record: IdempotencyRecord, response_status: int, response_json) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        status=IdempotencyRecord.Status.COMPLETED, response_status=response_status, response_json=response_json)


def idempotency_release(*, record: IdempotencyRecord) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk, status=IdempotencyRecord.Status.PROCESSING).delete()


def idempotency_records_purge() -> int:
    """Forget keys older than IDEMPOTENCY_TTL (beat, daily)."""
    deleted, _counts = IdempotencyRecord.objects.filter(created__lt=timezone.now() - IDEMPOTENCY_TTL).delete()
    return deleted
