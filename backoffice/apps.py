from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from anclora.core import metrics


class BackofficeConfig(AppConfig):
    """Staff dashboard, back-office stats and the domain series of /metrics. It reads every domain
    through that domain's selectors, so anclora/core knows no domain app."""

    name = "backoffice"
    verbose_name = _("Back office")

    def ready(self):
        from .metrics import DomainCollector  # why: reads domain selectors, importable once models are loaded

        metrics.collector_register(DomainCollector())
