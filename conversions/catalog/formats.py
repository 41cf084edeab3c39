"""Every file format the service knows: canonical name, aliases, family, pricing category, MIME types
and content signatures.

Pure Python (no Django). Adding a format is one ``Format`` entry here (with its signatures, see
``signatures``) plus a mapping in the engine that converts it (its ``pairs()``); a format no installed
engine converts is simply not offered.
"""

from __future__ import annotations

from dataclasses import dataclass

from .signatures import (
    ASF_AUDIO_MEDIA,
    ASF_VIDEO_MEDIA,
    AVIF_BRANDS,
    HEIF_BRANDS,
    AsfStream,
    Brand,
    EbmlDocType,
    Heuristic,
    OleStream,
    OoxmlPart,
    Signature,
    ZipMimetype,
    magic,
)

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
    signatures: tuple[Signature, ...] = ()  # how detection recognises its content

    @property
    def category(self) -> str:
        return FAMILIES[self.family]

    @property
    def extension(self) -> str:
        return self.name

    @property
    def content_type(self) -> str:
        return self.mime[0]


def _f(name, family, mime, aliases=(), output=True, sig=()) -> Format:
    return Format(name, family, tuple([mime] if isinstance(mime, str) else mime), tuple(aliases), output,
                  tuple(sig))


_TEXT = Heuristic("text", "plain text (UTF-8 or legacy 8-bit), no other signature")
_NAMED_TEXT = Heuristic("text_by_name", "plain text whose file name says the format")
_MPEG_AUDIO = Heuristic("mpeg_audio", "MPEG audio / ADTS frame header bit fields")


