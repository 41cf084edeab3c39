"""Resumable uploads (tus 1.0: core, creation, expiration, termination) on local disk.

The bytes of an unfinished upload live under RESUMABLE_UPLOAD_DIR (default MEDIA_ROOT/resumable,
outside the storage layout the orphan sweep walks). That directory must be shared by every web
process (one host, or a shared volume): with STORAGE=s3 the finished file is still stored in S3
by `conversion_request`, but the chunks are assembled locally — unless the client uses the S3
multipart uploads of `s3multipart` (same model, `backend="s3"`, the bytes go straight to S3).
A finished tus upload becomes a conversion through `conversions.services.conversion_request` —
the same checks, price and payment as a multipart upload — and its bytes are removed once stored;
a finished S3 upload is handed to the worker (`imports.stored_upload_import_request`).
"""

from __future__ import annotations

import base64
import binascii
import logging
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.owners import Owner
from anclora.core.errors import ApplicationError
from conversions import services as conversion_services
from storage.services import safe_filename

from .access import upload_get_for_owner, upload_length_check
from .imports import stored_upload_import_request
from .models import ResumableUpload
from .s3multipart import multipart_discard

logger = logging.getLogger(__name__)

TUS_VERSION = "1.0.0"
MB = 1024 * 1024
READ_SIZE = 256 * 1024


def upload_dir() -> Path:
    directory = Path(settings.RESUMABLE_UPLOAD_DIR or Path(settings.MEDIA_ROOT) / "resumable")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def parse_metadata(header: str) -> dict[str, str]:
    """Upload-Metadata: comma-separated `key base64value` pairs (value optional)."""
    metadata: dict[str, str] = {}
    for pair in filter(None, (part.strip() for part in (header or "").split(","))):
        key, _sep, value = pair.partition(" ")
        try:
            metadata[key[:64]] = base64.b64decode(value.strip(), validate=True).decode("utf-8") if value else ""
        except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
            raise ApplicationError(_("Upload-Metadata no es válido."), code="invalid_upload_metadata",
                                   details={"Upload-Metadata": [key[:64]]}) from exc
    return metadata


def upload_create(*, owner: Owner, length: int, metadata: dict[str, str]) -> ResumableUpload:
    """Refuse what the plan would refuse before accepting a byte (413); then an empty upload."""
    upload_length_check(owner=owner, length=length,
                        use_credit=metadata.get("use_credit", "").lower() in ("1", "true", "yes"),
                        transaction_id=metadata.get("transaction_id") or None)
    upload = ResumableUpload(**owner.fields(), filename=safe_filename(metadata.get("filename", "")),
                             length=length, expires_at=timezone.now()
                             + timedelta(hours=settings.RESUMABLE_UPLOAD_EXPIRE_HOURS))
    upload.path = str(upload_dir() / f"{upload.pk.hex}.part")
    Path(upload.path).touch()
    upload.save()
    return upload


