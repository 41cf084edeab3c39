"""The "my files" page: status, expiry countdown, download, extend with credits, delete (after a
confirmation page, so it works without JavaScript)."""

from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.owners import owner_from_request
from anclora.core.errors import ApplicationError

from . import selectors, services
from .models import HOURS_PER_CREDIT, MAX_EXTENSION_HOURS


def file_list_page(request):
    files = list(selectors.stored_file_list_for_owner(owner=owner_from_request(request))[:200])
    return render(request, "storage/files.html", {
        "files": files, "max_extension_days": MAX_EXTENSION_HOURS // 24, "hours_per_credit": HOURS_PER_CREDIT,
    })


@require_POST
def file_extend_page(request, file_id):
    stored_file = selectors.stored_file_get_for_owner(owner=owner_from_request(request), file_id=file_id)
    try:
        credits = int(request.POST.get("credits", "1"))
        if credits > MAX_EXTENSION_HOURS // HOURS_PER_CREDIT:  # beyond the cap (and beyond timedelta: a 500)
            raise ApplicationError(_("Como máximo %(n)d días de retención adicional por archivo.")
                                   % {"n": MAX_EXTENSION_HOURS // 24})
        services.stored_file_extend_retention(stored_file=stored_file, user=request.user, credits=credits)
    except ValueError:
        messages.error(request, _("El número de créditos debe ser positivo."))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Retención ampliada %(n)d día(s).") % {"n": credits})
    return redirect("files:list")


def file_download_page(request, file_id):
    stored_file = selectors.stored_file_get_for_owner(owner=owner_from_request(request), file_id=file_id)
    if not selectors.stored_file_is_available(stored_file):
        raise ApplicationError(_("El archivo ha caducado y ya no está disponible."), code="expired", status=410)
    response = FileResponse(default_storage.open(stored_file.storage_name, "rb"), as_attachment=True,
                            filename=stored_file.original_filename, content_type=stored_file.content_type)
    response["Content-Length"] = str(stored_file.size)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def file_delete_page(request, file_id):
    """GET: what will be deleted and a confirm button; POST: delete."""
    stored_file = selectors.stored_file_get_for_owner(owner=owner_from_request(request), file_id=file_id)
    if request.method != "POST":
        if stored_file.is_deleted:
            return redirect("files:list")
        return render(request, "storage/delete_confirm.html", {"file": stored_file})
    services.stored_file_delete(stored_file=stored_file)
    messages.success(request, _("Archivo eliminado."))
    return redirect("files:list")
