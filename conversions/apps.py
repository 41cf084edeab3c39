from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConversionsConfig(AppConfig):
    name = "conversions"
    verbose_name = _("Conversiones")

    def ready(self):
        from anclora.core import events

        from . import services

        events.subscribe("anonymous_session_adopted",
                         lambda session_id, user: services.conversions_adopt(session_id=session_id,
                                                                             user=user))
        events.subscribe("user_deleting", lambda user: services.conversions_delete_for_user(user=user))
