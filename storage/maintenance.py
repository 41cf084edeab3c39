"""Scheduled upkeep of stored files: expiry, orphans, notices, anonymous sessions.

Every function is idempotent and works in batches. Only one beat should run per
installation, but two running by mistake delete nothing twice: rows are claimed with a
conditional update (and `skip_locked` row locks where the database has them) before
their bytes are removed.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import send_mail
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from accounts.models import AnonymousSession
from accounts.plans import ANONYMOUS_LIMITS

from .models import StoredFile
from .services import _delete_bytes

logger = logging.getLogger(__name__)

BATCH = 500
# Bytes younger than this are never orphans: their row may not be committed yet.
ORPHAN_GRACE = timedelta(hours=1)


def _lock(queryset):
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True)
    return queryset


def stored_files_delete_expired(*, now=None, batch_size: int = BATCH) -> int:
    """Delete the bytes of every expired file and mark its row. Returns how many."""
    now = now or timezone.now()
    total = 0
    while True:
        with transaction.atomic():
            batch = list(_lock(StoredFile.objects.filter(is_deleted=False, expires_at__lte=now)
                               .order_by("expires_at").only("pk", "storage_name"))[:batch_size])
            if not batch:
                break
            ids = [f.pk for f in batch]
            claimed = StoredFile.objects.filter(pk__in=ids, is_deleted=False).update(
                is_deleted=True, deleted_at=now
            )
        for stored in batch:
            _delete_bytes(stored.storage_name)
        total += claimed
        if len(batch) < batch_size:
            break
    logger.info("cleanup: %d expired files deleted", total)
    return total


def _walk(prefix: str = ""):
    directories, files = default_storage.listdir(prefix)
    for name in files:
        yield f"{prefix}/{name}" if prefix else name
    for directory in directories:
        yield from _walk(f"{prefix}/{directory}" if prefix else directory)


def orphans_sweep(*, now=None, batch_size: int = BATCH) -> dict:
    """Both ways: bytes with no live row are deleted; live rows whose bytes are gone are marked."""
    now = now or timezone.now()
    bytes_removed = 0
    pending: list[str] = []

    def flush():
        nonlocal bytes_removed
        live = set(StoredFile.objects.filter(storage_name__in=pending, is_deleted=False)
                   .values_list("storage_name", flat=True))
        for name in pending:
            if name in live:
                continue
            try:
                if now - default_storage.get_modified_time(name) < ORPHAN_GRACE:
                    continue
            except (OSError, NotImplementedError):
                continue
            _delete_bytes(name)
            bytes_removed += 1
        pending.clear()

    top_level = [d for d in default_storage.listdir("")[0] if d.isdigit()]  # YYYY/…: our layout only
    for year in top_level:
        for name in _walk(year):
            pending.append(name)
            if len(pending) >= batch_size:
                flush()
    flush()

    rows_marked = 0
    for stored in StoredFile.objects.filter(is_deleted=False, created_at__lt=now - ORPHAN_GRACE).only(
            "pk", "storage_name").iterator(chunk_size=batch_size):
        if not default_storage.exists(stored.storage_name):
            rows_marked += StoredFile.objects.filter(pk=stored.pk, is_deleted=False).update(
                is_deleted=True, deleted_at=now)
    logger.info("orphan sweep: %d orphan files removed, %d rows without bytes marked", bytes_removed,
                rows_marked)
    return {"bytes_removed": bytes_removed, "rows_marked": rows_marked}


def expiry_notices_send(*, now=None, batch_size: int = BATCH) -> int:
    """E-mail registered users about files expiring within 24 h, once per file."""
    now = now or timezone.now()
    due = (StoredFile.objects.filter(is_deleted=False, user__isnull=False, expiry_notice_sent_at__isnull=True,
                                     expires_at__gt=now, expires_at__lte=now + timedelta(hours=24))
           .select_related("user").order_by("user_id", "expires_at"))
    per_user: dict = defaultdict(list)
    for stored in due.iterator(chunk_size=batch_size):
        claimed = StoredFile.objects.filter(pk=stored.pk, expiry_notice_sent_at__isnull=True).update(
            expiry_notice_sent_at=now)
        if claimed:
            per_user[stored.user].append(stored)
    for user, files in per_user.items():
        with translation.override(user.language or settings.LANGUAGE_CODE), timezone.override(user.time_zone):
            subject = render_to_string("storage/email/expiry_subject.txt", {"files": files}).strip()
            body = render_to_string("storage/email/expiry_body.txt", {"user": user, "files": files})
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email], fail_silently=False)
    sent = sum(len(files) for files in per_user.values())
    logger.info("expiry notices: %d files, %d e-mails", sent, len(per_user))
    return sent


def anonymous_sessions_purge(*, now=None, retention: timedelta | None = None, batch_size: int = 200) -> int:
    """Remove anonymous sessions (their files' bytes, files and conversions) older than their retention."""
    now = now or timezone.now()
    retention = retention or timedelta(hours=ANONYMOUS_LIMITS["retention_hours"])
    total = 0
    while True:
        ids = list(AnonymousSession.objects.filter(last_seen__lt=now - retention)
                   .values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        with transaction.atomic():
            names = list(StoredFile.objects.filter(session_id__in=ids, user__isnull=True, is_deleted=False)
                         .values_list("storage_name", flat=True))
            _delete_session_rows(ids)
        for name in names:  # after commit: a rolled-back purge must not lose bytes
            _delete_bytes(name)
        total += len(ids)
    logger.info("anonymous purge: %d sessions removed", total)
    return total


def _delete_session_rows(session_ids) -> None:
    from django.apps import apps

    # Conversions point at files with PROTECT: remove them first, then files, then sessions.
    if apps.is_installed("conversions"):
        apps.get_model("conversions", "Conversion").objects.filter(session_id__in=session_ids,
                                                                   user__isnull=True).delete()
    StoredFile.objects.filter(session_id__in=session_ids, user__isnull=True).delete()
    AnonymousSession.objects.filter(pk__in=session_ids).delete()
