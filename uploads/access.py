"""Which resumable upload a caller may touch, how large the plan lets it be, and how many a caller may
keep open (tus and S3 alike)."""

from __future__ import annotations

import math

from django.conf import settings
from django.db.models import Count, Min, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.owners import Owner
from anclora.core.errors import ApplicationError
from anclora.core.locks import serialise
from conversions import services as conversion_services

from .models import ResumableUpload

MB = 1024 * 1024


def _not_found() -> ApplicationError:
    return ApplicationError(_("No existe esa subida."), code="not_found", status=404)


def upload_get_for_owner(*, owner: Owner | None, upload_id) -> ResumableUpload:
    """The caller's upload; anybody else's (or an unknown id) is 404, an expired one 410."""
    upload = None if owner is None else ResumableUpload.objects.filter(owner.filter(), pk=upload_id).first()
    if upload is None:
        raise _not_found()
    if upload.expires_at <= timezone.now():
        raise ApplicationError(_("La subida ha caducado."), code="upload_expired", status=410)
    return upload


def upload_length_check(*, owner: Owner, length: int, use_credit: bool = False, transaction_id=None) -> None:
    """413 before any byte for a length the plan (with this credit / payment) would refuse."""
    try:
        max_bytes = conversion_services.max_upload_bytes_for(owner=owner, use_credit=use_credit,
                                                             transaction_id=transaction_id)
    except (ValueError, TypeError):  # a transaction_id that is no UUID
        max_bytes = conversion_services.max_upload_bytes_for(owner=owner)
    if length > max_bytes:
        raise ApplicationError(
            _("El archivo supera el tamaño máximo de tu plan (%(mb)d MB).") % {"mb": max_bytes // MB},
            code="file_too_large", status=413, details={"Upload-Length": [str(length)]},
        )


def upload_slot_take(*, owner: Owner, address_key: str, length: int, field: str = "Upload-Length") -> None:
    """Refuse (429 with Retry-After, nothing reserved) a new upload past the caps on open uploads.

    Open: not yet converted (nor deleted) and not expired — unfinished ones and finished ones waiting
    for their conversion both hold their bytes. Per owner (user or anonymous session):
    UNFINISHED_UPLOADS_MAX uploads and UNFINISHED_UPLOADS_MAX_MB reserved (the sum of their
    Upload-Length); per client address (`address_key`, an `accounts.abuse.address_hash` stored on the
    row): UNFINISHED_UPLOADS_PER_ADDRESS_MAX and UNFINISHED_UPLOADS_PER_ADDRESS_MAX_MB.

    Call it inside the transaction that inserts the row. On PostgreSQL it first takes transaction-scoped
    advisory locks on the owner and on the address (always in that order), so parallel creations of one
    owner or address count one after the other and cannot all pass; SQLite runs every write
    transaction alone (IMMEDIATE)."""
    owner_key = f"user:{owner.user.pk}" if owner.user else f"session:{owner.session.pk}"
    for key in (owner_key, f"address:{address_key}"):
        serialise(f"upload-slot:{key}")
    now = timezone.now()
    open_uploads = ResumableUpload.objects.filter(expires_at__gt=now)
    checks = [(open_uploads.filter(owner.filter()), settings.UNFINISHED_UPLOADS_MAX,
               settings.UNFINISHED_UPLOADS_MAX_MB, "too_many_uploads")]
    if address_key:
        checks.append((open_uploads.filter(address_hash=address_key), settings.UNFINISHED_UPLOADS_PER_ADDRESS_MAX,
                       settings.UNFINISHED_UPLOADS_PER_ADDRESS_MAX_MB, "too_many_uploads_address"))
    for rows, max_count, max_mb, code in checks:
        held = rows.aggregate(count=Count("pk"), reserved=Sum("length"), oldest=Min("expires_at"))
        if held["count"] + 1 > max_count or (held["reserved"] or 0) + length > max_mb * MB:
            retry_after = 60 if held["oldest"] is None else \
                min(3600, max(1, math.ceil((held["oldest"] - now).total_seconds())))
            raise ApplicationError(
                _("Tienes demasiadas subidas abiertas (máximo %(count)d, %(mb)d MB en total). Termina o borra "
                  "alguna, o inténtalo de nuevo en %(s)d segundos.")
                % {"count": max_count, "mb": max_mb, "s": retry_after},
                code=code, status=429, details={"retry_after": retry_after, field: [str(length)]})
