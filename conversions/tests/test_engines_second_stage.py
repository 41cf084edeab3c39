"""Engine paths of the second-stage formats, on small generated files (fast; LibreOffice parts skip
without it): HEIC/AVIF/ICO/SVG images, literal txt and Markdown/HTML/EPUB with Pandoc, sheets and
slides with LibreOffice, csv<->xlsx without it, PDF pages as images, the new audio/video targets."""

from __future__ import annotations

import zipfile

import pytest

from conversions.detection import detect_format
from conversions.engines.base import ConvertOptions, EngineError, UnsafeInput
from conversions.engines.ffmpeg import FFmpegEngine
from conversions.engines.libreoffice import LibreOfficeEngine, module_installed
from conversions.engines.pandoc import PandocEngine
from conversions.engines.pillow import PillowEngine, _image_module
from conversions.engines.pymupdf import PyMuPDFEngine
from conversions.engines.tabular import TabularEngine
from conversions.tests import enginefiles as ef

LITERAL = ("# Not a heading\n\nSee [the guide](https://example.com/docs/a_b?x=1) and *stars* and _under_ "
           "scores.\n  indented line with #hash and `ticks`\n")
LITERAL_PIECES = ["# Not a heading", "[the guide](https://example.com/docs/a_b?x=1)", "*stars*", "_under_",
                  "#hash", "`ticks`"]

needs_office = pytest.mark.skipif(not LibreOfficeEngine().is_available(), reason="LibreOffice not installed")


def options(**params) -> ConvertOptions:
    opts = ConvertOptions()
    if params:
        opts.params = params
    return opts


def image_size(path):
    with _image_module().open(path) as im:
        im.load()
        return im.size


# ------------------------------------------------------------------ images


@pytest.mark.parametrize(("src_fmt", "dst_fmt"), [("heic", "png"), ("avif", "jpg"), ("png", "heic"),
                                                  ("png", "avif"), ("ico", "webp"), ("jpg", "ico"),
                                                  ("jxl", "png"), ("jpg", "jxl"), ("jxl", "webp")])
def test_new_image_formats_both_ways_keep_the_picture(tmp_path, src_fmt, dst_fmt):
    size = (48, 48) if "ico" in (src_fmt, dst_fmt) else (64, 48)  # a generated icon is square
    src = ef.make_image(tmp_path / f"in.{src_fmt}", src_fmt, size=size)
    out = tmp_path / f"out.{dst_fmt}"
    PillowEngine().convert(src, out, src_fmt, dst_fmt, ConvertOptions())
    assert detect_format(out) == dst_fmt
    assert image_size(out) == size


def test_jxl_options_apply_and_metadata_is_stripped(tmp_path):
    from PIL import Image

    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (40.0, 26.0, 46.0)}
    src = tmp_path / "gps.jpg"
    Image.new("RGB", (64, 48), "blue").save(src, "JPEG", exif=exif.tobytes())
    out = tmp_path / "small.jxl"
    PillowEngine().convert(src, out, "jpg", "jxl", options(width=32))  # not the lossless JPEG repacking
    assert detect_format(out) == "jxl" and image_size(out) == (32, 24)
    with _image_module().open(out) as im:
        assert not im.getexif().get_ifd(0x8825)
    back = tmp_path / "back.png"
    PillowEngine().convert(out, back, "jxl", "png", options(height=12))
    assert image_size(back) == (16, 12)


def _jxl_header(width: int, height: int) -> bytes:
    """A bare JPEG XL codestream start declaring width x height (SizeHeader, not small, ratio 0)."""
    bits: list[int] = []

    def put(value: int, count: int) -> None:
        bits.extend((value >> i) & 1 for i in range(count))

    put(0, 1)  # not "small"
    put(2, 2), put(height - 1, 18)  # U32 selector 2: 1 + u(18)
    put(0, 3)  # ratio 0: the width follows
    put(2, 2), put(width - 1, 18)
    bits.extend([0] * (-len(bits) % 8))
    body = bytes(sum(bit << i for i, bit in enumerate(bits[n:n + 8])) for n in range(0, len(bits), 8))
    return b"\xff\x0a" + body + b"\x00" * 64


