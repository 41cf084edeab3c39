from django import template

from accounts.owners import Owner

from .. import selectors, services
from ..models import EVENT_TYPES

register = template.Library()


@register.simple_tag
def webhooks_for(user, limit=10):
    """The account page's webhooks section: secret, endpoints, each with its latest deliveries."""
    if user is None or not user.is_authenticated:
        return None
    endpoints = list(selectors.webhook_endpoint_list(user=user))
    for endpoint in endpoints:
        endpoint.recent_deliveries = list(selectors.webhook_delivery_list(user=user, endpoint_id=endpoint.pk)[:limit])
    direct = list(selectors.webhook_delivery_list(user=user).filter(endpoint__isnull=True)[:limit])
    return {"secret": services.webhook_secret_get(owner=Owner(user=user)).secret, "endpoints": endpoints,
            "direct": direct, "event_types": EVENT_TYPES}
