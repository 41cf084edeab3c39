"""Import from a URL: the request creates the job, the worker downloads and then it is an upload.

Payment is decided when the download has finished (the size is unknown before): the request
checks only what it can (target, quality, webhook, URL syntax); the worker then runs the same
checks as a multipart upload (`conversions.services._inspect`: plan size limit, magic bytes,
supported pair) and the same authorizer (allowance, credit, payment). A refusal there — 402
included — fails the job with the message the upload would have got, and nothing is consumed.

While the download runs the job is `pending` with `options["import"] == "fetching"` and a
placeholder source row (no bytes, already marked deleted so nothing retries or serves it).

Those rows are the URL imports in flight: an owner may have URL_IMPORTS_IN_FLIGHT_MAX of them and a
client address URL_IMPORTS_IN_FLIGHT_PER_ADDRESS_MAX (``options["address_key"]``, an HMAC of the address
bucket); past either cap the request is a 429 with Retry-After and nothing is created. Counted from the
database, so a job that ends in any way (downloaded, failed, cancelled, reaped as stale) frees its slot.
"""

from __future__ import annotations

import logging
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.abuse import UNKNOWN as UNKNOWN_ADDRESS
from accounts.abuse import address_hash
from accounts.owners import Owner
from anclora.core.errors import ApplicationError
from anclora.core.locks import serialise
from conversions import services as conversion_services
from conversions.authorization import PlannedConversion, get_authorizer
from conversions.catalog import conversion_type
from conversions.models import Conversion
from conversions.webhooks import webhook_url_allowed
from storage import services as storage_services
from storage.models import StoredFile

from .fetch import FetchError, fetch_to_file, filename_from, url_syntax_check

logger = logging.getLogger(__name__)

# By name (tasks.py imports this module; UploadsConfig.ready() registers the task in every process).
URL_IMPORT_TASK = "uploads.tasks.url_import_run"

FETCHING = "fetching"
FETCHED = "fetched"


def conversion_is_fetching(conversion: Conversion) -> bool:
    return (conversion.options or {}).get("import") == FETCHING


def _validated(target_format: str, quality: str, webhook_url: str, options: dict | None) -> tuple[str, str, dict]:
    """Target, quality and the per-pair options as asked (checked against every pair to the target:
    the source is known only after the download; the pair's own check runs then)."""
    target = conversion_services._validate_target(target_format)
    quality = conversion_services._validate_quality(quality)
    if webhook_url and not webhook_url_allowed(webhook_url):
        raise ApplicationError(_("webhook_url debe ser una URL http(s) pública."), code="invalid_webhook_url",
                               details={"webhook_url": [_("Solo se admiten direcciones http(s) públicas.")]})
    conversion_services.conversion_options_precheck(target=target, options=options)
    return target, quality, dict(options or {})


def url_import_request(*, owner: Owner, source_url: str, target_format: str, quality: str = "standard",
                       use_credit: bool = False, transaction_id=None, webhook_url: str = "",
                       options: dict | None = None) -> list[Conversion]:
    """Create the job (pending, fetching) and enqueue the download on commit."""
    target, quality, requested = _validated(target_format, quality, webhook_url, options)
    try:
        url_syntax_check(source_url)
    except FetchError as exc:
        raise ApplicationError(exc.message, code=exc.code, details={"source_url": [exc.message]}) from exc
    name = storage_services.safe_filename(filename_from(source_url, None))
    address_key = _address_key(owner)
    return _import_job_create(owner=owner, name=name, target=target, quality=quality, webhook_url=webhook_url,
                              options={"source_url": source_url, "use_credit": bool(use_credit),
                                       "transaction_id": str(transaction_id) if transaction_id else None,
                                       **({"address_key": address_key} if address_key else {})},
                              requested=requested, in_flight_check=True)


def _address_key(owner: Owner) -> str | None:
    """The owner's client address as counted for imports in flight: an HMAC, never the address itself."""
    if not owner.address or owner.address == UNKNOWN_ADDRESS:
        return None
    return address_hash(owner.address, "url-import")[:32]


def url_imports_in_flight(*, owner: Owner | None = None, address_key: str | None = None) -> int:
    """URL imports not yet downloaded (pending, fetching) of an owner or of a client address."""
    rows = Conversion.objects.filter(status=Conversion.Status.PENDING, options__import=FETCHING,
                                     options__has_key="source_url")
    rows = rows.filter(owner.filter()) if owner is not None else rows.filter(options__address_key=address_key)
    return rows.count()


