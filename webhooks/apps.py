from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from anclora.core import events


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self):
        # why: models load after the AppConfigs; tasks: registered in every process (services send them by name)
        from . import services, tasks  # noqa: F401

        events.subscribe("conversion_completed", services.conversion_event_handler("conversion.completed"))
        events.subscribe("conversion_failed", services.conversion_event_handler("conversion.failed"))
        events.subscribe("anonymous_session_adopted", services.webhooks_adopt)
