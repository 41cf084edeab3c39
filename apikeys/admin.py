from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import APIKey

from . import services
from .models import ApiKey

# The library's own (ownerless, unscoped) model is not used: its admin page would only confuse.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Staff see every key and revoke it; keys are created by their owners only (shown once)."""

    list_display = ["prefix", "name", "user", "scopes", "created", "last_used_at", "expiry_date",
                    "revoked", "revoked_at"]
    list_filter = ["revoked", "created"]
    search_fields = ["prefix", "name", "user__email"]
    list_select_related = ["user"]
    readonly_fields = ["prefix", "name", "user", "scopes", "created", "last_used_at", "expiry_date",
                       "revoked", "revoked_at"]
    fields = readonly_fields
    actions = ["revoke_keys"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Revocar las claves seleccionadas"))
    def revoke_keys(self, request, queryset):
        count = 0
        for api_key in queryset.filter(revoked=False):
            services.api_key_revoke(api_key=api_key)
            count += 1
        self.message_user(request, _("Claves revocadas: %d") % count, messages.SUCCESS)