def _in_flight_check(*, owner: Owner, address_key: str | None) -> None:
    """429 (with Retry-After) when the owner, or the client address, already has its cap of imports
    downloading. Runs in the transaction that inserts the job, under a lock per owner and per address
    (always taken in that order), so parallel requests cannot all pass."""
    owner_key = f"user:{owner.user.pk}" if owner.user else f"session:{owner.session.pk}"
    serialise(f"url-import:{owner_key}")
    if address_key:
        serialise(f"url-import:address:{address_key}")
    limit, per_address = settings.URL_IMPORTS_IN_FLIGHT_MAX, settings.URL_IMPORTS_IN_FLIGHT_PER_ADDRESS_MAX
    over = url_imports_in_flight(owner=owner) >= limit
    if not over and address_key:
        over = url_imports_in_flight(address_key=address_key) >= per_address
        limit = per_address
    if over:
        retry_after = max(1, min(settings.URL_IMPORT_TIMEOUT, 30))
        message = _("Ya hay %(n)d importaciones desde URL en curso; espera a que terminen e inténtalo de nuevo "
                    "en %(s)d segundos.") % {"n": limit, "s": retry_after}
        raise ApplicationError(message, code="too_many_imports", status=429,
                               details={"retry_after": retry_after, "source_url": [message]})


def stored_upload_import_request(*, owner: Owner, upload, target_format: str, quality: str = "standard",
                                 use_credit: bool = False, transaction_id=None,
                                 webhook_url: str = "", options: dict | None = None) -> list[Conversion]:
    """A finished S3 multipart upload (`uploads.ResumableUpload`, locked by the caller): the job is
    created like a URL import and the worker takes the object from the storage. The upload row goes
    now (it cannot be converted twice); the object goes once the worker has it."""
    target, quality, requested = _validated(target_format, quality, webhook_url, options)
    conversions = _import_job_create(
        owner=owner, name=upload.filename, target=target, quality=quality, webhook_url=webhook_url,
        options={"upload_storage_name": upload.storage_name, "use_credit": bool(use_credit),
                 "transaction_id": str(transaction_id) if transaction_id else None},
        requested=requested)
    type(upload).objects.filter(pk=upload.pk).delete()
    return conversions


def _import_job_create(*, owner: Owner, name: str, target: str, quality: str, webhook_url: str,
                       options: dict, requested: dict, in_flight_check: bool = False) -> list[Conversion]:
    """``options``: the job's import bookkeeping; ``requested``: the per-pair options as asked;
    ``in_flight_check``: the caps on URL imports in flight (429 past them, nothing created)."""
    if requested:
        options = {**options, "requested_options": requested}
    now = timezone.now()
    with transaction.atomic():
        if in_flight_check:
            _in_flight_check(owner=owner, address_key=options.get("address_key"))
        placeholder = StoredFile.objects.create(
            **owner.fields(), kind=StoredFile.Kind.ORIGINAL, storage_name=f"url-import/{uuid.uuid4().hex}",
            original_filename=name, file_format="", size=0, content_type="", checksum="",
            expires_at=now + storage_services.retention_for(owner), is_deleted=True, deleted_at=now,
        )
        conversion = Conversion.objects.create(
            **owner.fields(), batch_id=uuid.uuid4(), source=placeholder, original_format="",
            target_format=target, conversion_type="", quality=quality, webhook_url=webhook_url or "",
            options={"import": FETCHING, **options},
        )
        address = owner.address
        transaction.on_commit(lambda: url_import_enqueue(conversion_id=conversion.pk, address=address))
    return [conversion]


def url_import_enqueue(*, conversion_id, address: str | None = None) -> None:
    # The client address only travels in the task message (billing bounds anonymous use per address).
    # The queue is CELERY_TASK_ROUTES' ("remote": downloads never hold a conversion worker).
    current_app.tasks[URL_IMPORT_TASK].apply_async(args=[str(conversion_id)], kwargs={"address": address})


def url_import_execute(*, conversion_id, address: str | None = None) -> str:
    """Download, check, authorize, then hand the job to the normal pipeline. Returns the status."""
    conversion = (Conversion.objects.select_related("user", "session", "source")
                  .filter(pk=conversion_id).first())
    stored_name = ((conversion.options or {}) if conversion else {}).get("upload_storage_name")
    try:
        return _execute(conversion, address)
    finally:
        if stored_name:  # handed over (copied into the storage layout), failed or cancelled: not needed
            _stored_upload_discard(stored_name)


def _stored_upload_discard(name: str) -> None:
    try:
        default_storage.delete(name)
    except Exception:
        logger.exception("finished upload %s could not be removed", name)


