from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

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
    actions = ["delete_files"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Borrar archivos (bytes y disponibilidad)"))
    def delete_files(self, request, queryset):
        count = sum(services.stored_file_delete(stored_file=f) for f in queryset)
        self.message_user(request, _("Archivos borrados: %d") % count, messages.SUCCESS)
