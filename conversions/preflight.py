"""Pre-flight: what a file is, from its first 64 KiB and its name, before any upload.

The page asks this (POST /api/conversion/detect) so the detection rules live once, in
``detection``; the upload is still checked in full when it arrives.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from .catalog import canonical, category_of, family_of, targets_by_source
from .detection import HEAD_SIZE, detect_head


def detect_preflight(*, head: bytes, name: str = "") -> dict:
    """{format, family, category, targets, message}: ``format`` is None when the type is not identified
    or not one we convert, with the reason in ``message``."""
    detected = detect_head(head[:HEAD_SIZE], name or None)
    if detected is None:
        return {"format": None, "family": None, "category": None, "targets": [],
                "message": _("No se pudo identificar el tipo de archivo.")}
    fmt = canonical(detected)
    if fmt is None:
        return {"format": None, "family": None, "category": None, "targets": [],
                "message": _("El formato %(fmt)s no está soportado.") % {"fmt": detected.upper()}}
    targets = targets_by_source().get(fmt, [])
    message = "" if targets else _("Este servidor no puede convertir archivos %(fmt)s.") % {"fmt": fmt.upper()}
    return {"format": fmt, "family": family_of(fmt), "category": category_of(fmt), "targets": targets,
            "message": message}
