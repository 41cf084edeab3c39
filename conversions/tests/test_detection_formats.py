"""Detection of the second-stage formats by content (ISO-BMFF brands, EBML DocType, ASF streams,
OLE directories, zip content types, SVG roots, text by name), for whole files and for the 64 KiB
head the page sends before uploading."""

from __future__ import annotations

import pytest

from conversions.detection import check_upload, detect_format, detect_head
from conversions.engines.base import EngineError, UnsafeInput
from conversions.tests import formatfiles as ff


def both(path, name=None):
    """Whole-file detection and head-only detection agree; returns the format."""
    whole = detect_format(path, name or path.name)
    head = detect_head(path.read_bytes()[:65536], name or path.name)
    assert whole == head, (whole, head)
    return whole


@pytest.mark.parametrize(("major", "compatible", "expected"), [
    (b"heic", [b"mif1", b"heic"], "heic"),
    (b"mif1", [b"mif1", b"heic"], "heic"),
    (b"heix", [], "heic"),
    (b"msf1", [b"hevc"], "heic"),
    (b"avif", [b"mif1", b"miaf"], "avif"),
    (b"avis", [b"msf1"], "avif"),
    (b"mif1", [b"avif"], "avif"),
    (b"M4A ", [b"isom"], "m4a"),
    (b"M4V ", [b"isom", b"avc1"], "m4v"),
    (b"3gp5", [b"3gp4", b"isom"], "3gp"),
    (b"3g2a", [], "3gp"),
    (b"qt  ", [], "mov"),
    (b"isom", [b"iso2", b"avc1", b"mp41"], "mp4"),
])
def test_iso_bmff_brands(tmp_path, major, compatible, expected):
    path = ff.isobmff(tmp_path / "f.bin", major, compatible, handlers=[b"vide", b"soun"], moov_last=False)
    assert both(path) == expected


def test_generic_brand_audio_only_is_m4a_even_with_moov_at_the_end(tmp_path):
    """mp42/isom brands say nothing; the track handlers do (the moov box may be past 64 KiB)."""
    audio = ff.isobmff(tmp_path / "voz", b"mp42", [b"isom"], handlers=[b"soun"], moov_last=True)
    assert detect_format(audio) == "m4a"
    video = ff.isobmff(tmp_path / "clip", b"mp42", [b"isom"], handlers=[b"soun", b"vide"], moov_last=True)
    assert detect_format(video) == "mp4"
    near = ff.isobmff(tmp_path / "near", b"isom", [], handlers=[b"soun"], moov_last=False)
    assert both(near) == "m4a"


@pytest.mark.parametrize(("doctype", "expected"), [(b"matroska", "mkv"), (b"webm", "webm"), (b"other", None)])
def test_ebml_doctype_tells_mkv_from_webm(tmp_path, doctype, expected):
    path = ff.ebml(tmp_path / "v.bin", doctype)
    assert both(path) == expected


@pytest.mark.parametrize(("streams", "expected"), [
    (["audio"], "wma"),
    (["video"], "wmv"),
    (["audio", "video"], "wmv"),
    (["video", "audio"], "wmv"),
])
def test_asf_stream_types_tell_wma_from_wmv(tmp_path, streams, expected):
    path = ff.asf(tmp_path / "a.asf", streams)
    assert both(path) == expected
    # the name never decides: an audio-only ASF named .wmv is still WMA
    assert detect_format(path, "clip.wmv") == expected


@pytest.mark.parametrize(("stream", "expected"), [
    ("WordDocument", "doc"), ("Workbook", "xls"), ("Book", "xls"), ("PowerPoint Document", "ppt"),
    ("Something Else", None),
])
def test_ole_directory_names(tmp_path, stream, expected):
    path = ff.ole_file(tmp_path / "legacy.bin", stream)
    assert both(path) == expected


