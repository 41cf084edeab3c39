from django.apps import AppConfig
from django.db.models.signals import post_save, pre_save
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Cuentas")

    def ready(self):
        # why: models load after the AppConfigs; tasks: registered in every process (password_reset.py)
        from . import schema, signals, tasks  # noqa: F401 - schema registers the JWT security scheme
        from .models import User

        pre_save.connect(signals.remember_credentials_change, sender=User,
                         dispatch_uid="accounts.remember_credentials_change")
        post_save.connect(signals.revoke_after_credentials_change, sender=User,
                          dispatch_uid="accounts.revoke_after_credentials_change")