def _fetch_stored(name: str, destination: Path, *, max_bytes: int) -> int:
    """Stream a finished S3 upload to the worker's disk (cut at the plan's limit)."""
    size = 0
    try:
        with default_storage.open(name, "rb") as src, open(destination, "wb") as dst:
            while chunk := src.read(1024 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise ApplicationError(
                        _("El archivo supera el tamaño máximo de tu plan (%(mb)d MB).")
                        % {"mb": max_bytes // (1024 * 1024)}, code="file_too_large", status=413)
                dst.write(chunk)
    except (FileNotFoundError, OSError) as exc:
        raise ApplicationError(_("La subida terminada ya no está disponible."), code="upload_missing") from exc
    return size


def _execute(conversion, address) -> str:
    if conversion is None or conversion.status != Conversion.Status.PENDING or not conversion_is_fetching(conversion):
        return "skipped"
    conversion_id = conversion.pk
    options = conversion.options
    owner = Owner(user=conversion.user, session=conversion.session if conversion.user is None else None,
                  address=address)
    use_credit, transaction_id = options.get("use_credit", False), options.get("transaction_id")
    with tempfile.TemporaryDirectory(prefix="anclora-import-") as workdir:
        try:
            max_bytes = conversion_services.max_upload_bytes_for(owner=owner, use_credit=use_credit,
                                                                 transaction_id=transaction_id)
            destination = Path(workdir) / "download"
            if options.get("upload_storage_name"):
                size = _fetch_stored(options["upload_storage_name"], destination, max_bytes=max_bytes)
                name = conversion.source.original_filename
            else:
                fetched = fetch_to_file(options["source_url"], destination, max_bytes=max_bytes)
                name, size = storage_services.safe_filename(fetched.filename), fetched.size
            upload = conversion_services.Upload(path=destination, name=name, size=size)
            # The pair is known now: its own option schema and the output caps its options ask for (a
            # refusal fails the job, nothing consumed).
            source, params = conversion_services.conversion_source_check(
                upload=upload, target=conversion.target_format, quality=conversion.quality, max_bytes=max_bytes,
                options=options.get("requested_options"))
            return _hand_over(conversion=conversion, owner=owner, upload=upload, source=source,
                              use_credit=use_credit, transaction_id=transaction_id, params=params)
        except (FetchError, ApplicationError) as exc:
            logger.info("url import %s failed: %s", conversion_id, exc.code)
            return conversion_services.conversion_fail(conversion_id=conversion_id, code=exc.code,
                                                       message=exc.message, params=getattr(exc, "params", None))


def _hand_over(*, conversion, owner, upload, source, use_credit, transaction_id, params: dict) -> str:
    planned = [PlannedConversion(source_format=source, target_format=conversion.target_format,
                                 size_bytes=upload.size, quality=conversion.quality, name=upload.name)]
    with transaction.atomic():
        locked = Conversion.objects.select_for_update().get(pk=conversion.pk)
        if locked.status != Conversion.Status.PENDING or not conversion_is_fetching(locked):
            return locked.status  # cancelled while downloading: nothing consumed, nothing stored
        auth = get_authorizer().authorize(owner=owner, planned=planned, use_credit=use_credit,
                                          transaction_id=transaction_id)
        stored = storage_services.stored_file_create(
            owner=owner, path=upload.path, kind=StoredFile.Kind.ORIGINAL, original_filename=upload.name,
            file_format=source, content_type=conversion_services.CONTENT_TYPES[source],
        )
        placeholder_id = locked.source_id
        locked.source = stored
        locked.original_format = source
        locked.conversion_type = conversion_type(source, locked.target_format)
        locked.paid_by = auth.paid_by
        locked.priority = auth.priority
        locked.options = {**locked.options, "import": FETCHED, **({"params": params} if params else {})}
        locked.save(update_fields=["source", "original_format", "conversion_type", "paid_by", "priority",
                                   "options", "updated_at"])
        auth.attach([locked])
        StoredFile.objects.filter(pk=placeholder_id, size=0, is_deleted=True).delete()
        transaction.on_commit(lambda: conversion_services.conversion_enqueue(conversion=locked))
    return Conversion.Status.PENDING


def url_imports_fail_stale(*, now=None) -> int:
    """Downloads whose worker vanished (the task has its own time limit): fail them."""
    now = now or timezone.now()
    limit = timedelta(seconds=settings.URL_IMPORT_TIMEOUT + settings.CELERY_TASK_TIME_LIMIT + 300)
    stale = Conversion.objects.filter(status=Conversion.Status.PENDING, options__import=FETCHING,
                                      created_at__lt=now - limit)
    failed = 0
    for conversion_id, options in stale.values_list("pk", "options"):
        conversion_services.conversion_fail(conversion_id=conversion_id, code="source_timeout",
                                            message=_("La descarga de la URL de origen tardó demasiado."))
        if options.get("upload_storage_name"):
            _stored_upload_discard(options["upload_storage_name"])
        failed += 1
    return failed
