from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from anclora.core.errors import ApplicationError

from . import services
from .models import BillingCustomer, ConversionCharge, ConversionTransaction, StripeEvent, StripeSubscription


@admin.register(ConversionTransaction)
class ConversionTransactionAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "session", "amount", "currency", "status", "refunded_amount", "provider",
                    "created_at"]
    list_filter = ["status", "provider", "created_at", ("user", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["id", "user__email", "stripe_payment_intent_id"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in ConversionTransaction._meta.fields]
    actions = ["refund"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Reembolsar las transacciones seleccionadas"))
    def refund(self, request, queryset):
        done = 0
        for tx in queryset:
            try:
                services.transaction_refund(transaction_id=tx.pk, actor=request.user)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{tx.pk}: {exc.message}", messages.WARNING)
        self.message_user(request, _("Reembolsadas: %d") % done)


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "type", "received_at", "processed_at"]
    list_filter = ["type", "received_at"]
    search_fields = ["event_id"]
    readonly_fields = ["event_id", "type", "payload", "received_at", "processed_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ConversionCharge)
class ConversionChargeAdmin(admin.ModelAdmin):
    list_display = ["conversion", "kind", "transaction", "refunded", "created_at"]
    list_filter = ["kind", "refunded", "created_at"]
    readonly_fields = ["conversion", "kind", "transaction", "refunded", "created_at", "refunded_at"]

    def has_add_permission(self, request):
        return False


@admin.register(StripeSubscription)
class StripeSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["user", "plan", "status", "cancel_at_period_end", "current_period_end", "applied_at"]
    list_filter = ["status", "plan", "cancel_at_period_end"]
    search_fields = ["user__email", "stripe_subscription_id"]


@admin.register(BillingCustomer)
class BillingCustomerAdmin(admin.ModelAdmin):
    list_display = ["user", "stripe_customer_id", "created_at"]
    search_fields = ["user__email", "stripe_customer_id"]
