"""Admin building blocks shared by the apps (no models here)."""

from django.contrib import admin


class LedgerAdmin(admin.ModelAdmin):
    """An append-only ledger: staff read its rows; only the owning service writes them."""

    date_hierarchy = "created_at"
    list_select_related = ["user"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
