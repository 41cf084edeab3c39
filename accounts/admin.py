import uuid

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from anclora.core.admin import LedgerAdmin, TranslatedPermissionsMixin

from . import services
from .credits import CreditReason, credits_grant
from .models import AnonymousSession, CreditLedgerEntry, SubscriptionPlan, User, UserSubscription
from .staff_otp import staff_second_factor_reset
from .throttling import login_locked_out


class GrantCreditsForm(forms.Form):
    credits = forms.IntegerField(label=_("Créditos"), min_value=1, max_value=10000)


@admin.register(User)
class UserAdmin(TranslatedPermissionsMixin, BaseUserAdmin):
    ordering = ["-date_joined"]
    list_display = ["email", "first_name", "last_name", "level", "total_points",
                    "conversion_credits", "is_active", "is_staff", "date_joined"]
    list_filter = ["is_staff", "is_active", "subscriptions__plan", "language"]
    search_fields = ["email", "first_name", "last_name"]
    date_hierarchy = "date_joined"
    readonly_fields = ["total_points", "lifetime_points", "level", "current_streak",
                       "longest_streak", "last_active_date", "conversion_credits",
                       "date_joined", "last_login"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Perfil"), {"fields": ["first_name", "last_name", "language", "time_zone"]}),
        (_("Recompensas"), {"fields": ["total_points", "lifetime_points", "level",
                                        "current_streak", "longest_streak", "last_active_date",
                                        "conversion_credits"]}),
        (_("Permisos"), {"fields": ["is_active", "is_staff", "is_superuser", "groups",
                                     "user_permissions"]}),
        (_("Fechas"), {"fields": ["date_joined", "last_login"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    # gamification/admin.py adds its "grant_points" action here (rewards write through their own service).
    actions = ["deactivate_users", "grant_credits", "reset_second_factor"]

    @admin.action(description=_("Restablecer el segundo factor (volverá a activarlo al entrar)"),
                  permissions=["change"])
    def reset_second_factor(self, request, queryset):
        for user in queryset:
            staff_second_factor_reset(user=user)
        self.message_user(request, _("Segundo factor restablecido: %d") % queryset.count(), messages.SUCCESS)

    @admin.action(description=_("Desactivar usuarios seleccionados"))
    def deactivate_users(self, request, queryset):
        for user in queryset:
            services.user_deactivate(user=user)
        self.message_user(request, _("Usuarios desactivados: %d") % queryset.count())

    @admin.action(description=_("Conceder créditos de conversión"))
    def grant_credits(self, request, queryset):
        if "apply" in request.POST:
            form = GrantCreditsForm(request.POST)
            if form.is_valid():
                key = uuid.uuid4().hex
                for user in queryset:
                    credits_grant(user=user, credits=form.cleaned_data["credits"], reason=CreditReason.ADMIN_GRANT,
                                  idempotency_key=key, subject=("staff", request.user.pk))
                self.message_user(request, _("Créditos concedidos."), messages.SUCCESS)
                return None
        else:
            form = GrantCreditsForm()
        return render(request, "admin/user_action_form.html", {
            "form": form, "users": queryset, "action_checkbox_name": ACTION_CHECKBOX_NAME, "action": "grant_credits",
            "title": _("Conceder créditos de conversión"), **self.admin_site.each_context(request),
        })


if admin.site.is_registered(Group):
    admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(TranslatedPermissionsMixin, BaseGroupAdmin):
    """Django's group admin with the permissions named in the reader's language."""


@admin.register(SubscriptionPlan)
class SubscriptionPlanAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "retention_hours", "monthly_conversions", "max_file_size_mb",
                    "priority_queue", "price_eur", "is_active"]
    list_filter = ["is_active", "priority_queue"]
    search_fields = ["name", "slug"]


@admin.register(UserSubscription)
class UserSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["user", "plan", "status", "current_period_start", "current_period_end"]
    list_filter = ["status", "plan"]
    search_fields = ["user__email"]
    date_hierarchy = "current_period_start"
    raw_id_fields = ["user"]


@admin.register(AnonymousSession)
class AnonymousSessionAdmin(admin.ModelAdmin):
    list_display = ["session_id", "created_at", "last_seen", "adopted_by", "adopted_at"]
    list_filter = ["adopted_at"]
    search_fields = ["session_id", "adopted_by__email"]
    date_hierarchy = "created_at"
    readonly_fields = ["session_id", "created_at", "last_seen", "adopted_by", "adopted_at"]


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin login goes through the same throttle (django-axes' backend); a refusal says why.

    axes' middleware then answers it with 429 and Retry-After (accounts.throttling.lockout_response).
    """

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            if login_locked_out(self.request):
                raise forms.ValidationError(
                    _("Demasiados intentos fallidos. Inténtalo de nuevo más tarde."), code="too_many_attempts"
                ) from None
            raise


admin.site.login_form = ThrottledAdminAuthenticationForm


@admin.register(CreditLedgerEntry)
class CreditLedgerEntryAdmin(LedgerAdmin):
    """The credit ledger: credits change only through accounts.credits."""

    list_display = ["created_at", "user", "reason", "delta", "balance_after", "subject_type", "subject_id"]
    list_filter = ["reason"]
    search_fields = ["user__email", "subject_id", "idempotency_key"]
