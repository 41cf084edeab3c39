from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from anclora.core import events


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Pagos")

    def ready(self):
        from . import services  # why: services import models, which load after the AppConfigs

        # A failed or cancelled conversion gives back exactly what it consumed, once.
        events.subscribe("conversion_failed", lambda conversion_id: services.charge_give_back(
            conversion_id=conversion_id))
        events.subscribe("anonymous_session_adopted",
                         lambda session_id, user: services.transactions_adopt(session_id=session_id, user=user))
        # A deleted account's payments stay, anonymised, as accounting rows.
        events.subscribe("user_deleting", lambda user: services.transactions_anonymise_for_user(user=user))
        # …and its paid subscription stops: cancelled at the provider, the customer deleted there.
        events.subscribe("user_deleting", lambda user: services.billing_customer_forget(user=user))
