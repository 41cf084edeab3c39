from django import forms
from django.utils.translation import gettext_lazy as _

from . import rules


class RedeemForm(forms.Form):
    points = forms.IntegerField(
        label=_("Puntos a canjear"),
        min_value=1,
        max_value=1_000_000_000,
        help_text=_("100 puntos = 1 crédito. Mínimo 100, en múltiplos de 100."),
        widget=forms.NumberInput(attrs={"step": rules.POINTS_PER_CREDIT, "min": rules.MIN_REDEMPTION,
                                        "inputmode": "numeric"}),
    )
