from django.contrib import admin

from .models import ResumableUpload


@admin.register(ResumableUpload)
class ResumableUploadAdmin(admin.ModelAdmin):
    list_display = ["id", "filename", "backend", "user", "session", "offset", "length", "created_at", "expires_at",
                    "completed_at"]
    list_filter = ["backend", "completed_at"]
    search_fields = ["id", "filename", "user__email"]
    readonly_fields = [f.name for f in ResumableUpload._meta.fields]

    def has_add_permission(self, request):
        return False
