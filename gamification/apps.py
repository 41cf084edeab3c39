from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from anclora.core import events


class GamificationConfig(AppConfig):
    name = "gamification"
    verbose_name = _("Recompensas")

    def ready(self):
        from . import services  # why: services import models, which load after the AppConfigs

        for event, handler in services.event_handlers().items():
            events.subscribe(event, handler)
