"""Writes on stored files: bytes always through Django's storage API."""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import unicodedata
import uuid
from datetime import timedelta
from pathlib import Path

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.utils import timezone

from accounts.credits import CreditReason, credits_spend
from accounts.owners import Owner
from accounts.selectors import plan_for_user
from anclora.core.errors import ApplicationError

from .models import HOURS_PER_CREDIT, MAX_EXTENSION_HOURS, StoredFile

logger = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^\w.\- ]+", re.UNICODE)
CHUNK = 1024 * 1024


def safe_filename(name: str, *, max_length: int = 120) -> str:
    """A display/download name: no path, no control or bidi characters, bounded length."""
    name = (name or "").replace("\\", "/").split("/")[-1]
    name = unicodedata.normalize("NFKC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name).strip(" .")
    if not name:
        name = "archivo"
    if len(name) > max_length:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:10] if dot else ""
        stem = (stem if dot else name)[: max_length - len(ext) - 1]
        name = f"{stem}.{ext}" if ext else stem
    return name


def _slug_stem(name: str) -> str:
    stem = Path(safe_filename(name)).stem
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    ascii_stem = re.sub(r"[^A-Za-z0-9_-]+", "-", ascii_stem).strip("-").lower()
    return (ascii_stem or "file")[:60]


def storage_name_for(*, kind: str, original_filename: str, extension: str, now=None) -> str:
    now = now or timezone.now()
    return (f"{now:%Y/%m/%d}/{kind}/{uuid.uuid4().hex}-{_slug_stem(original_filename)}"
            f".{extension}")


def retention_for(owner: Owner) -> timedelta:
    plan = plan_for_user(owner.user)
    return timedelta(hours=plan.retention_hours)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def stored_file_create(
    *,
    owner: Owner,
    path: Path,
    kind: str,
    original_filename: str,
    file_format: str,
    content_type: str,
    expires_at=None,
) -> StoredFile:
    """Copy a local file into storage and record it. The bytes are removed if the row fails."""
    path = Path(path)
    display_name = safe_filename(original_filename)
    name = storage_name_for(kind=kind, original_filename=display_name, extension=file_format)
    checksum = _sha256(path)
    size = path.stat().st_size
    with open(path, "rb") as fh:
        saved_name = default_storage.save(name, File(fh, name=name))
    try:
        with transaction.atomic():
            return StoredFile.objects.create(
                **owner.fields(), kind=kind, storage_name=saved_name,
                original_filename=display_name, file_format=file_format, size=size,
                content_type=content_type, checksum=checksum,
                expires_at=expires_at or timezone.now() + retention_for(owner),
            )
    except Exception:
        default_storage.delete(saved_name)
        raise


def stored_file_fetch(*, stored_file: StoredFile, destination: Path) -> Path:
    """Stream the bytes to a local path (the worker shares no disk with the web process)."""
    with default_storage.open(stored_file.storage_name, "rb") as src, open(destination, "wb") as dst:
        shutil.copyfileobj(src, dst, CHUNK)
    return destination


def stored_file_delete(*, stored_file: StoredFile) -> bool:
    """Remove the bytes and mark the row. Idempotent: False when it was already deleted."""
    with transaction.atomic():
        updated = StoredFile.objects.filter(pk=stored_file.pk, is_deleted=False).update(
            is_deleted=True, deleted_at=timezone.now()
        )
        if updated:
            name = stored_file.storage_name
            transaction.on_commit(lambda: _delete_bytes(name))
    stored_file.refresh_from_db(fields=["is_deleted", "deleted_at"])
    return bool(updated)


def _delete_bytes(name: str) -> None:
    try:
        default_storage.delete(name)
    except Exception:  # noqa: BLE001 - the weekly orphan sweep retries
        logger.warning("could not delete %s from storage", name, exc_info=True)


def stored_files_adopt(*, session_id, user) -> int:
    return StoredFile.objects.filter(session_id=session_id, user__isnull=True).update(user=user)


def stored_files_delete_for_user(*, user) -> int:
    count = 0
    for stored_file in StoredFile.objects.filter(user=user, is_deleted=False).iterator():
        count += stored_file_delete(stored_file=stored_file)
    return count


def _extend(*, stored_file: StoredFile, days: int) -> None:
    """Add whole days to a live file's expiry within the 30-day cap (ApplicationError otherwise)."""
    from django.utils.translation import gettext as _



    if stored_file.is_deleted or stored_file.expires_at <= timezone.now():
        raise ApplicationError(_("El archivo ha caducado y ya no está disponible."), code="expired", status=410)
    hours = days * HOURS_PER_CREDIT
    if hours > MAX_EXTENSION_HOURS:  # refused before timedelta() could overflow on absurd values
        hours = MAX_EXTENSION_HOURS + 1
    extended = StoredFile.objects.filter(
        pk=stored_file.pk, is_deleted=False, extended_hours__lte=MAX_EXTENSION_HOURS - hours
    ).update(extended_hours=models.F("extended_hours") + hours,
             expires_at=models.F("expires_at") + timedelta(hours=hours), expiry_notice_sent_at=None)
    if not extended:
        left = (MAX_EXTENSION_HOURS - stored_file.extended_hours) // HOURS_PER_CREDIT
        raise ApplicationError(
            _("Se puede ampliar como máximo 30 días por archivo (quedan %(n)d días).") % {"n": left},
            code="extension_cap", details={"credits": [_("Máximo %(n)d créditos.") % {"n": left}]},
        )


@transaction.atomic
def stored_file_extend_retention(*, stored_file: StoredFile, user, credits: int) -> StoredFile:
    """+24 h per credit, at most 30 extra days per file; the credits are spent in the same transaction."""
    from django.utils.translation import gettext as _


    if user is None or not user.is_authenticated:
        raise ApplicationError(_("Necesitas una cuenta con créditos para ampliar la retención."),
                               code="login_required", status=401)
    if not isinstance(credits, int) or credits < 1:
        raise ApplicationError(_("El número de créditos debe ser positivo."), code="invalid_credits",
                               details={"credits": [_("El número de créditos debe ser positivo.")]})
    _extend(stored_file=stored_file, days=credits)
    credits_spend(user=user, credits=credits, reason=CreditReason.RETENTION_EXTENSION,  # raises when short
                  idempotency_key=uuid.uuid4().hex, subject=("stored_file", stored_file.pk))
    stored_file.refresh_from_db()
    return stored_file


@transaction.atomic
def stored_file_extend_by_staff(*, stored_file: StoredFile, days: int) -> StoredFile:
    """Staff goodwill: the same cap, no credits spent."""
    _extend(stored_file=stored_file, days=days)
    stored_file.refresh_from_db()
    return stored_file