FORMATS: tuple[Format, ...] = (
    # images
    _f("jpg", "images", "image/jpeg", ("jpeg", "jpe", "jfif"),
       sig=(magic(b"\xff\xd8\xff"),)),
    _f("png", "images", "image/png",
       sig=(magic(b"\x89PNG\r\n\x1a\n"),)),
    _f("gif", "images", "image/gif",
       sig=(magic(b"GIF87a"), magic(b"GIF89a"))),
    _f("bmp", "images", "image/bmp", ("dib",),
       sig=(magic(b"BM", check="bmp_header"),)),
    _f("tiff", "images", "image/tiff", ("tif",),
       sig=(magic(b"II*\x00"), magic(b"MM\x00*"))),
    _f("webp", "images", "image/webp",
       sig=(magic(b"RIFF", (8, b"WEBP")),)),
    _f("heic", "images", ("image/heic", "image/heif"), ("heif", "hif"),
       sig=(Brand(HEIF_BRANDS),)),
    _f("avif", "images", "image/avif",
       sig=(Brand(AVIF_BRANDS), Brand(HEIF_BRANDS, compatible=AVIF_BRANDS))),
    _f("svg", "images", "image/svg+xml", output=False,
       sig=(Heuristic("svg_root", "text whose first element after the XML prolog is <svg>"),)),
    _f("ico", "images", ("image/vnd.microsoft.icon", "image/x-icon"),
       sig=(magic(b"\x00\x00\x01\x00", check="icon_directory"),)),
    _f("jxl", "images", "image/jxl",  # bare codestream, or the ISO-BMFF container's signature box
       sig=(magic(b"\xff\x0a"), magic(b"\x00\x00\x00\x0cJXL \r\n\x87\n"))),
    # documents
    _f("pdf", "documents", "application/pdf",
       sig=(magic(b"%PDF-", within=1024),)),  # may follow some junk bytes (readers accept it)
    _f("docx", "documents", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
       sig=(OoxmlPart(b"wordprocessingml.document.main+xml", "word/document.xml", "word/"),)),
    _f("txt", "documents", "text/plain", ("text",),
       sig=(_TEXT,)),
    _f("rtf", "documents", ("application/rtf", "text/rtf"),
       sig=(magic(b"{\\rtf"), magic(b"\xef\xbb\xbf{\\rtf"))),
    _f("odt", "documents", "application/vnd.oasis.opendocument.text",
       sig=(ZipMimetype(b"application/vnd.oasis.opendocument.text"),)),
    _f("doc", "documents", "application/msword", output=False,
       sig=(OleStream(("worddocument",)),)),
    _f("md", "documents", "text/markdown", ("markdown",),
       sig=(_NAMED_TEXT,)),
    _f("html", "documents", "text/html", ("htm", "xhtml"),
       sig=(_NAMED_TEXT, Heuristic("html_start", "text starting with <!doctype html> or <html>"))),
    # spreadsheets
    _f("xlsx", "spreadsheets", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
       sig=(OoxmlPart(b"spreadsheetml.sheet.main+xml", "xl/workbook.xml", "xl/"),)),
    _f("xls", "spreadsheets", "application/vnd.ms-excel", output=False,
       sig=(OleStream(("workbook", "book")),)),
    _f("ods", "spreadsheets", "application/vnd.oasis.opendocument.spreadsheet",
       sig=(ZipMimetype(b"application/vnd.oasis.opendocument.spreadsheet"),)),
    _f("csv", "spreadsheets", "text/csv",
       sig=(_NAMED_TEXT,)),
    # presentations
    _f("pptx", "presentations", "application/vnd.openxmlformats-officedocument.presentationml.presentation",
       sig=(OoxmlPart(b"presentationml.presentation.main+xml", "ppt/presentation.xml", "ppt/"),)),
    _f("ppt", "presentations", "application/vnd.ms-powerpoint", output=False,
       sig=(OleStream(("powerpoint document",)),)),
    _f("odp", "presentations", "application/vnd.oasis.opendocument.presentation",
       sig=(ZipMimetype(b"application/vnd.oasis.opendocument.presentation"),)),
    # e-books
    _f("epub", "ebooks", "application/epub+zip",
       sig=(ZipMimetype(b"application/epub+zip"),)),
    # audio
    _f("mp3", "audio", "audio/mpeg",
       sig=(magic(b"ID3"), _MPEG_AUDIO)),
    _f("wav", "audio", ("audio/wav", "audio/x-wav"),
       sig=(magic(b"RIFF", (8, b"WAVE")),)),
    _f("flac", "audio", "audio/flac",
       sig=(magic(b"fLaC"),)),
    _f("aac", "audio", "audio/aac", ("adts",),
       sig=(magic(b"ID3", check="id3_then_adts"), _MPEG_AUDIO)),
    _f("ogg", "audio", "audio/ogg", ("oga",),
       sig=(magic(b"OggS"),)),
    _f("m4a", "audio", ("audio/mp4", "audio/x-m4a"), ("m4b",),
       sig=(Brand((b"M4A ", b"M4B ", b"M4P ")), Heuristic("bmff_sound_only", "generic brands, sound tracks only"))),
    _f("opus", "audio", ("audio/opus", "audio/ogg"),
       sig=(magic(b"OggS", contains=((b"OpusHead", 512),)),)),
    _f("wma", "audio", "audio/x-ms-wma",
       sig=(AsfStream(ASF_AUDIO_MEDIA),)),
    _f("aiff", "audio", ("audio/aiff", "audio/x-aiff"), ("aif", "aifc"),
       sig=(magic(b"FORM", (8, b"AIFF")), magic(b"FORM", (8, b"AIFC")))),
    # video
    _f("mp4", "video", "video/mp4", ("mpeg4",),
       sig=(Brand(other=True),)),
    _f("avi", "video", "video/x-msvideo",
       sig=(magic(b"RIFF", (8, b"AVI ")),)),
    _f("mov", "video", "video/quicktime", ("qt", "quicktime"),
       sig=(Brand((b"qt  ",)),  # and old QuickTime files without ftyp: a known top-level atom first
            *(magic((4, atom), check="qt_atom_size") for atom in (b"moov", b"mdat", b"wide", b"free")))),
    _f("wmv", "video", "video/x-ms-wmv", ("asf",),
       sig=(AsfStream(ASF_VIDEO_MEDIA, default=True),)),
    _f("flv", "video", "video/x-flv",
       sig=(magic(b"FLV\x01"),)),
    _f("mkv", "video", "video/x-matroska", ("matroska",),
       sig=(EbmlDocType(b"matroska"),)),
    _f("webm", "video", "video/webm",
       sig=(EbmlDocType(b"webm"),)),
    _f("3gp", "video", "video/3gpp", ("3gpp",),
       sig=(Brand(prefixes=(b"3gp", b"3g2", b"3ge", b"3gg", b"3gs")),)),
    _f("mpeg", "video", "video/mpeg", ("mpg", "mpe"),
       sig=(magic(b"\x00\x00\x01\xba"), magic(b"\x00\x00\x01\xb3"))),
    _f("m4v", "video", "video/x-m4v",
       sig=(Brand((b"M4V ", b"M4VH", b"M4VP")),)),
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
