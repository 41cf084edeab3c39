"""Sources of a conversion request other than files in the request body.

An app that owns another way to name the file (uploads: ``upload_id``, a finished resumable upload;
``source_url``, a file to import) registers, in its AppConfig.ready(), the service that turns it into
conversions; the convert endpoint calls it by the field's name. So conversions never imports that app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported by apps.py modules, before models can load
    from .models import Conversion

_services: dict[str, Callable[..., list[Conversion]]] = {}


def source_register(field: str, service: Callable[..., list[Conversion]]) -> None:
    """``service(**{field: value}, owner=…, target_format=…, quality=…, use_credit=…, transaction_id=…,
    webhook_url=…, options=…)`` returns the conversions it created (``options``: the per-pair options,
    checked as for a file in the request: 400 ``invalid_option`` naming the bad one)."""
    _services[field] = service


def source_request(field: str, value, **request) -> list[Conversion]:
    try:
        service = _services[field]
    except KeyError:
        raise RuntimeError(f"no app registered the conversion source {field!r}") from None
    return service(**{field: value}, **request)
