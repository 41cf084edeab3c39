"""Resumable uploads straight to S3 (STORAGE=s3): presigned multipart uploads.

create (the server opens an S3 multipart upload and fixes the part size) → part URLs (presigned
`UploadPart` PUTs, owner-scoped) → the client PUTs the parts, in any order, again after a dropped
connection (`list` shows which parts S3 already has) → complete (the server completes the upload
from S3's own list of parts: every part but the last exactly `part_size`, the total exactly the
declared length — the client's word is not taken) → `POST /api/conversion/convert` with `upload_id`
hands the finished object to the worker (`imports.stored_upload_import_request`), which streams it
from the storage and runs the same checks, price and payment as any upload; the object is removed
once the worker has it. The bytes never pass through the web process.

Never completed uploads expire like tus ones: the beat task aborts them (S3 keeps the parts of an
open multipart upload, and bills them, until it is aborted) and also aborts multipart uploads under
our prefix that have no row any more (a crash between opening one and saving the row).
"""

from __future__ import annotations

import logging
import math
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.owners import Owner
from anclora.core.errors import ApplicationError
from storage.services import safe_filename

from .access import upload_get_for_owner, upload_length_check, upload_slot_take
from .models import ResumableUpload

logger = logging.getLogger(__name__)

MB = 1024 * 1024
PREFIX = "resumable/"
S3_MIN_PART = 5 * MB  # S3's own minimum for every part but the last
S3_MAX_PARTS = 10_000
MAX_URLS_PER_REQUEST = 100


def s3_storage_active() -> bool:
    try:
        from storages.backends.s3 import S3Storage
    except ImportError:  # pragma: no cover - django-storages is a runtime dependency
        return False
    return isinstance(default_storage, S3Storage)


def _require_s3() -> None:
    if not s3_storage_active():
        raise ApplicationError(_("Las subidas directas a S3 solo existen con STORAGE=s3; usa las subidas tus."),
                               code="s3_uploads_unavailable", status=409)


def _client():
    return default_storage.bucket.meta.client


def _presign_client():
    """The storage's client settings, signing with SigV4 (AWS refuses SigV2 in newer regions)."""
    from botocore.config import Config

    storage = default_storage
    return storage._create_session().client(
        "s3", region_name=storage.region_name, endpoint_url=storage.endpoint_url, use_ssl=storage.use_ssl,
        verify=storage.verify, config=storage.client_config.merge(Config(signature_version="s3v4")))


def _key(upload: ResumableUpload) -> str:
    return default_storage._normalize_name(upload.storage_name)


def part_size_for(length: int) -> int:
    size = max(settings.S3_UPLOAD_PART_MB * MB, S3_MIN_PART)
    return max(size, math.ceil(length / S3_MAX_PARTS))


def part_count(upload: ResumableUpload) -> int:
    return max(1, math.ceil(upload.length / upload.part_size))


def multipart_create(*, owner: Owner, filename: str, length: int, use_credit: bool = False,
                     transaction_id=None, address_key: str = "") -> ResumableUpload:
    """Refuse what the plan would refuse (413), and a caller past the caps on open uploads (429,
    `access.upload_slot_take`), before S3 sees anything; then open the upload."""
    _require_s3()
    if length < 1:
        raise ApplicationError(_("El archivo está vacío."), code="empty_file", details={"length": ["0"]})
    upload_length_check(owner=owner, length=length, use_credit=use_credit, transaction_id=transaction_id)
    upload = ResumableUpload(**owner.fields(), backend=ResumableUpload.Backend.S3,
                             filename=safe_filename(filename), length=length, part_size=part_size_for(length),
                             address_hash=address_key,
                             expires_at=timezone.now() + timedelta(hours=settings.RESUMABLE_UPLOAD_EXPIRE_HOURS))
    upload.storage_name = f"{PREFIX}{upload.pk.hex}"
    with transaction.atomic():
        upload_slot_take(owner=owner, address_key=address_key, length=length, field="length")
        upload.save()  # the row first: the orphan sweep spares every key that has one
    try:
        opened = _client().create_multipart_upload(Bucket=default_storage.bucket_name, Key=_key(upload),
                                                   ContentType="application/octet-stream")
    except Exception:
        ResumableUpload.objects.filter(pk=upload.pk).delete()
        raise
    upload.s3_upload_id = opened["UploadId"]
    upload.save(update_fields=["s3_upload_id", "updated_at"])
    return upload


def _s3_upload(upload: ResumableUpload) -> ResumableUpload:
    if upload.backend != ResumableUpload.Backend.S3:
        raise ApplicationError(_("Esta subida es tus: envía los bytes con PATCH."), code="upload_not_s3",
                               status=409)
    return upload


