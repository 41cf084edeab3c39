from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from accounts.admin import UserAdmin
from anclora.core.admin import LedgerAdmin
from anclora.core.errors import ApplicationError

from . import services
from .models import Achievement, UserAchievement, UserChallengeProgress, UserReward, WeeklyChallenge


@admin.register(Achievement)
class AchievementAdmin(admin.ModelAdmin):
    list_display = ["icon", "id", "name", "category", "rarity", "points_reward", "sort_order"]
    list_display_links = ["id", "name"]
    list_filter = ["category", "rarity"]
    search_fields = ["id", "name", "description"]
    ordering = ["sort_order", "id"]

    def get_readonly_fields(self, request, obj=None):
        # the slug is what the rules in code refer to
        return ["id"] if obj else []


@admin.register(WeeklyChallenge)
class WeeklyChallengeAdmin(admin.ModelAdmin):
    list_display = ["week_start", "kind", "target", "points_reward", "starts_at", "ends_at"]
    list_filter = ["kind"]
    date_hierarchy = "week_start"
    ordering = ["-week_start", "kind"]


@admin.register(UserChallengeProgress)
class UserChallengeProgressAdmin(admin.ModelAdmin):
    list_display = ["user", "challenge", "progress", "completed_at"]
    list_filter = ["challenge__kind", "challenge__week_start"]
    search_fields = ["user__email"]
    raw_id_fields = ["user", "challenge"]


@admin.register(UserReward)
class UserRewardAdmin(LedgerAdmin):
    """The points ledger: rows are read here, written only by the services."""

    list_display = ["created_at", "user", "action", "points", "subject_type", "subject_id", "amount_eur"]
    list_filter = ["action"]
    search_fields = ["user__email", "idempotency_key", "subject_id"]


@admin.register(UserAchievement)
class UserAchievementAdmin(admin.ModelAdmin):
    list_display = ["user", "achievement", "unlocked_at"]
    list_filter = ["achievement"]
    search_fields = ["user__email", "achievement__name"]
    date_hierarchy = "unlocked_at"
    raw_id_fields = ["user"]


# --- "grant points" action, added by this app to the accounts' User admin ----------------
class GrantPointsForm(forms.Form):
    points = forms.IntegerField(label=_("Puntos"), min_value=1, max_value=100000)
    reason = forms.CharField(label=_("Motivo"), max_length=64, required=False)


@admin.action(description=_("Conceder puntos de recompensa"))
def grant_points(modeladmin, request, queryset):
    """Admin action: award points through the ledger (rewards_award), one row per user."""
    if "apply" in request.POST:
        form = GrantPointsForm(request.POST)
        if form.is_valid():
            granted = 0
            for user in queryset:
                try:
                    granted += services.rewards_admin_grant(user=user, points=form.cleaned_data["points"],
                                                            reason=form.cleaned_data["reason"])
                except ApplicationError as exc:
                    modeladmin.message_user(request, exc.message, messages.ERROR)
            modeladmin.message_user(request, _("Puntos concedidos a %(n)d usuarios.") % {"n": granted},
                                    messages.SUCCESS)
            return None
    else:
        form = GrantPointsForm()
    return render(request, "admin/user_action_form.html", {
        "form": form, "users": queryset, "action_checkbox_name": ACTION_CHECKBOX_NAME, "action": "grant_points",
        "title": _("Conceder puntos"), **modeladmin.admin_site.each_context(request),
    })


UserAdmin.actions = [*UserAdmin.actions, grant_points]
