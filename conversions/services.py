"""Conversion jobs: request (validate, store, enqueue), execute (claim, convert, store), cancel."""

from __future__ import annotations

import logging
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.owners import Owner
from anclora.core import events
from anclora.core.errors import ApplicationError
from storage import services as storage_services
from storage.models import StoredFile
from storage.selectors import stored_file_is_available

from . import catalog
from .authorization import PlannedConversion, get_authorizer
from .catalog import CONTENT_TYPES, QUALITY_NAMES, canonical, category_of, conversion_type
from .detection import check_upload, detect_format, text_to_utf8
from .engines.base import ConvertOptions, EngineError, OutputCapExceeded
from .engines.output_caps import check_requested_output
from .engines.registry import default_registry
from .models import Conversion
from .queue import conversion_enqueue
from .webhooks import webhook_url_allowed

logger = logging.getLogger(__name__)

MB = 1024 * 1024
MAX_ATTEMPTS = 3
# Codes of detection failures that mean "the content is not what it claims / not convertible".
UNSUPPORTED_MEDIA_CODES = {"content_mismatch", "unsupported_content", "zip_bomb", "unsafe_archive",
                           "encrypted_archive", "unsafe_input"}


@dataclass(frozen=True)
class Upload:
    """One uploaded file as the web layer received it (already on local disk)."""

    path: Path
    name: str
    size: int


def max_upload_bytes_for(*, owner: Owner, use_credit: bool = False, transaction_id=None) -> int:
    """The largest file this caller may send."""
    limits = get_authorizer().limits(owner=owner, use_credit=use_credit, transaction_id=transaction_id)
    return limits.max_size_mb * MB


def _validate_target(target_format: str) -> str:
    target = canonical(target_format)
    if target is None:
        raise ApplicationError(_("Formato de destino no soportado."), code="unsupported_format",
                               details={"target_format": [_("Formato de destino no soportado.")]})
    return target


def _validate_quality(quality: str) -> str:
    if quality not in QUALITY_NAMES:
        raise ApplicationError(_("Calidad no válida."), code="invalid_quality",
                               details={"quality": [f"{', '.join(QUALITY_NAMES)}"]})
    return quality


def _options_checked(check, options: dict | None) -> dict:
    if options is not None and not isinstance(options, dict):
        raise ApplicationError(_("options debe ser un objeto JSON."), code="invalid_option",
                               details={"options": [_("Debe ser un objeto JSON.")]})
    try:
        return check(options)
    except catalog.OptionError as exc:
        message = _(exc.message) % exc.params if exc.params else _(exc.message)
        raise ApplicationError(f"{exc.name}: {message}", code="invalid_option",
                               details={"options": {exc.name: [message]}}) from exc


def conversion_options_validate(*, source: str, target: str, options: dict | None) -> dict:
    """The pair's options checked against the catalogue's schema (400 naming the bad option)."""
    return _options_checked(lambda raw: catalog.validate_options(source, target, raw), options)


def conversion_options_precheck(*, target: str, options: dict | None) -> dict:
    """Options asked before the source is known (URL import, finished S3 upload): 400 naming the bad
    option unless some pair to ``target`` takes them; ``conversion_options_validate`` follows once the
    content is known."""
    return _options_checked(lambda raw: catalog.validate_options_for_target(target, raw), options)


