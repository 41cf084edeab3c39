from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Scope


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(label=_("Nombre"), max_length=50)
    scopes = forms.MultipleChoiceField(label=_("Permisos"), choices=Scope.choices,
                                       widget=forms.CheckboxSelectMultiple, initial=[Scope.CONVERT, Scope.READ])
    expiry_date = forms.DateTimeField(label=_("Caduca (opcional)"), required=False,
                                      widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
