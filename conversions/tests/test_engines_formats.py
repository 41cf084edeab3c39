"""Format catalogue."""

from conversions import formats


def test_categories_order():
    assert formats.CATEGORIES["images"] == ["jpg", "png", "gif", "bmp", "tiff", "webp"]
    assert list(formats.CATEGORIES) == ["images", "documents", "audio", "video"]
    assert len(formats.ALL_FORMATS) == 21


def test_canonical_and_aliases():
    assert formats.canonical("JPEG") == "jpg"
    assert formats.canonical(".jpe") == "jpg"
    assert formats.canonical("tif") == "tiff"
    assert formats.canonical("m4a") == "aac"
    assert formats.canonical("oga") == "ogg"
    assert formats.canonical("text") == "txt"
    assert formats.canonical("m4v") == "mp4"
    assert formats.canonical("qt") == "mov"
    assert formats.canonical("exe") is None
    assert formats.canonical("") is None


def test_category_and_conversion_type():
    assert formats.category_of("jpeg") == "image"
    assert formats.category_of("pdf") == "document"
    assert formats.category_of("flac") == "audio"
    assert formats.category_of("wmv") == "video"
    assert formats.category_of("zip") is None
    assert formats.conversion_type("png", "jpg") == "image_to_image"
    assert formats.conversion_type("docx", "pdf") == "document_to_document"
    assert formats.conversion_type("wav", "mp3") == "audio_to_audio"
    assert formats.conversion_type("mp4", "avi") == "video_to_video"
    assert formats.conversion_type("mp4", "mp3") == "complex"
    assert formats.conversion_type("png", "pdf") == "complex"


def test_content_types_and_extensions_cover_all_formats():
    for fmt in formats.ALL_FORMATS:
        assert "/" in formats.CONTENT_TYPES[fmt]
        assert formats.EXTENSIONS[fmt] == fmt
