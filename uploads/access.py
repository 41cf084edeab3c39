"""Which resumable upload a caller may touch, and how large the plan lets it be (tus and S3 alike)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.owners import Owner
from anclora.core.errors import ApplicationError
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
