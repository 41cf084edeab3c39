"""Every file format the service knows: canonical name, aliases, family, pricing category, MIME types.

Pure Python (no Django). Adding a format is one ``Format`` entry here plus a mapping in the engine
that converts it (its ``pairs()``); a format no installed engine converts is simply not offered.
"""

from __future__ import annotations

from dataclasses import dataclass

# Family (what the formats endpoint and pages group by) -> pricing category (what the price uses).
FAMILIES: dict[str, str] = {
    "images": "image",
    "documents": "document",
    "spreadsheets": "document",
    "presentations": "document",
    "ebooks": "document",
    "audio": "audio",
    "video": "video",
}
PRICING_CATEGORIES = ("image", "document", "audio", "video")


@dataclass(frozen=True)
class Format:
    name: str  # canonical name, also the file extension (without dot)
    family: str  # a key of FAMILIES
    mime: tuple[str, ...]  # first = the Content-Type of a produced file
    aliases: tuple[str, ...] = ()  # other extensions / names that mean this format
    output: bool = True  # False: accepted as a source only (e.g. svg, doc, xls, ppt)

    @property
    def category(self) -> str:
        return FAMILIES[self.family]

    @property
    def extension(self) -> str:
        return self.name

    @property
    def content_type(self) -> str:
        return self.mime[0]


def _f(name, family, mime, aliases=(), output=True) -> Format:
    return Format(name, family, tuple([mime] if isinstance(mime, str) else mime), tuple(aliases), output)


FORMATS: tuple[Format, ...] = (
    # images
    _f("jpg", "images", "image/jpeg", ("jpeg", "jpe", "jfif")),
    _f("png", "images", "image/png"),
    _f("gif", "images", "image/gif"),
    _f("bmp", "images", "image/bmp", ("dib",)),
    _f("tiff", "images", "image/tiff", ("tif",)),
    _f("webp", "images", "image/webp"),
    _f("heic", "images", ("image/heic", "image/heif"), ("heif", "hif")),
    _f("avif", "images", "image/avif"),
    _f("svg", "images", "image/svg+xml", output=False),
    _f("ico", "images", ("image/vnd.microsoft.icon", "image/x-icon")),
    # documents
    _f("pdf", "documents", "application/pdf"),
    _f("docx", "documents", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    _f("txt", "documents", "text/plain", ("text",)),
    _f("rtf", "documents", ("application/rtf", "text/rtf")),
    _f("odt", "documents", "application/vnd.oasis.opendocument.text"),
    _f("doc", "documents", "application/msword", output=False),
    _f("md", "documents", "text/markdown", ("markdown",)),
    _f("html", "documents", "text/html", ("htm", "xhtml")),
    # spreadsheets
    _f("xlsx", "spreadsheets", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    _f("xls", "spreadsheets", "application/vnd.ms-excel", output=False),
    _f("ods", "spreadsheets", "application/vnd.oasis.opendocument.spreadsheet"),
    _f("csv", "spreadsheets", "text/csv"),
    # presentations
    _f("pptx", "presentations", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    _f("ppt", "presentations", "application/vnd.ms-powerpoint", output=False),
    _f("odp", "presentations", "application/vnd.oasis.opendocument.presentation"),
    # e-books
    _f("epub", "ebooks", "application/epub+zip"),
    # audio
    _f("mp3", "audio", "audio/mpeg"),
    _f("wav", "audio", ("audio/wav", "audio/x-wav")),
    _f("flac", "audio", "audio/flac"),
    _f("aac", "audio", "audio/aac", ("adts",)),
    _f("ogg", "audio", "audio/ogg", ("oga",)),
    _f("m4a", "audio", ("audio/mp4", "audio/x-m4a"), ("m4b",)),
    _f("opus", "audio", ("audio/opus", "audio/ogg")),
    _f("wma", "audio", "audio/x-ms-wma"),
    _f("aiff", "audio", ("audio/aiff", "audio/x-aiff"), ("aif", "aifc")),
    # video
    _f("mp4", "video", "video/mp4", ("mpeg4",)),
    _f("avi", "video", "video/x-msvideo"),
    _f("mov", "video", "video/quicktime", ("qt", "quicktime")),
    _f("wmv", "video", "video/x-ms-wmv", ("asf",)),
    _f("flv", "video", "video/x-flv"),
    _f("mkv", "video", "video/x-matroska", ("matroska",)),
    _f("webm", "video", "video/webm"),
    _f("3gp", "video", "video/3gpp", ("3gpp",)),
    _f("mpeg", "video", "video/mpeg", ("mpg", "mpe")),
    _f("m4v", "video", "video/x-m4v"),
)

BY_NAME: dict[str, Format] = {f.name: f for f in FORMATS}
ALIASES: dict[str, str] = {alias: f.name for f in FORMATS for alias in f.aliases}
ALL_FORMATS: list[str] = [f.name for f in FORMATS]
# Family -> its formats, in catalogue order (the formats endpoint's ``format_categories``).
CATEGORIES: dict[str, list[str]] = {family: [f.name for f in FORMATS if f.family == family] for family in FAMILIES}
CONTENT_TYPES: dict[str, str] = {f.name: f.content_type for f in FORMATS}
EXTENSIONS: dict[str, str] = {f.name: f.extension for f in FORMATS}


def canonical(fmt: str | None) -> str | None:
    """Normalise a format name or extension (".JPEG" -> "jpg"); None if unknown."""
    if not fmt or not isinstance(fmt, str):
        return None
    name = fmt.strip().lower().lstrip(".")
    name = ALIASES.get(name, name)
    return name if name in BY_NAME else None


def get(fmt: str | None) -> Format | None:
    name = canonical(fmt)
    return BY_NAME[name] if name else None


def family_of(fmt: str | None) -> str | None:
    """"images", "spreadsheets", … or None."""
    found = get(fmt)
    return found.family if found else None


def category_of(fmt: str | None) -> str | None:
    """Pricing category ("image", "document", "audio", "video") or None."""
    found = get(fmt)
    return found.category if found else None


def is_output(fmt: str | None) -> bool:
    """Whether the format can be produced (input-only formats like svg or doc cannot)."""
    found = get(fmt)
    return bool(found and found.output)


def conversion_type(src: str, dst: str) -> str:
    """"image_to_image" etc. for same-category pairs, "complex" across categories (the price's base)."""
    src_cat, dst_cat = category_of(src), category_of(dst)
    if src_cat is not None and src_cat == dst_cat:
        return f"{src_cat}_to_{dst_cat}"
    return "complex"


def formats_in(category: str) -> list[str]:
    """Formats of a family ("images") or of a pricing category ("image")."""
    if category in CATEGORIES:
        return list(CATEGORIES[category])
    return [f.name for f in FORMATS if f.category == category]
