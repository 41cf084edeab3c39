from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from anclora.core.errors import ApplicationError

from . import services
from .models import Conversion


@admin.register(Conversion)
class ConversionAdmin(admin.ModelAdmin):
    list_display = ["id", "original_format", "target_format", "quality", "status", "progress", "engine",
                    "user", "session", "paid_by", "created_at", "finished_at"]
    list_filter = ["status", "conversion_type", "quality", "engine", "paid_by", "priority"]
    search_fields = ["id", "user__email", "session__session_id", "source__original_filename"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Conversion._meta.fields]
    actions = ["cancel_conversions", "retry_conversions"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Cancelar conversiones"))
    def cancel_conversions(self, request, queryset):
        done = 0
        for conversion in queryset:
            try:
                services.conversion_cancel(conversion=conversion)
                done += 1
            except ApplicationError:
                pass
        self.message_user(request, _("Conversiones canceladas: %d") % done, messages.SUCCESS)

    @admin.action(description=_("Reintentar conversiones fallidas"))
    def retry_conversions(self, request, queryset):
        done = sum(services.conversion_retry(conversion=c) for c in queryset)
        self.message_user(request, _("Conversiones reintentadas: %d") % done, messages.SUCCESS)
