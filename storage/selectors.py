from __future__ import annotations

from django.db.models import QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.owners import Owner
from anclora.core.errors import ApplicationError

from .models import StoredFile


def stored_file_list_for_owner(*, owner: Owner | None) -> QuerySet[StoredFile]:
    if owner is None:
        return StoredFile.objects.none()
    return StoredFile.objects.filter(owner.filter()).order_by("-created_at")


def stored_file_get_for_owner(*, owner: Owner | None, file_id) -> StoredFile:
    """The caller's file or 404 — another owner's file is indistinguishable from none."""
    stored_file = stored_file_list_for_owner(owner=owner).filter(pk=file_id).first()
    if stored_file is None:
        raise ApplicationError(_("Archivo no encontrado."), code="not_found", status=404)
    return stored_file


def stored_file_is_available(stored_file: StoredFile) -> bool:
    return not stored_file.is_deleted and stored_file.expires_at > timezone.now()


def storage_bytes_used() -> int:
    """Bytes held by the files not deleted (the back office)."""
    return StoredFile.objects.filter(is_deleted=False).aggregate(s=Coalesce(Sum("size"), 0))["s"]
