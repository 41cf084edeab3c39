from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from .catalog import DEFAULT_QUALITY, quality_choices

QUALITY_CHOICES = [(name, capfirst(_(label))) for name, label in quality_choices()]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class ConvertForm(forms.Form):
    file = MultipleFileField(label=_("Archivos"))
    target_format = forms.ChoiceField(label=_("Convertir a"))
    quality = forms.ChoiceField(label=_("Calidad"), choices=QUALITY_CHOICES, initial=DEFAULT_QUALITY)

    def __init__(self, *args, target_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target_format"].choices = [(fmt, fmt.upper()) for fmt in target_choices]
