"""Catalogue of supported formats, aliases, categories and MIME types.

Pure Python: no Django imports, safe to import anywhere.
"""

from __future__ import annotations

CATEGORIES: dict[str, list[str]] = {
    "images": ["jpg", "png", "gif", "bmp", "tiff", "webp"],
    "documents": ["pdf", "docx", "txt", "rtf", "odt"],
    "audio": ["mp3", "wav", "flac", "aac", "ogg"],
    "video": ["mp4", "avi", "mov", "wmv", "flv"],
}

# Plural category key -> singular category name used by the rest of the app.
SINGULAR: dict[str, str] = {
    "images": "image",
    "documents": "document",
    "audio": "audio",
    "video": "video",
}

ALL_FORMATS: list[str] = [fmt for fmts in CATEGORIES.values() for fmt in fmts]

ALIASES: dict[str, str] = {
    "jpeg": "jpg",
    "jpe": "jpg",
    "jfif": "jpg",
    "tif": "tiff",
    "dib": "bmp",
    "m4a": "aac",
    "adts": "aac",
    "oga": "ogg",
    "text": "txt",
    "mpeg4": "mp4",
    "m4v": "mp4",
    "qt": "mov",
    "quicktime": "mov",
    "asf": "wmv",
}

CONTENT_TYPES: dict[str, str] = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "bmp": "image/bmp",
    "tiff": "image/tiff",
    "webp": "image/webp",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "txt": "text/plain",
    "rtf": "application/rtf",
    "odt": "application/vnd.oasis.opendocument.text",
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "flac": "audio/flac",
    "aac": "audio/aac",
    "ogg": "audio/ogg",
    "mp4": "video/mp4",
    "avi": "video/x-msvideo",
    "mov": "video/quicktime",
    "wmv": "video/x-ms-wmv",
    "flv": "video/x-flv",
}

# Canonical format -> file extension (without dot). Identical to the name.
EXTENSIONS: dict[str, str] = {fmt: fmt for fmt in ALL_FORMATS}

_CATEGORY_OF: dict[str, str] = {
    fmt: SINGULAR[cat] for cat, fmts in CATEGORIES.items() for fmt in fmts
}


def canonical(fmt: str | None) -> str | None:
    """Normalise a format name or extension; None if unknown."""
    if not fmt:
        return None
    name = str(fmt).strip().lower().lstrip(".")
    name = ALIASES.get(name, name)
    return name if name in _CATEGORY_OF else None


def category_of(fmt: str | None) -> str | None:
    """Singular category ("image", "document", "audio", "video") or None."""
    name = canonical(fmt)
    return _CATEGORY_OF.get(name) if name else None


def conversion_type(src: str, dst: str) -> str:
    """Return e.g. "image_to_image" for same-category pairs, "complex" across categories."""
    src_cat = category_of(src)
    dst_cat = category_of(dst)
    if src_cat is not None and src_cat == dst_cat:
        return f"{src_cat}_to_{dst_cat}"
    return "complex"


def formats_in(category: str) -> list[str]:
    """Formats of a category, accepting singular or plural names."""
    for plural, singular in SINGULAR.items():
        if category in (plural, singular):
            return list(CATEGORIES[plural])
    return []
