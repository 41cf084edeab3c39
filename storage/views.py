"""The "my files" page: status, expiry countdown, extend with credits, delete."""

from django.contrib import messages
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


@require_POST
def file_delete_page(request, file_id):
    stored_file = selectors.stored_file_get_for_owner(owner=owner_from_request(request), file_id=file_id)
    services.stored_file_delete(stored_file=stored_file)
    messages.success(request, _("Archivo eliminado."))
    return redirect("files:list")
