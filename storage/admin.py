from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from anclora.core.errors import ApplicationError

from . import services
from .models import StoredFile


@admin.register(StoredFile)
class StoredFileAdmin(admin.ModelAdmin):
    list_display = ["original_filename", "kind", "file_format", "size", "user", "session", "created_at",
                    "expires_at", "is_deleted"]
    list_filter = ["kind", "is_deleted", "file_format"]
    search_fields = ["original_filename", "storage_name", "user__email", "session__session_id", "checksum"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in StoredFile._meta.fields]
    actions = ["delete_files", "extend_one_day", "extend_seven_days"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Borrar archivos (bytes y disponibilidad)"))
    def delete_files(self, request, queryset):
        count = sum(services.stored_file_delete(stored_file=f) for f in queryset)
        self.message_user(request, _("Archivos borrados: %d") % count, messages.SUCCESS)

    def _extend(self, request, queryset, days: int):
        done = 0
        for stored_file in queryset:
            try:
                services.stored_file_extend_by_staff(stored_file=stored_file, days=days)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{stored_file}: {exc.message}", messages.WARNING)
        self.message_user(request, _("Retención ampliada en %d archivos.") % done, messages.SUCCESS)

    @admin.action(description=_("Ampliar retención 1 día (sin créditos)"))
    def extend_one_day(self, request, queryset):
        self._extend(request, queryset, 1)

    @admin.action(description=_("Ampliar retención 7 días (sin créditos)"))
    def extend_seven_days(self, request, queryset):
        self._extend(request, queryset, 7)
