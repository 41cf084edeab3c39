"""The API keys page (linked from the account page): create (shown once), list, revoke."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from anclora.core.errors import ApplicationError

from . import selectors, services
from .forms import ApiKeyCreateForm


@login_required
def api_keys_view(request):
    form = ApiKeyCreateForm()
    created = None
    if request.method == "POST":
        try:
            if request.POST.get("action") == "revoke":
                api_key = selectors.api_key_get_for_user(user=request.user, key_id=request.POST.get("key_id", "")[:16])
                services.api_key_revoke(api_key=api_key)
                messages.success(request, _("Clave «%(name)s» revocada.") % {"name": api_key.name})
                return redirect("apikeys:list")
            form = ApiKeyCreateForm(request.POST)
            if form.is_valid():
                created = services.api_key_create(user=request.user, **form.cleaned_data)
                form = ApiKeyCreateForm()
        except ApplicationError as exc:
            form.add_error(None, exc.message)
    return render(request, "apikeys/api_keys.html", {
        "form": form, "created": created, "api_keys": selectors.api_key_list_for_user(user=request.user),
    })