def test_jxl_over_the_pixel_cap_is_refused_before_decoding(tmp_path):
    from conversions.engines import jxl_header

    assert jxl_header.dimensions(_jxl_header(20000, 15000)) == (20000, 15000)
    bomb = tmp_path / "bomba.jxl"
    bomb.write_bytes(_jxl_header(20000, 15000))
    with pytest.raises(EngineError) as info:
        PillowEngine().convert(bomb, tmp_path / "o.png", "jxl", "png", ConvertOptions())
    assert info.value.code == "image_too_large"
    cut = tmp_path / "cortado.jxl"
    cut.write_bytes(b"\xff\x0a")
    with pytest.raises(EngineError) as info:
        PillowEngine().convert(cut, tmp_path / "c.png", "jxl", "png", ConvertOptions())
    assert info.value.code == "corrupt_input"


def test_ico_output_is_at_most_256_px(tmp_path):
    src = ef.make_image(tmp_path / "big.png", "png", size=(600, 300))
    out = tmp_path / "icon.ico"
    PillowEngine().convert(src, out, "png", "ico", ConvertOptions())
    width, height = image_size(out)
    assert max(width, height) <= 256 and width == 2 * height


def test_svg_to_png_and_to_vector_pdf(tmp_path):
    src = ef.make_svg(tmp_path / "logo.svg")
    png = tmp_path / "logo.png"
    PillowEngine().convert(src, png, "svg", "png", ConvertOptions())
    assert image_size(png) == (120, 80)
    with _image_module().open(png) as im:
        assert im.convert("RGB").getpixel((5, 5)) == (200, 30, 30)  # the red background, drawn
    pdf = tmp_path / "logo.pdf"
    PillowEngine().convert(src, pdf, "svg", "pdf", ConvertOptions())
    import pymupdf

    with pymupdf.open(str(pdf)) as doc:
        assert doc.page_count == 1 and round(doc[0].rect.width) == 90  # 120 px at 96 dpi = 90 pt


def test_svg_fetches_no_external_resource(tmp_path):
    secret = tmp_path / "secret.png"
    ef.make_image(secret, "png", size=(50, 50))
    src = ef.make_svg(tmp_path / "evil.svg", '<svg xmlns="http://www.w3.org/2000/svg" '
                      'xmlns:xlink="http://www.w3.org/1999/xlink" width="50" height="50">'
                      f'<image width="50" height="50" xlink:href="file://{secret}"/>'
                      '<image width="50" height="50" href="http://127.0.0.1:9/x.png"/></svg>')
    out = tmp_path / "out.png"
    PillowEngine().convert(src, out, "svg", "png", ConvertOptions())
    with _image_module().open(out) as im:
        assert im.getextrema()[3] == (0, 0)  # fully transparent: the local file was not drawn


def test_svg_entities_and_huge_canvas_are_refused(tmp_path):
    bomb = ef.make_svg(tmp_path / "lol.svg", '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]>'
                       '<svg xmlns="http://www.w3.org/2000/svg">&a;</svg>')
    with pytest.raises(UnsafeInput):
        PillowEngine().convert(bomb, tmp_path / "o.png", "svg", "png", ConvertOptions())
    huge = ef.make_svg(tmp_path / "huge.svg", '<svg xmlns="http://www.w3.org/2000/svg" width="90000" '
                       'height="90000"/>')
    with pytest.raises(EngineError) as info:
        PillowEngine().convert(huge, tmp_path / "o.png", "svg", "png", ConvertOptions())
    assert info.value.code == "image_too_large"


# ------------------------------------------------------------------ documents with Pandoc


@pytest.mark.parametrize("dst", ["docx", "odt", "pdf", "html", "epub", "rtf"])
def test_plain_text_is_literal_not_markdown(tmp_path, dst):
    """Links, asterisks, hashes and underscores of a .txt stay as written (issue 12)."""
    src = ef.make_txt(tmp_path / "nota.txt", LITERAL)
    out = tmp_path / f"nota.{dst}"
    PandocEngine().convert(src, out, "txt", dst, ConvertOptions())
    text = " ".join(ef.read_text_of(out, dst).split())
    for piece in LITERAL_PIECES:
        assert piece in text, (piece, text)