def _check_requested_output(upload: Upload, source: str, target: str, params: dict, quality: str) -> None:
    """The pixel caps on what the options ask for (frames × width × height, pages × DPI), from the file's
    header, before anything is charged or stored: a 400 naming the options (the engine checks again)."""
    try:
        check_requested_output(upload.path, source, target, params, quality)
    except OutputCapExceeded as exc:
        message = _("Estas opciones piden %(mpx)d megapíxeles en %(count)d imágenes, fotogramas o páginas; el "
                    "máximo es %(max)d: reduce el tamaño, la resolución o la duración.") % {
            "mpx": exc.total // 1_000_000, "count": exc.count, "max": exc.cap // 1_000_000}
        names = getattr(exc, "options", None) or ["options"]
        raise ApplicationError(f"{', '.join(names)}: {message}", code="output_too_large",
                               details={"options": {name: [message] for name in names}}) from exc


def conversion_source_check(*, upload: Upload, target: str, quality: str, max_bytes: int,
                            options: dict | None) -> tuple[str, dict]:
    """What a source that arrived after the job was created (a URL import, a finished S3 upload) must pass,
    as a file sent with the request does: its format from the content (413/415/400), the pair's own option
    schema, and the caps on the output those options ask for. Returns (source format, the pair's options)."""
    source = _inspect(upload, target, max_bytes)
    params = conversion_options_validate(source=source, target=target, options=options)
    _check_requested_output(upload, source, target, params, quality)
    return source, params


def _inspect(upload: Upload, target: str, max_bytes: int) -> str:
    """The source format from the content; raises 413/415/400 ApplicationErrors."""
    _check_size(upload.size, max_bytes, upload.name)
    claimed = canonical(Path(upload.name).suffix) or canonical(target)
    try:
        if canonical(Path(upload.name).suffix) is None:
            detected = detect_format(upload.path)
            if detected is None:
                raise EngineError(code="unsupported_content",
                                  message=_("No se reconoce el contenido del archivo"))
            suffix = Path(upload.name).suffix.lower()
            if detected == "txt" and suffix not in ("", ".text", ".log"):
                # Text under a name outside the catalogue (.json, .xml, .py …): converting its source
                # as plain text would be a silent wrong result. (.md, .csv, .html and .svg are formats.)
                raise EngineError(code="unsupported_format",
                                  message=_("El formato %(ext)s no está soportado.") % {"ext": suffix})
            claimed = detected
        source = check_upload(upload.path, claimed)
    except EngineError as exc:
        status = 415 if exc.code in UNSUPPORTED_MEDIA_CODES else 400
        raise ApplicationError(f"{upload.name}: {exc.message}", code=exc.code, status=status,
                               details={"file": [upload.name]}) from exc
    _check_pair(source, target)
    return source


def _check_size(size: int, max_bytes: int, name: str) -> None:
    if size > max_bytes:
        raise ApplicationError(
            _("El archivo supera el tamaño máximo de tu plan (%(mb)d MB).") % {"mb": max_bytes // MB},
            code="file_too_large", status=413, details={"file": [name]},
        )


def _check_pair(source: str, target: str) -> None:
    if source == target:
        raise ApplicationError(_("El archivo ya está en ese formato."), code="same_format",
                               details={"target_format": [target]})
    if not catalog.pair_supported(source, target):
        raise ApplicationError(
            _("No se puede convertir de %(src)s a %(dst)s.") % {"src": source, "dst": target},
            code="unsupported_pair", details={"target_format": [f"{source}->{target}"]},
        )


def conversion_request(
    *,
    owner: Owner,
    uploads: list[Upload],
    target_format: str,
    quality: str = "standard",
    use_credit: bool = False,
    transaction_id=None,
    webhook_url: str = "",
    options: dict | None = None,
    target_formats: list[str] | None = None,
) -> list[Conversion]:
    """Validate every file first (nothing is stored if one is refused), then store and enqueue.

    ``options``: per-pair options (``catalog.options``), checked for each file's pair.
    ``target_formats``: one target per upload, in order (a batch whose files go to different
    formats); without it every file goes to ``target_format``.
    """
    if not uploads:
        raise ApplicationError(_("No se ha enviado ningún archivo."), code="no_file",
                               details={"file": [_("Este campo es obligatorio.")]})
    if target_formats and len(target_formats) != len(uploads):
        message = _("Indica un formato de destino por archivo (%(n)d archivos).") % {"n": len(uploads)}
        raise ApplicationError(message, code="invalid_target_formats", details={"target_formats": [message]})
    targets = [_validate_target(fmt) for fmt in (target_formats or [target_format] * len(uploads))]
    quality = _validate_quality(quality)
    if webhook_url and not webhook_url_allowed(webhook_url):
        raise ApplicationError(_("webhook_url debe ser una URL http(s) pública."), code="invalid_webhook_url",
                               details={"webhook_url": [_("Solo se admiten direcciones http(s) públicas.")]})
    authorizer = get_authorizer()
    max_bytes = max_upload_bytes_for(owner=owner, use_credit=use_credit, transaction_id=transaction_id)
    sources = [_inspect(upload, target, max_bytes) for upload, target in zip(uploads, targets, strict=True)]
    params = [conversion_options_validate(source=source, target=target, options=options)
              for source, target in zip(sources, targets, strict=True)]
    for upload, source, target, pair_params in zip(uploads, sources, targets, params, strict=True):
        _check_requested_output(upload, source, target, pair_params, quality)
    planned = [PlannedConversion(source_format=source, target_format=target, size_bytes=upload.size,
                                 quality=quality, name=upload.name)
               for upload, source, target in zip(uploads, sources, targets, strict=True)]

    batch_id = uuid.uuid4()
    created: list[Conversion] = []
    with transaction.atomic():
        # Decide and consume first: a refusal (402) rolls back before any file is stored.
        auth = authorizer.authorize(owner=owner, planned=planned, use_credit=use_credit,
                                    transaction_id=transaction_id)
        for upload, source, target, pair_params in zip(uploads, sources, targets, params, strict=True):
            stored = storage_services.stored_file_create(
                owner=owner, path=upload.path, kind=StoredFile.Kind.ORIGINAL,
                original_filename=upload.name, file_format=source,
                content_type=CONTENT_TYPES[source],
            )
            conversion = Conversion.objects.create(
                **owner.fields(), batch_id=batch_id, source=stored, original_format=source,
                target_format=target, conversion_type=conversion_type(source, target),
                quality=quality, paid_by=auth.paid_by, priority=auth.priority,
                webhook_url=webhook_url or "", options={"params": pair_params} if pair_params else {},
            )
            created.append(conversion)
            transaction.on_commit(lambda c=conversion: conversion_enqueue(conversion=c))
        auth.attach(created)
    return created


def conversion_request_again(
    *,
    owner: Owner,
    conversion: Conversion,
    target_format: str,
    quality: str | None = None,
    use_credit: bool = False,
    transaction_id=None,
) -> Conversion:
    """"Convert again to …": a new job from the stored source of an earlier one (no new upload),
    in the same batch (its zip holds both). The source must still be stored (410 when its owner
    deleted it or it expired); price and payment as for a new upload."""
    target = _validate_target(target_format)
    quality = _validate_quality(quality or conversion.quality)
    stored = conversion.source
    if not stored_file_is_available(stored):
        message = _("El archivo original ya no está disponible (eliminado o caducado): súbelo de nuevo.")
        raise ApplicationError(message, code="source_gone", status=410, details={"conversion_id": [message]})
    source = conversion.original_format
    _check_pair(source, target)
    max_bytes = max_upload_bytes_for(owner=owner, use_credit=use_credit, transaction_id=transaction_id)
    _check_size(stored.size, max_bytes, stored.original_filename)
    planned = [PlannedConversion(source_format=source, target_format=target, size_bytes=stored.size,
                                 quality=quality, name=stored.original_filename)]
    with transaction.atomic():
        auth = get_authorizer().authorize(owner=owner, planned=planned, use_credit=use_credit,
                                          transaction_id=transaction_id)
        again = Conversion.objects.create(
            **owner.fields(), batch_id=conversion.batch_id, source=stored, original_format=source,
            target_format=target, conversion_type=conversion_type(source, target), quality=quality,
            paid_by=auth.paid_by, priority=auth.priority,
        )
        transaction.on_commit(lambda: conversion_enqueue(conversion=again))
        auth.attach([again])
    return again


def _lease() -> timedelta:
    return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 30)


def conversion_claim(*, conversion_id) -> bool:
    """Take the job for this worker. A duplicate delivery, a cancelled or finished job: False.

    A job left in `processing` by a killed worker can be claimed again once its lease has
    run out (a redelivered message or the reaper's re-queue), up to MAX_ATTEMPTS.
    """
    now = timezone.now()
    claimable = Q(status=Conversion.Status.PENDING) | Q(
        status=Conversion.Status.PROCESSING, lease_expires_at__lt=now
    )
    return bool(
        Conversion.objects.filter(claimable, pk=conversion_id, attempts__lt=MAX_ATTEMPTS).update(
            status=Conversion.Status.PROCESSING, started_at=now, lease_expires_at=now + _lease(),
            attempts=F("attempts") + 1, progress=0,
        )
    )


def _progress_reporter(conversion_id, *, clock=time.monotonic):
    """The engines' progress callback: saves 1-99 % at a bounded rate, only forward, a new value
    once it is PROGRESS_SAVE_MIN_STEP points ahead of the saved one or PROGRESS_SAVE_MIN_INTERVAL
    seconds after it (at most ~100 small UPDATEs per job, whatever the engine reports)."""
    last = {"value": 0, "at": float("-inf")}
    step, interval = settings.PROGRESS_SAVE_MIN_STEP, settings.PROGRESS_SAVE_MIN_INTERVAL

    def report(percent: int) -> None:
        percent = max(1, min(99, int(percent)))
        if percent <= last["value"]:
            return
        now = clock()
        if percent - last["value"] < step and now - last["at"] < interval:
            return
        last["value"], last["at"] = percent, now
        Conversion.objects.filter(pk=conversion_id, status=Conversion.Status.PROCESSING).update(
            progress=percent
        )

    return report


def conversion_execute(*, conversion_id) -> str:
    """Run one claimed job end to end. Returns the final status (or 'skipped')."""
    if not conversion_claim(conversion_id=conversion_id):
        # A job that used up its attempts (transient errors, lost workers) must end, not wait forever.
        if Conversion.objects.filter(pk=conversion_id, status=Conversion.Status.PENDING,
                                     attempts__gte=MAX_ATTEMPTS).exists():
            return conversion_fail(conversion_id=conversion_id, code="too_many_attempts",
                                   message=_("La conversión se interrumpió demasiadas veces."))
        return "skipped"
    conversion = Conversion.objects.select_related("source", "user", "session").get(pk=conversion_id)
    owner = Owner(user=conversion.user, session=conversion.session)
    with tempfile.TemporaryDirectory(prefix="anclora-job-") as workdir:
        work = Path(workdir)
        src_path = work / f"source.{conversion.original_format}"
        dst_path = work / f"output.{conversion.target_format}"
        try:
            storage_services.stored_file_fetch(stored_file=conversion.source, destination=src_path)
            if conversion.original_format == "txt":
                text_to_utf8(src_path)
            _run_engines(conversion=conversion, src_path=src_path, dst_path=dst_path, work=work)
        except EngineError as exc:
            logger.info("conversion %s failed: %s (%s)", conversion.pk, exc.code, exc.detail)
            return conversion_fail(conversion_id=conversion.pk, message=exc.message, code=exc.code)
        stem = Path(conversion.source.original_filename).stem or "archivo"
        return _conversion_complete(conversion=conversion, owner=owner, path=dst_path,
                                    filename=f"{stem}.{conversion.target_format}")


def _run_engines(*, conversion: Conversion, src_path: Path, dst_path: Path, work: Path) -> None:
    """The registry converts with the best engine and falls back to the next (e.g. LibreOffice,
    then Pandoc) within the time limit; the engine trying is recorded on the job."""
    def record(engine) -> None:
        Conversion.objects.filter(pk=conversion.pk).update(engine=engine.name)

    options = ConvertOptions(
        quality=conversion.quality, time_limit=settings.CONVERSION_ENGINE_TIME_LIMIT,
        progress=_progress_reporter(conversion.pk), max_output_bytes=settings.MAX_UPLOAD_MB * MB,
        workdir=work / "engines", params=dict((conversion.options or {}).get("params") or {}),
    )
    default_registry().convert(src_path, dst_path, conversion.original_format, conversion.target_format,
                               options, on_attempt=record)


def _conversion_complete(*, conversion: Conversion, owner: Owner, path: Path, filename: str) -> str:
    content_type = CONTENT_TYPES[conversion.target_format]
    if _is_image_zip(path, conversion.target_format):  # several pages / slides as images ("informe-png.zip")
        filename, content_type = f"{Path(filename).stem}-{conversion.target_format}.zip", "application/zip"
    with transaction.atomic():
        output = storage_services.stored_file_create(
            owner=owner, path=path, kind=StoredFile.Kind.CONVERTED, original_filename=filename,
            file_format=conversion.target_format, content_type=content_type,
        )
        done = Conversion.objects.filter(pk=conversion.pk, status=Conversion.Status.PROCESSING).update(
            status=Conversion.Status.COMPLETED, output=output, progress=100,
            finished_at=timezone.now(), lease_expires_at=None,
        )
        if not done:  # cancelled (or reaped) meanwhile: drop the output
            storage_services.stored_file_delete(stored_file=output)
            return Conversion.objects.values_list("status", flat=True).get(pk=conversion.pk)
        events.publish("conversion_completed", conversion_id=conversion.pk)  # webhooks/ signs and sends
    return Conversion.Status.COMPLETED


def _is_image_zip(path: Path, target: str) -> bool:
    """An image target delivered as a zip of several images (no image format starts with PK)."""
    if category_of(target) != "image":
        return False
    with open(path, "rb") as fh:
        return fh.read(4) == b"PK\x03\x04"


def conversion_fail(*, conversion_id, message: str, code: str = "conversion_failed",
                    params: dict | None = None) -> str:
    """``params``: the numbers of a message with placeholders (see conversions/failures.py)."""
    message = str(message)
    with transaction.atomic():
        failed = Conversion.objects.filter(pk=conversion_id, status__in=Conversion.ACTIVE_STATUSES).update(
            status=Conversion.Status.FAILED, error_message=message[:500], error_code=code[:64],
            error_params=params or {},
            finished_at=timezone.now(), lease_expires_at=None,
        )
        if failed:
            events.publish("conversion_failed", conversion_id=conversion_id)
    return Conversion.Status.FAILED


def conversion_cancel(*, conversion: Conversion) -> Conversion:
    with transaction.atomic():
        cancelled = Conversion.objects.filter(
            pk=conversion.pk, status__in=Conversion.ACTIVE_STATUSES
        ).update(status=Conversion.Status.CANCELLED, finished_at=timezone.now(), lease_expires_at=None)
        if not cancelled:
            conversion.refresh_from_db()
            raise ApplicationError(
                _("Solo se pueden cancelar conversiones en cola o en proceso."),
                code="not_cancellable", status=409, details={"status": [conversion.status]},
            )
        events.publish("conversion_failed", conversion_id=conversion.pk)
    conversion.refresh_from_db()
    return conversion


def conversions_reap(*, now=None) -> dict:
    """Jobs whose worker vanished: re-queue them while attempts remain, else fail them."""
    now = now or timezone.now()
    requeued = failed = 0
    exhausted = Conversion.objects.filter(status=Conversion.Status.PENDING, attempts__gte=MAX_ATTEMPTS)
    for conversion_id in exhausted.values_list("pk", flat=True).iterator():
        conversion_fail(conversion_id=conversion_id, code="too_many_attempts",
                        message=_("La conversión se interrumpió demasiadas veces."))
        failed += 1
    stuck = Conversion.objects.filter(status=Conversion.Status.PROCESSING, lease_expires_at__lt=now)
    for conversion in stuck.only("pk", "attempts", "priority").iterator():
        if conversion.attempts >= MAX_ATTEMPTS:
            conversion_fail(conversion_id=conversion.pk, code="worker_lost",
                            message=_("La conversión se interrumpió demasiadas veces."))
            failed += 1
        else:
            transaction.on_commit(lambda c=conversion: conversion_enqueue(conversion=c))
            requeued += 1
    logger.info("reaper: %d re-queued, %d failed", requeued, failed)
    return {"requeued": requeued, "failed": failed}


def conversions_adopt(*, session_id, user) -> int:
    return Conversion.objects.filter(session_id=session_id, user__isnull=True).update(user=user)


def conversions_delete_for_user(*, user) -> int:
    """An account is being deleted (``user_deleting``): its conversions go first, as they protect
    their source files; the files and their bytes are storage's part of the same event. A worker
    still busy with one finds no row and stops; its output's bytes are removed with the failed row."""
    deleted, _ = Conversion.objects.filter(user=user).delete()
    return deleted


def conversion_release(*, conversion_id) -> None:
    """Give a claimed job back to the queue (before a retry of a transient error)."""
    Conversion.objects.filter(pk=conversion_id, status=Conversion.Status.PROCESSING).update(
        status=Conversion.Status.PENDING, lease_expires_at=None
    )


def conversion_retry(*, conversion: Conversion) -> bool:
    """Staff: put a failed job back in the queue (its source must still be stored)."""
    with transaction.atomic():
        retried = Conversion.objects.filter(
            pk=conversion.pk, status=Conversion.Status.FAILED, source__is_deleted=False
        ).update(status=Conversion.Status.PENDING, attempts=0, progress=0, error_message="", error_code="",
                 error_params={}, finished_at=None, lease_expires_at=None)
        if retried:
            transaction.on_commit(lambda: conversion_enqueue(conversion=conversion))
    return bool(retried)
