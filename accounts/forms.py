from django import forms
from django.utils.translation import gettext_lazy as _

from .timezones import zone_choices, zone_is_valid


class SignupForm(forms.Form):
    email = forms.EmailField(label=_("Email"), max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    first_name = forms.CharField(label=_("Nombre"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Apellidos"), max_length=150, required=False)
    password = forms.CharField(label=_("Contraseña"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))


class LoginForm(forms.Form):
    email = forms.EmailField(label=_("Email"), max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(label=_("Contraseña"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class ProfileForm(forms.Form):
    first_name = forms.CharField(label=_("Nombre"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Apellidos"), max_length=150, required=False)
    language = forms.ChoiceField(label=_("Idioma"), choices=[("es", "Español"), ("en", "English")])
    time_zone = forms.ChoiceField(label=_("Zona horaria"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.data.get("time_zone") if self.is_bound else self.initial.get("time_zone")
        field = self.fields["time_zone"]
        field.choices = zone_choices(current)
        field.valid_value = zone_is_valid  # any real zone (the curated list is what is offered)


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(label=_("Contraseña actual"), strip=False,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    new_password = forms.CharField(label=_("Nueva contraseña"), strip=False,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))


class DeleteAccountForm(forms.Form):
    password = forms.CharField(label=_("Contraseña"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


# --- password reset ---------------------------------------------------------------
class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(label=_("Email"), max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}))


class PasswordResetSetForm(forms.Form):
    """The policy (AUTH_PASSWORD_VALIDATORS) is checked by the service; here only that both match."""

    new_password = forms.CharField(label=_("Nueva contraseña"), strip=False, max_length=128,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    new_password2 = forms.CharField(label=_("Repite la nueva contraseña"), strip=False, max_length=128,
                                    widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("new_password"), cleaned.get("new_password2")
        if first and second and first != second:
            self.add_error("new_password2", _("Las dos contraseñas no coinciden."))
        return cleaned


# --- e-mail verification ----------------------------------------------------------
class EmailChangeForm(forms.Form):
    email = forms.EmailField(label=_("Nuevo email"), max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    old_password = forms.CharField(label=_("Contraseña actual"), strip=False, max_length=128,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
