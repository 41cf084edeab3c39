"""Convert page (works without JavaScript, better with it) and "my conversions"."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.owners import owner_from_request
from accounts.selectors import plan_for_user
from anclora.core.errors import ApplicationError

from . import downloads, selectors, services
from .authorization import get_authorizer
from .catalog import ALL_FORMATS, CATEGORIES, QUALITY_NAMES, targets_by_source
from .catalog.options import openapi_schema as options_openapi_schema
from .forms import ConvertForm
from .models import Conversion


def _all_targets(targets: dict[str, list[str]]) -> list[str]:
    found = {dst for dsts in targets.values() for dst in dsts}
    return [fmt for fmt in ALL_FORMATS if fmt in found]


def _option_fields() -> list[dict]:
    """The "Más opciones" inputs: every per-pair option of the catalogue (the service checks each pair's)."""
    fields = []
    for name, schema in options_openapi_schema()["properties"].items():
        field = {"name": name, "description": _(schema["description"]), "minimum": schema.get("minimum"),
                 "maximum": schema.get("maximum"), "max_length": schema.get("maxLength"),
                 "input_type": "number" if schema["type"] in ("integer", "number") else "text",
                 "step": {"integer": "1", "number": "any"}.get(schema["type"]),
                 "placeholder": {"background": "#ffffff", "pages": "1-3,5"}.get(name)}
        if "enum" in schema:
            field["choices"] = [(value, value) for value in schema["enum"]]
        elif schema["type"] == "boolean":
            field["choices"] = [("true", _("sí")), ("false", _("no"))]
        fields.append(field)
    return fields


def convert_page(request):
    owner = owner_from_request(request, create=True)
    targets = targets_by_source()
    plan = plan_for_user(owner.user)
    form = ConvertForm(target_choices=_all_targets(targets))
    context = {
        "form": form,
        "config": json.dumps({
            "targets": targets,
            "categories": CATEGORIES,
            "qualities": list(QUALITY_NAMES),
            "maxSizeMb": plan.max_file_size_mb,
            "sessionId": str(owner.session.pk) if owner.session else None,
            # Above this a single file goes as a resumable (tus) upload in chunks of this size.
            "resumableThresholdBytes": settings.RESUMABLE_UPLOAD_THRESHOLD_MB * 1024 * 1024,
            "resumableChunkBytes": min(settings.RESUMABLE_UPLOAD_CLIENT_CHUNK_KB,
                                       settings.RESUMABLE_UPLOAD_CHUNK_MAX_MB * 1024) * 1024,
        }),
        "plan": plan,
        "recent": selectors.conversion_list_for_owner(owner=owner)[:5],
        "option_fields": _option_fields(),
    }
    return render(request, "conversions/convert.html", context)


@require_POST
def convert_submit(request):
    """The no-JavaScript path: a plain multipart form post."""
    owner = owner_from_request(request, create=True)
    form = ConvertForm(request.POST, request.FILES,
                       target_choices=_all_targets(targets_by_source()))
    if not form.is_valid():
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}: {error}" if label else error)
        return redirect("home")
    try:
        created = services.conversion_request(
            owner=owner,
            uploads=[services.Upload(path=Path(f.temporary_file_path()), name=f.name, size=f.size)
                     for f in form.cleaned_data["file"]],
            target_format=form.cleaned_data["target_format"], quality=form.cleaned_data["quality"],
            use_credit=request.POST.get("use_credit") == "true",
            transaction_id=_uuid_or_none(request.POST.get("transaction_id")),
            options={key[4:]: value for key, value in request.POST.items() if key.startswith("opt_") and value},
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        try:
            checkout = get_authorizer().checkout_url(owner=owner, refusal=exc)
        except ApplicationError as failure:
            messages.error(request, failure.message)
            return redirect("home")
        return redirect(checkout or "home")
    messages.success(request, _("Conversión en marcha: %(n)d archivo(s).") % {"n": len(created)})
    return redirect("conversions:list")


def _uuid_or_none(value):
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def conversion_list_page(request):
    owner = owner_from_request(request)
    conversions = list(selectors.conversion_list_for_owner(owner=owner)[:100])
    active = any(c.status in Conversion.ACTIVE_STATUSES for c in conversions)
    return render(request, "conversions/list.html", {"conversions": conversions, "active": active})


def conversion_download_page(request, conversion_id):
    conversion = selectors.conversion_get_for_owner(owner=owner_from_request(request),
                                                    conversion_id=conversion_id)
    return downloads.conversion_output_response(conversion)


def batch_download_page(request, batch_id):
    conversions = selectors.conversion_list_for_owner(owner=owner_from_request(request)).filter(
        batch_id=batch_id
    )
    return downloads.batch_zip_response(list(conversions), batch_id=batch_id)


@require_POST
def conversion_cancel_page(request, conversion_id):
    conversion = selectors.conversion_get_for_owner(owner=owner_from_request(request),
                                                    conversion_id=conversion_id)
    services.conversion_cancel(conversion=conversion)
    messages.info(request, _("Conversión cancelada."))
    return redirect("conversions:list")
