from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GamificationConfig(AppConfig):
    name = "gamification"
    verbose_name = _("Recompensas")

    def ready(self):
        from anclora.core import events

        from . import services

        for event, handler in services.event_handlers().items():
            events.subscribe(event, handler)
