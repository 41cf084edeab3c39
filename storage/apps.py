from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from anclora.core import events


class StorageConfig(AppConfig):
    name = "storage"
    verbose_name = _("Archivos")

    def ready(self):
        from . import services  # why: services import models, which load after the AppConfigs

        events.subscribe("anonymous_session_adopted",
                         lambda session_id, user: services.stored_files_adopt(session_id=session_id,
                                                                              user=user))
        events.subscribe("user_deleting",
                         lambda user: services.stored_files_delete_for_user(user=user))