def test_encrypted_office_file_is_refused_in_words(tmp_path):
    path = ff.ole_file(tmp_path / "secreto.xlsx", "EncryptedPackage")
    assert detect_format(path) is None
    with pytest.raises(EngineError) as info:
        check_upload(path, "xlsx")
    assert info.value.code == "encrypted_document"
    assert "contraseña" in info.value.message


@pytest.mark.parametrize(("main_type", "part", "expected"), [
    ("wordprocessingml.document.main", "word/document.xml", "docx"),
    ("spreadsheetml.sheet.main", "xl/workbook.xml", "xlsx"),
    ("presentationml.presentation.main", "ppt/presentation.xml", "pptx"),
])
@pytest.mark.parametrize("content_types_first", [True, False])
def test_ooxml_content_types(tmp_path, main_type, part, expected, content_types_first):
    path = ff.ooxml(tmp_path / "office.zip", main_type, part, content_types_first=content_types_first)
    assert both(path) == expected


def test_macro_enabled_workbook_is_not_xlsx(tmp_path):
    path = ff.ooxml(tmp_path / "macros.xlsm", "spreadsheetml.sheet.macroEnabled.main", "xl/wb.xml")
    assert detect_format(path) is None


@pytest.mark.parametrize(("mimetype", "expected"), [
    ("application/vnd.oasis.opendocument.text", "odt"),
    ("application/vnd.oasis.opendocument.spreadsheet", "ods"),
    ("application/vnd.oasis.opendocument.presentation", "odp"),
    ("application/epub+zip", "epub"),
    ("application/vnd.oasis.opendocument.graphics", None),
])
def test_zip_mimetype_entry(tmp_path, mimetype, expected):
    path = ff.odf(tmp_path / "doc.zip", mimetype)
    assert both(path) == expected


def test_renamed_files_are_what_their_content_is(tmp_path):
    xlsx = ff.ooxml(tmp_path / "informe.docx", "spreadsheetml.sheet.main", "xl/workbook.xml")
    assert both(xlsx) == "xlsx"
    with pytest.raises(EngineError) as info:
        check_upload(xlsx, "docx")
    assert info.value.code == "content_mismatch"
    webm = ff.ebml(tmp_path / "video.mkv", b"webm")
    assert both(webm) == "webm"
    wma = ff.asf(tmp_path / "cancion.wmv", ["audio"])
    assert both(wma) == "wma"


def test_pdf_after_leading_junk(tmp_path):
    path = tmp_path / "factura.pdf"
    path.write_bytes(b"\n\xa0\xa4\x03" + b"%PDF-1.5\n%\xbf\xf7\xa2\xfe\n1 0 obj\n<<>>\nendobj\n")
    assert both(path) == "pdf"
    far = tmp_path / "far.pdf"
    far.write_bytes(b"x" * 2000 + b"%PDF-1.5\n")
    assert both(far) == "txt"  # beyond the first KiB it is just text that mentions a PDF header


@pytest.mark.parametrize(("head", "expected"), [
    (b"FORM\x00\x00\x10\x00AIFFCOMM", "aiff"),
    (b"FORM\x00\x00\x10\x00AIFCFVER", "aiff"),
    (b"FORM\x00\x00\x10\x00ILBMBMHD", None),
    (b"OggS\x00\x02" + b"\x00" * 22 + b"\x01\x13OpusHead\x01\x01", "opus"),
    (b"OggS\x00\x02" + b"\x00" * 22 + b"\x01\x1e\x01vorbis", "ogg"),
    (b"\x00\x00\x01\xba\x21\x00\x01\x00\x01\x80", "mpeg"),
    (b"\x00\x00\x01\xb3\x14\x00\xf0\x14", "mpeg"),
    (b"\x00\x00\x01\x00\x01\x00\x10\x10\x00\x00\x01\x00\x20\x00\x68\x04\x00\x00\x16\x00\x00\x00", "ico"),
    (b"\x00\x00\x01\x00\x00\x00" + b"\x00" * 20, None),  # no images: not an icon
    (b"\xff\x0a\xb2\x13", "jxl"),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n\x00\x00\x00\x14ftypjxl ", "jxl"),  # the ISO-BMFF container
])
def test_binary_signatures(tmp_path, head, expected):
    path = tmp_path / "f.bin"
    path.write_bytes(head + b"\x00" * 64)
    assert both(path) == expected


