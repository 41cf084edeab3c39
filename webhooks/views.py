"""The webhooks section of the account page: its forms post here and return to /account/#webhooks."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.owners import Owner
from anclora.core.errors import ApplicationError

from . import selectors, services


def _back():
    return redirect(reverse("accounts:account") + "#webhooks")


def _act(request, action, done: str):
    """Run one service call for the page: its message on success, the error's message otherwise."""
    try:
        action()
        messages.success(request, done)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return _back()


@login_required
@require_POST
def endpoint_create_view(request):
    return _act(request, lambda: services.webhook_endpoint_create(
        user=request.user, url=request.POST.get("url", "").strip()[:2048], events=request.POST.getlist("events")),
        _("Endpoint de webhook añadido."))


@login_required
@require_POST
def endpoint_delete_view(request, endpoint_id):
    return _act(request, lambda: services.webhook_endpoint_delete(
        endpoint=selectors.webhook_endpoint_get(user=request.user, endpoint_id=endpoint_id)),
        _("Endpoint de webhook eliminado."))


@login_required
@require_POST
def secret_rotate_view(request):
    return _act(request, lambda: services.webhook_secret_rotate(owner=Owner(user=request.user)),
                _("Nuevo secreto de firma generado: actualiza tus receptores."))


@login_required
@require_POST
def delivery_redeliver_view(request, delivery_id):
    return _act(request, lambda: services.webhook_delivery_redeliver(
        delivery=selectors.webhook_delivery_get(user=request.user, delivery_id=delivery_id)),
        _("Reenvío en cola."))