def upload_append(*, owner: Owner | None, upload_id, offset: int, stream,
                  content_length: int | None) -> ResumableUpload:
    """Append one PATCH body at `offset` (must equal the stored offset: else 409).

    Whatever arrives before a dropped connection is kept, so the client resumes from the offset
    HEAD reports. A body that would go beyond Upload-Length, or beyond RESUMABLE_UPLOAD_CHUNK_MAX_MB,
    is refused whole (413)."""
    with transaction.atomic():
        upload = upload_get_for_owner(owner=owner, upload_id=upload_id)
        upload = ResumableUpload.objects.select_for_update().get(pk=upload.pk)
        if upload.backend != ResumableUpload.Backend.TUS:
            raise ApplicationError(_("Esta subida va directa a S3: envía las partes a sus URL firmadas."),
                                   code="upload_not_tus", status=409)
        if offset != upload.offset:
            raise ApplicationError(_("Upload-Offset no coincide con los bytes ya recibidos."),
                                   code="offset_mismatch", status=409,
                                   details={"Upload-Offset": [str(upload.offset)]})
        room = min(upload.length - upload.offset, settings.RESUMABLE_UPLOAD_CHUNK_MAX_MB * MB)
        if content_length is not None and content_length > room:
            raise ApplicationError(_("El fragmento supera el tamaño declarado de la subida."),
                                   code="chunk_too_large", status=413,
                                   details={"Upload-Length": [str(upload.length)]})
        received = 0
        too_large = False
        with open(upload.path, "r+b") as out:
            out.seek(upload.offset)
            out.truncate()
            try:
                while True:
                    chunk = stream.read(READ_SIZE)
                    if not chunk:
                        break
                    if received + len(chunk) > room:
                        too_large = True
                        break
                    out.write(chunk)
                    received += len(chunk)
            except OSError as exc:  # the client went away: keep what arrived
                logger.info("upload %s: connection lost after %d bytes (%s)", upload.pk, received, exc)
            if too_large:
                out.seek(upload.offset)
                out.truncate()
                received = 0
        upload.offset += received
        if upload.is_complete and upload.completed_at is None:
            upload.completed_at = timezone.now()
        upload.save(update_fields=["offset", "completed_at", "updated_at"])
    if too_large:
        raise ApplicationError(_("El fragmento supera el tamaño declarado de la subida."),
                               code="chunk_too_large", status=413,
                               details={"Upload-Length": [str(upload.length)]})
    return upload


def upload_delete(*, owner: Owner | None, upload_id) -> None:
    upload = upload_get_for_owner(owner=owner, upload_id=upload_id)
    _remove(upload)


def _remove(upload: ResumableUpload) -> None:
    if upload.backend == ResumableUpload.Backend.S3:
        multipart_discard(upload)
    else:
        Path(upload.path).unlink(missing_ok=True)
    ResumableUpload.objects.filter(pk=upload.pk).delete()


def upload_conversion_request(*, owner: Owner, upload_id, target_format: str, quality: str = "standard",
                              use_credit: bool = False, transaction_id=None, webhook_url: str = "",
                              options: dict | None = None):
    """A finished upload becomes a conversion exactly as a multipart upload would (per-pair ``options``
    included)."""
    with transaction.atomic():
        upload = upload_get_for_owner(owner=owner, upload_id=upload_id)
        upload = ResumableUpload.objects.select_for_update().get(pk=upload.pk)
        if not upload.is_complete:
            raise ApplicationError(_("La subida aún no está completa."), code="upload_incomplete", status=409,
                                   details={"upload_id": [f"{upload.offset}/{upload.length}"]})
        if upload.backend == ResumableUpload.Backend.S3:
            return stored_upload_import_request(
                owner=owner, upload=upload, target_format=target_format, quality=quality,
                use_credit=use_credit, transaction_id=transaction_id, webhook_url=webhook_url, options=options)
        conversions = conversion_services.conversion_request(
            owner=owner,
            uploads=[conversion_services.Upload(path=Path(upload.path), name=upload.filename, size=upload.length)],
            target_format=target_format, quality=quality, use_credit=use_credit,
            transaction_id=transaction_id, webhook_url=webhook_url, options=options,
        )
        path = upload.path
        ResumableUpload.objects.filter(pk=upload.pk).delete()
        transaction.on_commit(lambda: Path(path).unlink(missing_ok=True))
    return conversions


def uploads_delete_expired(*, now=None) -> int:
    """Uploads never finished (or finished and never converted) past their expiry: bytes and row."""
    now = now or timezone.now()
    removed = 0
    for upload in ResumableUpload.objects.filter(expires_at__lte=now).iterator():
        try:
            _remove(upload)
        except Exception:  # the storage is down: the row stays for the next run
            logger.exception("resumable upload %s: removing the expired bytes failed", upload.pk)
            continue
        removed += 1
    if removed:
        logger.info("resumable uploads: %d expired removed", removed)
    return removed