def test_markdown_is_its_own_format(tmp_path):
    src = ef.make_txt(tmp_path / "notas.md", "# Título\n\nUn [enlace](https://example.com/x) y *énfasis*.\n")
    out = tmp_path / "notas.html"
    PandocEngine().convert(src, out, "md", "html", ConvertOptions())
    page = out.read_text(encoding="utf-8")
    assert '<a href="https://example.com/x">enlace</a>' in page and "<em>énfasis</em>" in page
    assert "<h1" in page


@pytest.mark.parametrize(("src_fmt", "dst_fmt"), [("html", "md"), ("md", "epub"), ("epub", "docx"),
                                                  ("docx", "html"), ("odt", "epub")])
def test_pandoc_pairs_keep_the_text(tmp_path, src_fmt, dst_fmt):
    src = ef.make_office(tmp_path / f"in.{src_fmt}", src_fmt)
    out = tmp_path / f"out.{dst_fmt}"
    PandocEngine().convert(src, out, src_fmt, dst_fmt, ConvertOptions())
    assert detect_format(out, out.name) == dst_fmt
    assert ef.MARKER in ef.read_text_of(out, dst_fmt)


# ------------------------------------------------------------------ sheets and slides


def test_csv_xlsx_without_libreoffice(tmp_path):
    src = tmp_path / "datos.csv"
    src.write_text('nombre;valor;nota\nuno;1;"=WEBSERVICE(""http://x"")"\ndos;2.5;ñandú\n', encoding="utf-8")
    xlsx = tmp_path / "datos.xlsx"
    TabularEngine().convert(src, xlsx, "csv", "xlsx", ConvertOptions())
    assert detect_format(xlsx) == "xlsx"
    from openpyxl import load_workbook

    ws = load_workbook(xlsx).active
    assert [c.value for c in ws[2]] == ["uno", 1, '=WEBSERVICE("http://x")']
    assert ws["C2"].data_type == "s"  # text, never a formula
    assert ws["B3"].value == 2.5
    back = tmp_path / "vuelta.csv"
    TabularEngine().convert(xlsx, back, "xlsx", "csv", ConvertOptions())
    assert back.read_text(encoding="utf-8").splitlines()[2] == "dos,2.5,ñandú"


def test_without_libreoffice_the_office_families_are_absent(registry_override):
    registry = registry_override(missing=["libreoffice"])
    sources = {src for src, _dst in registry.supported_pairs()}
    assert not sources & {"doc", "xls", "ods", "pptx", "ppt", "odp"}
    assert {dst for src, dst in registry.supported_pairs() if src == "xlsx"} == {"csv"}


@needs_office
@pytest.mark.skipif(not module_installed("calc"), reason="LibreOffice Calc not installed")
def test_spreadsheet_to_pdf_prints_every_sheet(tmp_path):
    src = ef.make_spreadsheet(tmp_path / "libro.xlsx", "xlsx")
    out = tmp_path / "libro.pdf"
    LibreOfficeEngine().convert(src, out, "xlsx", "pdf", ConvertOptions())
    text = ef.read_text_of(out, "pdf")
    assert ef.MARKER in text and "segunda hoja 7788" in text


@needs_office
@pytest.mark.skipif(not module_installed("impress"), reason="LibreOffice Impress not installed")
def test_presentation_to_images_one_per_slide(tmp_path):
    src = ef.make_presentation(tmp_path / "charla.odp", "odp")
    out = tmp_path / "charla.png"
    produced_engine = LibreOfficeEngine()
    produced_engine.convert(src, out, "odp", "png", ConvertOptions())
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        assert names == ["pagina-001.png", "pagina-002.png"]
        first = tmp_path / names[0]
        first.write_bytes(zf.read(names[0]))
    assert detect_format(first) == "png"


@needs_office
def test_legacy_doc_to_docx(tmp_path):
    src = ef.make_legacy_office(tmp_path / "viejo.doc", "doc")
    out = tmp_path / "nuevo.docx"
    LibreOfficeEngine().convert(src, out, "doc", "docx", ConvertOptions())
    assert ef.MARKER in ef.read_text_of(out, "docx")


# ------------------------------------------------------------------ PDF pages as images