def multipart_part_urls(*, owner: Owner | None, upload_id, part_numbers: list[int]) -> list[dict]:
    """Presigned PUT URLs for these parts of the caller's upload (anybody else's: 404)."""
    upload = _s3_upload(upload_get_for_owner(owner=owner, upload_id=upload_id))
    if upload.completed_at is not None:
        raise ApplicationError(_("La subida ya está completa."), code="upload_complete", status=409)
    count = part_count(upload)
    wrong = sorted({n for n in part_numbers if not 1 <= n <= count})
    if not part_numbers or len(part_numbers) > MAX_URLS_PER_REQUEST or wrong:
        raise ApplicationError(
            _("Números de parte no válidos: entre 1 y %(n)d, como mucho %(max)d por petición.")
            % {"n": count, "max": MAX_URLS_PER_REQUEST},
            code="invalid_part_number", details={"part_numbers": [str(n) for n in wrong[:10]]})
    client, expire = _presign_client(), settings.S3_UPLOAD_URL_EXPIRE_SECONDS
    return [{"part_number": number, "method": "PUT", "size": _expected_size(upload, number),
             "url": client.generate_presigned_url(
                 "upload_part", ExpiresIn=expire, HttpMethod="PUT",
                 Params={"Bucket": default_storage.bucket_name, "Key": _key(upload),
                         "UploadId": upload.s3_upload_id, "PartNumber": number})}
            for number in sorted(set(part_numbers))]


def _expected_size(upload: ResumableUpload, number: int) -> int:
    if number < part_count(upload):
        return upload.part_size
    return upload.length - upload.part_size * (part_count(upload) - 1)


def _listed_parts(upload: ResumableUpload) -> list[dict]:
    client, parts, marker = _client(), [], 0
    while True:
        page = client.list_parts(Bucket=default_storage.bucket_name, Key=_key(upload),
                                 UploadId=upload.s3_upload_id, PartNumberMarker=marker)
        parts += [{"part_number": p["PartNumber"], "size": p["Size"], "etag": p["ETag"]}
                  for p in page.get("Parts", [])]
        if not page.get("IsTruncated"):
            return parts
        marker = page["NextPartNumberMarker"]


def multipart_parts(*, owner: Owner | None, upload_id) -> tuple[ResumableUpload, list[dict]]:
    """The upload and the parts S3 already holds (where to resume)."""
    upload = _s3_upload(upload_get_for_owner(owner=owner, upload_id=upload_id))
    if upload.completed_at is not None:
        return upload, []
    return upload, _listed_parts(upload)


def multipart_complete(*, owner: Owner | None, upload_id) -> ResumableUpload:
    """Complete from S3's list of parts; a missing or wrongly sized part is 409 and the upload stays open."""
    with transaction.atomic():
        upload = _s3_upload(upload_get_for_owner(owner=owner, upload_id=upload_id))
        upload = ResumableUpload.objects.select_for_update().get(pk=upload.pk)
        if upload.completed_at is not None:
            return upload
        parts = {p["part_number"]: p for p in _listed_parts(upload)}
        count = part_count(upload)
        missing = [n for n in range(1, count + 1) if n not in parts]
        wrong = [n for n, p in parts.items() if n > count or p["size"] != _expected_size(upload, n)]
        if missing or wrong:
            raise ApplicationError(
                _("Faltan partes o alguna no tiene el tamaño esperado; vuelve a enviarlas."),
                code="upload_parts_invalid", status=409,
                details={"missing": [str(n) for n in missing[:50]], "wrong_size": [str(n) for n in wrong[:50]]})
        _client().complete_multipart_upload(
            Bucket=default_storage.bucket_name, Key=_key(upload), UploadId=upload.s3_upload_id,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": parts[n]["etag"]} for n in range(1, count + 1)]})
        upload.offset = upload.length
        upload.completed_at = timezone.now()
        upload.save(update_fields=["offset", "completed_at", "updated_at"])
    return upload


def _abort(upload: ResumableUpload) -> None:
    if not upload.s3_upload_id:  # the process died before S3 answered: the orphan sweep finds it
        return
    client = _client()
    try:
        client.abort_multipart_upload(Bucket=default_storage.bucket_name, Key=_key(upload),
                                      UploadId=upload.s3_upload_id)
    except client.exceptions.NoSuchUpload:
        pass


def multipart_discard(upload: ResumableUpload) -> None:
    """Abort the open multipart upload, or remove the completed object."""
    if upload.completed_at is None:
        _abort(upload)
    else:
        default_storage.delete(upload.storage_name)


def multipart_abort_orphans() -> int:
    """Open multipart uploads under our prefix whose key has no row: abort them.

    A row is saved (committed) before its multipart upload is opened and deleted only after it was
    aborted or completed, so a key without a row is one the process died on (or a row deleted by
    hand): no race with an upload being opened."""
    if not s3_storage_active():
        return 0
    client, prefix = _client(), default_storage._normalize_name(PREFIX)
    live = {default_storage._normalize_name(name) for name in ResumableUpload.objects.filter(
        backend=ResumableUpload.Backend.S3).values_list("storage_name", flat=True)}
    aborted = 0
    for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=default_storage.bucket_name,
                                                                       Prefix=prefix):
        for item in page.get("Uploads", []):
            if item["Key"] in live:
                continue
            client.abort_multipart_upload(Bucket=default_storage.bucket_name, Key=item["Key"],
                                          UploadId=item["UploadId"])
            aborted += 1
    if aborted:
        logger.info("s3 multipart: %d orphaned uploads aborted", aborted)
    return aborted
