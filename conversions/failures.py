"""Why a conversion failed, in the reader's language.

A failed job stores its code, the Spanish (source-language) message and, for messages with
numbers in them, the parameters (``Conversion.error_params``). The text is rendered when it is
read, in the language of whoever reads it, never frozen in the language of the worker.
"""

from __future__ import annotations

from functools import lru_cache

from django.utils import translation
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

# Messages with parameters: one template per code.
PARAM_TEMPLATES = {
    "file_too_large": _("El archivo supera el tamaño máximo de tu plan (%(mb)d MB)."),
    "source_http_error": _("El servidor de origen respondió %(status)d."),
    "too_many_redirects": _("La URL de origen redirige demasiadas veces (máximo %(n)d)."),
}

# The engines' messages (conversions/engines/*) are plain Spanish: listed here so makemessages
# collects them and they are translated when read.
ENGINE_MESSAGES = (
    gettext_noop("No se pudo convertir el archivo"),
    gettext_noop("La conversión superó el tiempo máximo permitido"),
    gettext_noop("El archivo contiene elementos no permitidos"),
    gettext_noop("El archivo resultante supera el tamaño máximo permitido"),
    gettext_noop("Conversión no soportada"),
    gettext_noop("Formato no soportado"),
    gettext_noop("El archivo no coincide con el formato declarado"),
    gettext_noop("El conversor no está disponible"),
    gettext_noop("El archivo no contiene pistas del tipo necesario"),
    gettext_noop("El archivo multimedia está dañado o no es válido"),
    gettext_noop("El documento está dañado o no se puede convertir"),
    gettext_noop("La imagen es demasiado grande"),
    gettext_noop("Las opciones piden un resultado demasiado grande (demasiados píxeles)"),
    gettext_noop("Las páginas pedidas a esa resolución suman demasiados píxeles"),
    gettext_noop("Las opciones piden un vídeo demasiado grande (duración × fotogramas × tamaño)"),
    gettext_noop("La imagen está dañada o no es válida"),
    gettext_noop("La imagen tiene demasiados fotogramas"),
    gettext_noop("Formato de imagen no soportado"),
    gettext_noop("El PDF está dañado o no es válido"),
    gettext_noop("El PDF está protegido con contraseña"),
    gettext_noop("El PDF tiene demasiadas páginas"),
    gettext_noop("El PDF contiene demasiado texto"),
    gettext_noop("Error interno durante la conversión"),
)


@lru_cache(maxsize=8)
def _sources(language: str) -> dict[str, str]:
    """Translated text -> Spanish source, for messages stored while another language was active
    (a job run eagerly inside an English request)."""
    catalog = translation.trans_real.translation(language)._catalog  # noqa: SLF001
    return {str(text): msgid for msgid, text in catalog.items() if isinstance(msgid, str) and text}


def source_message(message: str) -> str:
    """The Spanish source of a stored message (it may have been stored translated)."""
    message = str(message or "")
    for language in ("en",):
        source = _sources(language).get(message)
        if source:
            return source
    return message


def failure_text(code: str, message: str, params: dict | None = None) -> str:
    """The failure message in the active language."""
    template = PARAM_TEMPLATES.get(code or "")
    if template is not None and params:
        try:
            return str(template) % params
        except (KeyError, TypeError, ValueError):
            pass
    if not message:
        return ""
    return gettext(source_message(message))
