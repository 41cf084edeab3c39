import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class CharacterClassValidator:
    """The seed's policy beyond length: an upper, a lower, a digit and a special character."""

    RULES = [
        (r"[A-Z]", "password_no_upper", gettext_lazy("La contraseña debe contener al menos una letra mayúscula.")),
        (r"[a-z]", "password_no_lower", gettext_lazy("La contraseña debe contener al menos una letra minúscula.")),
        (r"\d", "password_no_digit", gettext_lazy("La contraseña debe contener al menos un número.")),
        (r"[^A-Za-z0-9]", "password_no_special",
         gettext_lazy("La contraseña debe contener al menos un carácter especial.")),
    ]

    def validate(self, password, user=None):
        errors = [
            ValidationError(str(message), code=code)
            for pattern, code, message in self.RULES
            if not re.search(pattern, password or "")
        ]
        if errors:
            raise ValidationError(errors)

    def get_help_text(self):
        return _(
            "Tu contraseña debe contener mayúsculas, minúsculas, al menos un número "
            "y un carácter especial."
        )