def test_pdf_every_page_as_a_zip_or_chosen_pages(tmp_path):
    src = ef.make_pdf(tmp_path / "tres.pdf", pages=3)
    out = tmp_path / "todas.png"
    PyMuPDFEngine().convert(src, out, "pdf", "png", ConvertOptions())
    with zipfile.ZipFile(out) as zf:
        assert zf.namelist() == ["pagina-001.png", "pagina-002.png", "pagina-003.png"]
    one = tmp_path / "una.jpg"
    PyMuPDFEngine().convert(src, one, "pdf", "jpg", options(pages="2", dpi=72))
    assert detect_format(one) == "jpg" and image_size(one) == (300, 200)  # 300x200 pt at 72 dpi
    two = tmp_path / "dos.png"
    PyMuPDFEngine().convert(src, two, "pdf", "png", options(pages="1,3"))
    with zipfile.ZipFile(two) as zf:
        assert zf.namelist() == ["pagina-001.png", "pagina-003.png"]
    with pytest.raises(EngineError) as info:
        PyMuPDFEngine().convert(src, tmp_path / "x.png", "pdf", "png", options(pages="5-6"))
    assert info.value.code == "invalid_pages"


# ------------------------------------------------------------------ audio / video


@pytest.mark.parametrize("dst", ["m4a", "opus", "wma", "aiff"])
def test_new_audio_targets(tmp_path, dst):
    src = ef.make_audio(tmp_path / "tono.wav", "wav", seconds=1.0)
    out = tmp_path / f"tono.{dst}"
    FFmpegEngine().convert(src, out, "wav", dst, ConvertOptions())
    assert detect_format(out) == dst  # m4a: iTunes audio brand; wma: an ASF with only audio
    assert abs(ef.media_duration(out) - 1.0) < 0.15


@pytest.mark.parametrize("dst", ["mkv", "webm", "3gp", "mpeg", "m4v"])
def test_new_video_targets(tmp_path, dst):
    src = ef.make_video(tmp_path / "clip.mp4", "mp4", seconds=1.0)
    out = tmp_path / f"clip.{dst}"
    FFmpegEngine().convert(src, out, "mp4", dst, ConvertOptions())
    assert detect_format(out) == dst
    assert abs(ef.media_duration(out) - 1.0) < 0.25


@pytest.mark.parametrize("src_fmt", ["m4a", "opus", "wma", "aiff", "mkv", "webm", "3gp", "mpeg", "m4v"])
def test_new_sources_decode(tmp_path, src_fmt):
    make = ef.make_audio if src_fmt in ("m4a", "opus", "wma", "aiff") else ef.make_video
    src = make(tmp_path / f"in.{src_fmt}", src_fmt)
    out = tmp_path / "out.mp3"
    FFmpegEngine().convert(src, out, src_fmt, "mp3", ConvertOptions())
    assert abs(ef.media_duration(out) - 1.0) < 0.25


def test_only_targets_the_ffmpeg_build_encodes_are_offered(monkeypatch):
    from conversions.engines import ffmpeg

    monkeypatch.setattr(ffmpeg, "available_encoders", lambda: frozenset({"aac", "libmp3lame", "pcm_s16le"}))
    targets = {dst for _src, dst in FFmpegEngine().pairs()}
    assert {"mp3", "wav", "aac", "m4a"} <= targets
    assert not targets & {"webm", "opus", "mp4", "mpeg", "wma"}


def test_a_cut_file_is_refused_not_converted_to_a_stub(tmp_path):
    src = ef.make_video(tmp_path / "largo.mkv", "mkv", seconds=6.0)
    cut = tmp_path / "cortado.mkv"
    cut.write_bytes(src.read_bytes()[: src.stat().st_size // 4])
    with pytest.raises(EngineError) as info:
        FFmpegEngine().convert(cut, tmp_path / "o.mp4", "mkv", "mp4", ConvertOptions())
    assert info.value.code == "truncated_input"
    FFmpegEngine().convert(src, tmp_path / "entero.mp4", "mkv", "mp4", ConvertOptions())  # the whole file is fine


def test_a_cut_heic_is_refused(tmp_path):
    src = ef.make_image(tmp_path / "foto.heic", "heic", size=(256, 192))
    cut = tmp_path / "cortada.heic"
    cut.write_bytes(src.read_bytes()[: src.stat().st_size * 2 // 3])
    with pytest.raises(EngineError) as info:
        PillowEngine().convert(cut, tmp_path / "o.png", "heic", "png", ConvertOptions())
    assert info.value.code == "corrupt_input"
