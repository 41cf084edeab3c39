"""PyMuPDF engine."""

from __future__ import annotations

import pytest
from PIL import Image

from conversions.detection import detect_format
from conversions.engines.base import ConvertOptions, EngineError
from conversions.engines.pymupdf import PyMuPDFEngine
from conversions.tests import enginefiles as ef

ENGINE = PyMuPDFEngine()


def test_pairs():
    pairs = ENGINE.pairs()
    assert ("pdf", "txt") in pairs and ("pdf", "png") in pairs and ("jpg", "pdf") in pairs
    assert ENGINE.priority < 50


def test_pdf_to_text_all_pages(tmp_path):
    src = ef.make_pdf(tmp_path / "a.pdf", pages=3)
    out = tmp_path / "a.txt"
    ENGINE.convert(src, out, "pdf", "txt", ConvertOptions())
    text = out.read_text(encoding="utf-8")
    assert f"{ef.MARKER} p1" in text and f"{ef.MARKER} p3" in text


def test_pdf_to_png_dpi_from_quality(tmp_path):
    src = ef.make_pdf(tmp_path / "a.pdf")
    sizes = {}
    for quality in ("basic", "premium"):
        out = tmp_path / f"{quality}.png"
        ENGINE.convert(src, out, "pdf", "png", ConvertOptions(quality=quality))
        with Image.open(out) as im:
            sizes[quality] = im.size
    assert sizes["basic"] == (300, 200)  # 72 dpi
    assert sizes["premium"][0] > sizes["basic"][0] * 2


def test_pdf_to_docx(tmp_path):
    src = ef.make_pdf(tmp_path / "a.pdf")
    out = tmp_path / "a.docx"
    ENGINE.convert(src, out, "pdf", "docx", ConvertOptions())
    assert detect_format(out) == "docx"
    assert ef.MARKER in ef.read_text_of(out, "docx")


def test_pdf_text_with_markup_is_escaped(tmp_path):
    src = ef.make_pdf(tmp_path / "a.pdf", text='<img src="/etc/passwd"> ![x](/etc/passwd)')
    out = tmp_path / "a.odt"
    ENGINE.convert(src, out, "pdf", "odt", ConvertOptions())
    assert not ef.file_contains_passwd(out)


def test_image_to_pdf_fallback(tmp_path):
    import pymupdf

    src = ef.make_image(tmp_path / "a.png", "png")
    out = tmp_path / "a.pdf"
    ENGINE.convert(src, out, "png", "pdf", ConvertOptions())
    with pymupdf.open(str(out)) as doc:
        assert doc.page_count == 1


def test_image_bomb_rejected(tmp_path):
    bomb = ef.png_bomb_header(tmp_path / "bomb.png")
    with pytest.raises(EngineError) as info:
        ENGINE.convert(bomb, tmp_path / "o.pdf", "png", "pdf", ConvertOptions())
    assert info.value.code == "image_too_large"


def test_page_cap(tmp_path, monkeypatch):
    from conversions.engines import pymupdf as module

    monkeypatch.setattr(module, "MAX_PAGES", 2)
    src = ef.make_pdf(tmp_path / "a.pdf", pages=3)
    with pytest.raises(EngineError) as info:
        ENGINE.convert(src, tmp_path / "o.txt", "pdf", "txt", ConvertOptions())
    assert info.value.code == "too_many_pages"


def test_corrupt_pdf(tmp_path):
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.7\n" + b"garbage" * 50)
    with pytest.raises(EngineError) as info:
        ENGINE.convert(bad, tmp_path / "o.png", "pdf", "png", ConvertOptions())
    assert info.value.code == "corrupt_input"


def test_encrypted_pdf(tmp_path):
    import pymupdf

    src = ef.make_pdf(tmp_path / "a.pdf")
    enc = tmp_path / "enc.pdf"
    with pymupdf.open(str(src)) as doc:
        doc.save(str(enc), encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="x", owner_pw="y")
    with pytest.raises(EngineError) as info:
        ENGINE.convert(enc, tmp_path / "o.txt", "pdf", "txt", ConvertOptions())
    assert info.value.code == "encrypted_pdf"
