from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from anclora.core.errors import ApplicationError

from .models import WebhookDelivery, WebhookEndpoint


def webhook_endpoint_list(*, user) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(user=user).order_by("-created_at")


def webhook_endpoint_get(*, user, endpoint_id) -> WebhookEndpoint:
    """The user's endpoint or 404 (another user's looks like none)."""
    endpoint = webhook_endpoint_list(user=user).filter(pk=endpoint_id).first()
    if endpoint is None:
        raise ApplicationError(_("Endpoint no encontrado."), code="not_found", status=404)
    return endpoint


def webhook_delivery_list(*, user, endpoint_id=None) -> QuerySet[WebhookDelivery]:
    deliveries = WebhookDelivery.objects.filter(user=user).order_by("-created_at")
    if endpoint_id is not None:
        deliveries = deliveries.filter(endpoint=webhook_endpoint_get(user=user, endpoint_id=endpoint_id))
    return deliveries


def webhook_delivery_get(*, user, delivery_id) -> WebhookDelivery:
    delivery = webhook_delivery_list(user=user).select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None:
        raise ApplicationError(_("Entrega no encontrada."), code="not_found", status=404)
    return delivery
