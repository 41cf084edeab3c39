from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class CharacterClassValidator:
    """The seed's policy beyond length: an upper, a lower, a digit and a special character."""

    # Unicode-aware: "Ñ" is an upper-case letter, "ñ" a lower-case one, "٣" a digit. Anything that is
    # neither a letter nor a digit (punctuation, symbols, spaces) counts as special.
    RULES = [
        (lambda p: any(ch.isupper() for ch in p), "password_no_upper",
         gettext_lazy("La contraseña debe contener al menos una letra mayúscula.")),
        (lambda p: any(ch.islower() for ch in p), "password_no_lower",
         gettext_lazy("La contraseña debe contener al menos una letra minúscula.")),
        (lambda p: any(ch.isdigit() for ch in p), "password_no_digit",
         gettext_lazy("La contraseña debe contener al menos un número.")),
        (lambda p: any(not ch.isalnum() for ch in p), "password_no_special",
         gettext_lazy("La contraseña debe contener al menos un carácter especial.")),
    ]

    def validate(self, password, user=None):
        password = password or ""
        errors = [
            ValidationError(str(message), code=code)
            for check, code, message in self.RULES
            if not check(password)
        ]
        if errors:
            raise ValidationError(errors)

    def get_help_text(self):
        return _(
            "Tu contraseña debe contener mayúsculas, minúsculas, al menos un número "
            "y un carácter especial."
        )
