"""Streaming downloads of converted files (single file or a batch as one zip)."""

from __future__ import annotations

import shutil
import tempfile
import zipfile

from django.core.files.storage import default_storage
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from anclora.core.errors import ApplicationError
from storage.selectors import stored_file_is_available

from .models import Conversion


def _available_output(conversion: Conversion):
    if conversion.status != Conversion.Status.COMPLETED:
        raise ApplicationError(_("La conversión aún no ha terminado."), code="not_ready", status=409,
                               details={"status": [conversion.status]})
    output = conversion.output
    if output is None or not stored_file_is_available(output):
        raise ApplicationError(_("El archivo ha caducado y ya no está disponible."), code="expired",
                               status=410)
    return output


def _attachment(response: FileResponse) -> FileResponse:
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def conversion_output_response(conversion: Conversion) -> FileResponse:
    output = _available_output(conversion)
    fh = default_storage.open(output.storage_name, "rb")
    response = FileResponse(fh, as_attachment=True, filename=output.original_filename,
                            content_type=output.content_type)
    response["Content-Length"] = str(output.size)
    return _attachment(response)


def batch_zip_name(created_at, count: int) -> str:
    """anclora-2026-12-02-3-archivos.zip: the day of the batch (local time) and how many files."""
    day = timezone.localtime(created_at).date().isoformat()
    word = ngettext("archivo", "archivos", count)
    return f"anclora-{day}-{count}-{word}.zip"


def batch_zip_response(conversions: list[Conversion], *, batch_id) -> FileResponse:
    if not conversions:
        raise ApplicationError(_("Lote no encontrado."), code="not_found", status=404)
    ready = [c for c in conversions if c.status == Conversion.Status.COMPLETED and c.output
             and stored_file_is_available(c.output)]
    if not ready:
        raise ApplicationError(_("Ninguna conversión del lote está lista para descargar."),
                               code="not_ready", status=409)
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    used: set[str] = set()
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for conversion in ready:
            name = conversion.output.original_filename
            stem, dot, ext = name.rpartition(".")
            counter = 1
            while name in used:
                counter += 1
                name = f"{stem} ({counter}).{ext}" if dot else f"{name} ({counter})"
            used.add(name)
            with default_storage.open(conversion.output.storage_name, "rb") as src, \
                    archive.open(name, "w", force_zip64=True) as dst:
                shutil.copyfileobj(src, dst, 1024 * 1024)
    spool.seek(0)
    response = FileResponse(spool, as_attachment=True, filename=batch_zip_name(conversions[0].created_at, len(ready)),
                            content_type="application/zip")
    return _attachment(response)