def test_svg_by_root_element_not_by_name(tmp_path):
    svg = tmp_path / "logo.svg"
    svg.write_text('<?xml version="1.0"?>\n<!-- Inkscape -->\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
                   '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
                   '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')
    assert both(svg) == "svg"
    assert both(svg, "logo") == "svg"
    assert check_upload(svg, "svg") == "svg"
    text = tmp_path / "notas.svg"
    text.write_text("Lorem ipsum dolor sit amet, plain text that is not an image.\n")
    assert both(text) == "txt"
    with pytest.raises(EngineError) as info:
        check_upload(text, "svg")
    assert info.value.code == "content_mismatch"


@pytest.mark.parametrize("declaration", [
    '<!DOCTYPE svg [<!ENTITY lol "lol">]>',
    '<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
])
def test_svg_with_entities_is_refused(tmp_path, declaration):
    svg = tmp_path / "bomba.svg"
    svg.write_text(f'<?xml version="1.0"?>{declaration}<svg xmlns="http://www.w3.org/2000/svg">&lol;</svg>')
    assert detect_format(svg) == "svg"
    with pytest.raises(UnsafeInput) as info:
        check_upload(svg, "svg")
    assert info.value.code == "unsafe_svg"


@pytest.mark.parametrize(("name", "expected"), [
    ("notas.md", "md"), ("tabla.csv", "csv"), ("pagina.html", "html"), ("pagina.htm", "html"),
    ("notas.txt", "txt"), ("sin-extension", "txt"),
])
def test_text_formats_by_name(tmp_path, name, expected):
    path = tmp_path / "t"
    path.write_text("# Título\n\nuno,dos\n[x](https://example.com/y) *a* _b_\n", encoding="utf-8")
    assert both(path, name) == expected


def test_html_without_a_name_is_recognised_but_a_txt_stays_txt(tmp_path):
    page = tmp_path / "page"
    page.write_text("<!DOCTYPE html>\n<html><body><p>Hola</p></body></html>\n")
    assert both(page, "") == "html"
    assert both(page, "page.txt") == "txt"
    assert both(page, "page.md") == "md"


def test_markdown_named_md_passes_the_upload_check(tmp_path):
    path = tmp_path / "LEEME.md"
    path.write_text("# Hola\n\n* uno\n")
    assert check_upload(path, "md") == "md"
    assert check_upload(path, "txt") == "txt"


def test_head_only_falls_back_to_the_name_for_a_large_ole_directory(tmp_path):
    head = bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 4000  # the directory lies beyond the head
    assert detect_head(head, "informe.doc") == "doc"
    assert detect_head(head, "informe.pdf") is None


@pytest.mark.parametrize("container", [False, True])
def test_jxl_by_content_whatever_its_name(tmp_path, container):
    from conversions.tests import enginefiles as ef

    src = ef.make_image(tmp_path / "foto.jxl", "jxl")
    if container:  # the ISO-BMFF form (signature box, ftyp "jxl ", jxlc)
        from PIL import Image

        with Image.open(src) as im:
            im.save(src, "JXL", use_container=True)
        assert src.read_bytes()[4:8] == b"JXL "
    assert both(src) == "jxl" and check_upload(src, "jxl") == "jxl"
    renamed = tmp_path / "foto.png"
    renamed.write_bytes(src.read_bytes())
    assert both(renamed) == "jxl"
    with pytest.raises(EngineError) as info:
        check_upload(renamed, "png")
    assert info.value.code == "content_mismatch"
