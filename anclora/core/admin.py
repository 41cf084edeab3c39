"""Admin building blocks shared by the apps (no models here)."""

from django import forms
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.utils.translation import gettext_lazy as _

# Django stores a permission's name once, in English, from the model's untranslated verbose_name
# ("Can add sesión anónima"); the admin shows the default ones in the reader's language instead.
PERMISSION_ACTIONS = {
    "add": _("Puede añadir %(model)s"),
    "change": _("Puede modificar %(model)s"),
    "delete": _("Puede eliminar %(model)s"),
    "view": _("Puede ver %(model)s"),
}


def permission_label(permission: Permission) -> str:
    """'<app> | <model> | <what it allows>' in the active language (custom permissions keep their name)."""
    content_type = permission.content_type
    model = content_type.model_class()
    action, _sep, model_name = permission.codename.partition("_")
    if model is not None and action in PERMISSION_ACTIONS and model_name == model._meta.model_name:
        name = PERMISSION_ACTIONS[action] % {"model": model._meta.verbose_name}
    else:
        name = permission.name
    return f"{content_type} | {name}"


class PermissionChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return permission_label(obj)


class TranslatedPermissionsMixin:
    """For the User and Group admins: their permission pickers list permissions by permission_label."""

    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        if db_field.name in ("permissions", "user_permissions"):
            kwargs["queryset"] = Permission.objects.select_related("content_type")
            kwargs["form_class"] = PermissionChoiceField
        return super().formfield_for_manytomany(db_field, request=request, **kwargs)


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
