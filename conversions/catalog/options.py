"""Per-pair conversion options beyond quality: their schemas, bounds and validation.

Pure Python. Which schema a pair takes depends on the families of its formats (an image target,
pages of a PDF/slides rendered as images, an audio target, a video target); the video codec's
choices also depend on the container and on the encoders of the engine that serves the pair.
Schemas are emitted as JSON Schema objects (formats endpoint, OpenAPI) and enforce the same bounds
``validate`` checks. Values may arrive as strings (multipart forms): they are coerced.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .formats import family_of


def _(text: str) -> str:  # translation marker (picked up by makemessages)
    return text


@dataclass(frozen=True)
class Option:
    name: str
    type: str  # "integer" | "number" | "boolean" | "string"
    description: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple | None = None
    pattern: str | None = None
    max_length: int | None = None
    default: object = None

    def json_schema(self, choices: tuple | None = None) -> dict:
        schema: dict = {"type": self.type, "description": self.description}
        choices = choices if choices is not None else self.choices
        if choices is not None:
            schema["enum"] = list(choices)
        minimum, maximum = self.minimum, self.maximum
        if choices and self.type in ("integer", "number") and minimum is None and maximum is None:
            minimum, maximum = min(choices), max(choices)  # every integer in the schema is bounded
        if minimum is not None:
            schema["minimum"] = minimum
        if maximum is not None:
            schema["maximum"] = maximum
        if self.pattern is not None:
            schema["pattern"] = self.pattern
        if self.max_length is not None:
            schema["maxLength"] = self.max_length
        if self.default is not None:
            schema["default"] = self.default
        return schema


MAX_SECONDS = 24 * 3600
PAGES_PATTERN = r"^\s*\d{1,4}(\s*-\s*\d{1,4})?(\s*,\s*\d{1,4}(\s*-\s*\d{1,4})?)*\s*$"
COLOUR_PATTERN = r"^#[0-9a-fA-F]{6}$"
FITS = ("contain", "cover", "fill")
SAMPLE_RATES = (8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000, 96000)
# Video codecs a container may hold (the engine's encoders decide which are offered).
CONTAINER_CODECS: dict[str, tuple[str, ...]] = {
    "mp4": ("h264", "h265", "av1"),
    "mov": ("h264", "h265"),
    "m4v": ("h264", "h265"),
    "mkv": ("h264", "h265", "vp9", "av1"),
    "webm": ("vp9", "av1"),
}

WIDTH = Option("width", "integer", _("Ancho en píxeles (mantiene la proporción si falta el alto)"), 1, 16384)
HEIGHT = Option("height", "integer", _("Alto en píxeles (mantiene la proporción si falta el ancho)"), 1, 16384)
FIT = Option("fit", "string", _("Encaje con ancho y alto: contain (dentro), cover (recorta), fill (deforma)"),
             choices=FITS, default="contain")
STRIP = Option("strip_metadata", "boolean", _("Quitar metadatos (EXIF, GPS)"), default=True)
BACKGROUND = Option("background", "string", _("Color de fondo al quitar la transparencia (#rrggbb)"),
                    pattern=COLOUR_PATTERN, max_length=7, default="#ffffff")
PAGES = Option("pages", "string", _("Páginas, p. ej. 1-3,5 (todas si se omite)"), pattern=PAGES_PATTERN,
               max_length=100)
DPI = Option("dpi", "integer", _("Resolución en puntos por pulgada"), 36, 600)
BITRATE = Option("bitrate", "integer", _("Tasa de bits del audio en kbit/s"), 32, 320)
SAMPLE_RATE = Option("sample_rate", "integer", _("Frecuencia de muestreo en Hz"), choices=SAMPLE_RATES)
CHANNELS = Option("channels", "integer", _("Canales de audio (1 mono, 2 estéreo)"), choices=(1, 2))
TRIM_START = Option("trim_start", "number", _("Empezar en este segundo"), 0, MAX_SECONDS)
TRIM_END = Option("trim_end", "number", _("Terminar en este segundo"), 0.1, MAX_SECONDS)
VIDEO_WIDTH = Option("width", "integer", _("Ancho del vídeo en píxeles (par; mantiene la proporción)"), 16, 3840)
VIDEO_HEIGHT = Option("height", "integer", _("Alto del vídeo en píxeles (par; mantiene la proporción)"), 16, 3840)
FPS = Option("fps", "number", _("Fotogramas por segundo"), 1, 60)
CODEC = Option("codec", "string", _("Códec de vídeo"), choices=("h264", "h265", "vp9", "av1"))
MUTE = Option("mute", "boolean", _("Sin pista de sonido"), default=False)

GROUPS: dict[str, tuple[Option, ...]] = {
    "image": (WIDTH, HEIGHT, FIT, STRIP, BACKGROUND),
    "pages": (PAGES, DPI),
    "audio": (BITRATE, SAMPLE_RATE, CHANNELS, TRIM_START, TRIM_END),
    "video": (VIDEO_WIDTH, VIDEO_HEIGHT, FPS, CODEC, TRIM_START, TRIM_END, MUTE),
}
PAGED_FAMILIES = {"presentations"}


def group_for(src: str, dst: str) -> str | None:
    """The option group of a pair (None: only quality)."""
    src_family, dst_family = family_of(src), family_of(dst)
    if dst_family == "images" and (src == "pdf" or src_family in PAGED_FAMILIES):
        return "pages"
    if src_family == "images" and (dst_family == "images" or dst == "pdf"):
        return "image"
    if dst_family == "audio" and src_family in ("audio", "video"):
        return "audio"
    if dst_family == "video" and src_family in ("audio", "video", "images"):
        return "video"
    return None


@dataclass(frozen=True)
class PairOptions:
    """The options one pair takes: a group and, for video, the codecs its container and engine offer."""

    group: str
    codecs: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.group}_{'_'.join(self.codecs)}" if self.codecs else self.group

    def options(self) -> tuple[Option, ...]:
        return tuple(o for o in GROUPS[self.group] if o.name != "codec" or self.codecs)

    def json_schema(self) -> dict:
        properties = {o.name: o.json_schema(self.codecs if o.name == "codec" else None) for o in self.options()}
        return {"type": "object", "properties": properties, "additionalProperties": False}


def pair_options(src: str, dst: str, codecs: tuple[str, ...] | list[str] | None = None) -> PairOptions | None:
    """``codecs``: the video codecs the serving engine can encode (None: none offered)."""
    group = group_for(src, dst)
    if group is None:
        return None
    offered = ()
    if group == "video" and codecs:
        offered = tuple(c for c in CONTAINER_CODECS.get(dst, ()) if c in codecs)
    return PairOptions(group, offered if len(offered) > 1 else ())


class OptionError(ValueError):
    """A bad option: ``name`` is the option, ``message`` a Spanish source string (with %(..)s params)."""

    def __init__(self, name: str, message: str, **params) -> None:
        self.name, self.message, self.params = name, message, params
        super().__init__(f"{name}: {message % params if params else message}")


# Numbers are bounded before float()/int(): a 401-digit integer (valid JSON) makes float() raise
# OverflowError, a long digit string costs time. Every numeric option's own bounds are far inside these.
MAX_NUMBER = 10**15
MAX_NUMBER_CHARS = 32

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def _coerce(option: Option, value):
    if option.type == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise OptionError(option.name, _("Debe ser true o false."))
    if option.type in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise OptionError(option.name, _("Debe ser un número."))
        if isinstance(value, str) and len(value.strip()) > MAX_NUMBER_CHARS:
            raise OptionError(option.name, _("Debe ser un número."))
        if isinstance(value, int) and abs(value) > MAX_NUMBER:  # before float(): float(10**400) overflows
            _check(option, MAX_NUMBER if value > 0 else -MAX_NUMBER, option.choices)  # names its bound
            raise OptionError(option.name, _("Debe ser un número."))
        try:
            number = float(value.strip()) if isinstance(value, str) else float(value)
        except (ValueError, OverflowError):
            raise OptionError(option.name, _("Debe ser un número.")) from None
        if not math.isfinite(number):
            raise OptionError(option.name, _("Debe ser un número."))
        if option.type == "integer":
            if number != int(number):
                raise OptionError(option.name, _("Debe ser un número entero."))
            return int(number)
        return number
    if not isinstance(value, str):
        raise OptionError(option.name, _("Debe ser un texto."))
    return value.strip()


def _check(option: Option, value, choices):
    if choices is not None and value not in choices:
        raise OptionError(option.name, _("Valor no válido; admite: %(choices)s."),
                          choices=", ".join(str(c) for c in choices))
    if option.minimum is not None and value < option.minimum:
        raise OptionError(option.name, _("Debe ser al menos %(min)s."), min=option.minimum)
    if option.maximum is not None and value > option.maximum:
        raise OptionError(option.name, _("Debe ser como mucho %(max)s."), max=option.maximum)
    if option.max_length is not None and len(value) > option.max_length:
        raise OptionError(option.name, _("Demasiado largo."))
    if option.pattern is not None and not re.fullmatch(option.pattern, value):
        raise OptionError(option.name, _("Formato no válido."))


def parse_pages(spec: str, max_page: int = 9999) -> list[int]:
    """"1-3,5" -> [1, 2, 3, 5] (1-based, sorted, unique); raises OptionError for reversed ranges."""
    pages: set[int] = set()
    for part in spec.split(","):
        first, _sep, last = part.strip().partition("-")
        start, end = int(first), int(last or first)
        if start < 1 or end < start:
            raise OptionError("pages", _("Rango de páginas no válido: %(part)s."), part=part.strip())
        pages.update(range(start, min(end, max_page) + 1))
    return sorted(pages)


def validate(pair: PairOptions | None, raw: dict | None) -> dict:
    """Checked, coerced options with the defaults of the pair's group filled in.

    Raises OptionError naming the first bad (or unknown) option.
    """
    raw = dict(raw or {})
    if pair is None:
        if raw:
            raise OptionError(sorted(raw)[0], _("Opción no admitida para esta conversión."))
        return {}
    known = {o.name: o for o in pair.options()}
    for name in sorted(raw):
        if name not in known:
            raise OptionError(name, _("Opción no admitida para esta conversión."))
    cleaned: dict = {}
    for name, option in known.items():
        value = raw.get(name)
        if value is None or value == "":
            if option.default is not None:
                cleaned[name] = option.default
            continue
        value = _coerce(option, value)
        _check(option, value, pair.codecs if name == "codec" else option.choices)
        cleaned[name] = value
    if "pages" in cleaned:
        parse_pages(cleaned["pages"])
    start, end = cleaned.get("trim_start"), cleaned.get("trim_end")
    if start is not None and end is not None and end <= start:
        raise OptionError("trim_end", _("Debe ser mayor que trim_start."))
    return cleaned


def openapi_schema() -> dict:
    """Every option any pair may take, as one JSON Schema object (the API's ``options`` field).

    An option shared by groups gets the widest bounds; which options and bounds a given pair takes
    is in the formats endpoint (``pairs`` -> ``option_schemas``) and is enforced per pair.
    """
    merged: dict[str, dict] = {}
    for group in GROUPS.values():
        for option in group:
            schema = option.json_schema()
            current = merged.get(option.name)
            if current is None:
                merged[option.name] = schema
                continue
            if "minimum" in schema:
                current["minimum"] = min(current.get("minimum", schema["minimum"]), schema["minimum"])
            if "maximum" in schema:
                current["maximum"] = max(current.get("maximum", schema["maximum"]), schema["maximum"])
            if "enum" in schema:
                current["enum"] = list(dict.fromkeys([*current.get("enum", []), *schema["enum"]]))
    return {"type": "object", "properties": merged, "additionalProperties": False,
            "description": "per-pair options (see GET /api/conversion/supported-formats: pairs, option_schemas)"}
