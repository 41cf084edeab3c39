from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from conversions import sources


class UploadsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "uploads"
    verbose_name = _("Subidas e importaciones")

    def ready(self):
        # why: the services import models (app loading); tasks: registered in every process (imports.py)
        from . import tasks  # noqa: F401
        from .imports import url_import_request
        from .resumable import upload_conversion_request

        # POST /api/conversion/convert with upload_id or source_url (conversions/sources.py)
        sources.source_register("upload_id", upload_conversion_request)
        sources.source_register("source_url", url_import_request)
