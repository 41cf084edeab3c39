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
import fcntl
import logging
import socket
import threading
import time
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

from .access import upload_get_for_owner, upload_length_check, upload_slot_take
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


def upload_create(*, owner: Owner, length: int, metadata: dict[str, str], address_key: str = "") -> ResumableUpload:
    """Refuse what the plan would refuse before accepting a byte (413), and a caller past the caps on
    open uploads (429, `access.upload_slot_take`); then an empty upload. `address_key`: the
    `accounts.abuse.address_hash` of the client's address."""
    upload_length_check(owner=owner, length=length,
                        use_credit=metadata.get("use_credit", "").lower() in ("1", "true", "yes"),
                        transaction_id=metadata.get("transaction_id") or None)
    upload = ResumableUpload(**owner.fields(), filename=safe_filename(metadata.get("filename", "")),
                             length=length, address_hash=address_key, expires_at=timezone.now()
                             + timedelta(hours=settings.RESUMABLE_UPLOAD_EXPIRE_HOURS))
    upload.path = str(upload_dir() / f"{upload.pk.hex}.part")
    with transaction.atomic():
        upload_slot_take(owner=owner, address_key=address_key, length=length)
        upload.save()
        Path(upload.path).touch()
    return upload


def upload_append(*, owner: Owner | None, upload_id, offset: int, stream, content_length: int | None,
                  client_socket: socket.socket | None = None) -> ResumableUpload:
    """Append one PATCH body at `offset` (must equal the stored offset: else 409).

    No transaction and no row lock while the bytes travel: the upload and its offset are checked in
    a short read, writers of one upload are serialised by an exclusive, non-blocking `flock` on its
    `.part` file (a second concurrent PATCH is 409 `upload_locked`), the chunk is written to disk,
    and only then is the new offset recorded, in a short conditional UPDATE (`offset` still the one
    this writer started from). Whatever arrives before a dropped connection — or before
    RESUMABLE_UPLOAD_PATCH_DEADLINE_SECONDS, the total time one PATCH may take — is kept, so the
    client resumes from the offset HEAD (or this answer) reports. A body that would go beyond
    Upload-Length, or beyond RESUMABLE_UPLOAD_CHUNK_MAX_MB, is refused whole (413)."""
    upload = _appendable(owner=owner, upload_id=upload_id, offset=offset)
    room = min(upload.length - upload.offset, settings.RESUMABLE_UPLOAD_CHUNK_MAX_MB * MB)
    if content_length is not None and content_length > room:
        raise _chunk_too_large(upload)
    try:
        out = open(upload.path, "r+b")  # noqa: SIM115 - closed in the finally below
    except FileNotFoundError as exc:  # removed (converted, deleted, expired) since the read above
        raise ApplicationError(_("No existe esa subida."), code="not_found", status=404) from exc
    try:
        try:
            fcntl.flock(out.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise ApplicationError(_("Otra petición está enviando bytes a esta subida; espera a que termine."),
                                   code="upload_locked", status=409,
                                   details={"Upload-Offset": [str(upload.offset)]}) from exc
        # The holder before us may have moved the offset between our read and our lock.
        stored = ResumableUpload.objects.filter(pk=upload.pk).values_list("offset", flat=True).first()
        if stored is None:
            raise ApplicationError(_("No existe esa subida."), code="not_found", status=404)
        if stored != offset:
            raise _offset_mismatch(stored)
        received, too_large = _receive(upload, out, stream, room, client_socket)
        new_offset = upload.offset + received
        completed_at = timezone.now() if new_offset == upload.length else None
        with transaction.atomic():
            updated = ResumableUpload.objects.filter(pk=upload.pk, offset=upload.offset).update(
                offset=new_offset, completed_at=completed_at, updated_at=timezone.now())
        if not updated:  # deleted (or moved by a writer on another host) while the bytes travelled
            current = ResumableUpload.objects.filter(pk=upload.pk).values_list("offset", flat=True).first()
            if current is None:
                raise ApplicationError(_("No existe esa subida."), code="not_found", status=404)
            raise _offset_mismatch(current)
    finally:
        out.close()  # also releases the lock
    if too_large:
        raise _chunk_too_large(upload)
    upload.offset, upload.completed_at = new_offset, completed_at
    return upload


def _appendable(*, owner: Owner | None, upload_id, offset: int) -> ResumableUpload:
    upload = upload_get_for_owner(owner=owner, upload_id=upload_id)
    if upload.backend != ResumableUpload.Backend.TUS:
        raise ApplicationError(_("Esta subida va directa a S3: envía las partes a sus URL firmadas."),
                               code="upload_not_tus", status=409)
    if offset != upload.offset:
        raise _offset_mismatch(upload.offset)
    return upload


def _offset_mismatch(stored: int) -> ApplicationError:
    return ApplicationError(_("Upload-Offset no coincide con los bytes ya recibidos."), code="offset_mismatch",
                            status=409, details={"Upload-Offset": [str(stored)]})


def _chunk_too_large(upload: ResumableUpload) -> ApplicationError:
    return ApplicationError(_("El fragmento supera el tamaño declarado de la subida."), code="chunk_too_large",
                            status=413, details={"Upload-Length": [str(upload.length)]})


def _receive(upload: ResumableUpload, out, stream, room: int, client_socket) -> tuple[int, bool]:
    """Copy the body to `out` at the upload's offset, for at most the PATCH deadline.

    A read from a WSGI stream blocks until it has its bytes (gunicorn's body reader and the dev
    server's buffered socket file both wait for the whole `size`), so checking the clock between
    reads alone would not bound a client that trickles. At the deadline a timer shuts the reading
    side of the client's socket down: the blocked read returns what it has, then end of stream; the
    response can still be written. Without a socket (the test client) only the between-reads check
    applies."""
    deadline = time.monotonic() + settings.RESUMABLE_UPLOAD_PATCH_DEADLINE_SECONDS
    timer = None
    if client_socket is not None:
        timer = threading.Timer(settings.RESUMABLE_UPLOAD_PATCH_DEADLINE_SECONDS, _stop_reading, [client_socket])
        timer.daemon = True
        timer.start()
    received = 0
    too_large = False
    out.seek(upload.offset)
    out.truncate()
    try:
        while time.monotonic() < deadline:
            chunk = stream.read(READ_SIZE)
            if not chunk:
                break
            if received + len(chunk) > room:
                too_large = True
                break
            out.write(chunk)
            received += len(chunk)
        else:
            logger.info("upload %s: PATCH deadline reached after %d bytes", upload.pk, received)
    except OSError as exc:  # the client went away (or timed out): keep what arrived
        logger.info("upload %s: connection lost after %d bytes (%s)", upload.pk, received, exc)
    finally:
        if timer is not None:
            timer.cancel()
    if too_large:
        out.seek(upload.offset)
        out.truncate()
        received = 0
    out.flush()
    return received, too_large


def _stop_reading(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RD)
    except OSError:  # already closed
        pass


def client_socket_of(environ) -> socket.socket | None:
    """The client's socket behind a WSGI request, where the server lets us reach it: gunicorn puts it
    in ``environ["gunicorn.socket"]``; Django's dev server (runserver, the live test server) wraps the
    socket's file in a LimitedStream (private attributes, looked up defensively). Else None."""
    sock = environ.get("gunicorn.socket")
    if isinstance(sock, socket.socket):
        return sock
    read = getattr(environ.get("wsgi.input"), "_read", None)
    raw = getattr(getattr(read, "__self__", None), "raw", None)
    sock = getattr(raw, "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


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
