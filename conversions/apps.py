from django.apps import AppConfig
from django.conf import settings
from django.core.signals import setting_changed
from django.utils.translation import gettext_lazy as _

from anclora.core import events, health


class ConversionsConfig(AppConfig):
    name = "conversions"
    verbose_name = _("Conversiones")

    def ready(self):
        # why: these import models, which load after the AppConfigs; tasks: registered in every process (queue.py)
        from . import selectors, services, tasks  # noqa: F401
        from .engines import registry

        registry.configure(getattr(settings, "CONVERSION_ENGINES", None))

        def engines_changed(setting, value, **kwargs):
            if setting == "CONVERSION_ENGINES":
                registry.configure(value)

        setting_changed.connect(engines_changed, weak=False, dispatch_uid="conversions.engines_changed")
        health.report_register("engines", selectors.engine_availability)

        events.subscribe("anonymous_session_adopted",
                         lambda session_id, user: services.conversions_adopt(session_id=session_id,
                                                                             user=user))
        events.subscribe("user_deleting", lambda user: services.conversions_delete_for_user(user=user))
