from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _

from anclora.core import events


class ApiKeysConfig(AppConfig):
    name = "apikeys"
    verbose_name = _("Claves de API")

    def ready(self):
        from accounts.models import User  # why: models load after the AppConfigs (app loading)

        from . import schema, services  # noqa: F401 - schema registers the Api-Key security scheme

        # A deleted account's keys go with it (they would cascade anyway: revoked first, explicitly).
        events.subscribe("user_deleting", lambda user: services.api_keys_revoke_for_user(user=user))
        events.subscribe("user_deactivated", lambda user: services.api_keys_revoke_for_user(user=user))
        # A deactivated account's keys are revoked, whatever path saved the user (service, admin).
        post_save.connect(services.api_keys_revoke_if_inactive, sender=User,
                          dispatch_uid="apikeys.revoke_if_inactive")
