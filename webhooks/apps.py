from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self):
        from anclora.core import events

        from . import services

        events.subscribe("conversion_completed", services.conversion_event_handler("conversion.completed"))
        events.subscribe("conversion_failed", services.conversion_event_handler("conversion.failed"))
        events.subscribe("anonymous_session_adopted", services.webhooks_adopt)
