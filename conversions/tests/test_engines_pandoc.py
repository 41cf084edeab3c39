"""pandoc engine (documents) and its local-file-inclusion defences."""

from __future__ import annotations

import pytest

from conversions.detection import detect_format
from conversions.engines.base import ConvertOptions, EngineError
from conversions.engines.pandoc import PandocEngine, pandoc_binary
from conversions.tests import enginefiles as ef

ENGINE = PandocEngine()
pytestmark = pytest.mark.skipif(not ENGINE.is_available(), reason="pandoc not available")

INCLUDE_TXT = (
    "Hola Anclora\n\n![x](/etc/passwd)\n\n![y](file:///etc/passwd)\n\n"
    '<link rel="attachment" href="file:///etc/passwd">\n\n'
    '<img src="/etc/passwd">\n\n<iframe src="file:///etc/passwd"></iframe>\n\n'
    '<object data="file:///etc/passwd"></object>\n'
)
INCLUDE_RTF = (
    r'{\rtf1\ansi{\field{\*\fldinst INCLUDETEXT "/etc/passwd"}{\fldrslt x}}\par'
    r'{\field{\*\fldinst INCLUDEPICTURE "file:///etc/passwd"}{\fldrslt y}}\par Hola Anclora\par}'
)


def test_pairs_and_binary():
    assert pandoc_binary()
    pairs = ENGINE.pairs()
    assert ("docx", "odt") in pairs and ("txt", "pdf") in pairs
    assert ("pdf", "docx") not in pairs  # pandoc cannot read PDF


def test_docx_to_odt(tmp_path):
    src = ef.make_office(tmp_path / "a.docx", "docx")
    out = tmp_path / "a.odt"
    ENGINE.convert(src, out, "docx", "odt", ConvertOptions())
    assert detect_format(out) == "odt"
    assert ef.MARKER in ef.read_text_of(out, "odt")


def test_txt_to_pdf(tmp_path):
    src = ef.make_txt(tmp_path / "a.txt")
    out = tmp_path / "a.pdf"
    ENGINE.convert(src, out, "txt", "pdf", ConvertOptions())
    assert detect_format(out) == "pdf"
    assert ef.MARKER in ef.read_text_of(out, "pdf")


def test_rtf_to_txt(tmp_path):
    src = ef.make_office(tmp_path / "a.rtf", "rtf")
    out = tmp_path / "a.txt"
    ENGINE.convert(src, out, "rtf", "txt", ConvertOptions())
    assert ef.MARKER in out.read_text(encoding="utf-8")


def test_corrupt_docx(tmp_path):
    src = ef.make_office(tmp_path / "a.docx", "docx")
    broken = tmp_path / "broken.docx"
    broken.write_bytes(src.read_bytes()[:2000])
    with pytest.raises(EngineError) as info:
        ENGINE.convert(broken, tmp_path / "o.odt", "docx", "odt", ConvertOptions())
    assert info.value.code == "corrupt_input"


@pytest.mark.parametrize("dst", ["pdf", "docx", "odt", "rtf"])
def test_txt_cannot_include_local_files(tmp_path, dst):
    src = ef.make_txt(tmp_path / "a.txt", INCLUDE_TXT)
    out = tmp_path / f"out.{dst}"
    ENGINE.convert(src, out, "txt", dst, ConvertOptions())
    assert not ef.file_contains_passwd(out)
    text = ef.read_text_of(out, dst)
    assert "Hola Anclora" in text
    assert "root:x:0:0" not in text
    if dst == "pdf":
        import pymupdf

        with pymupdf.open(str(out)) as doc:
            assert doc.embfile_count() == 0


@pytest.mark.parametrize("dst", ["pdf", "docx", "txt"])
def test_rtf_includetext_is_not_executed(tmp_path, dst):
    src = tmp_path / "a.rtf"
    src.write_text(INCLUDE_RTF)
    out = tmp_path / f"out.{dst}"
    ENGINE.convert(src, out, "rtf", dst, ConvertOptions())
    assert not ef.file_contains_passwd(out)
    assert "root:x:0:0" not in ef.read_text_of(out, dst)


def test_time_limit_exhausted(tmp_path):
    src = ef.make_txt(tmp_path / "a.txt")
    with pytest.raises(EngineError) as info:
        ENGINE.convert(src, tmp_path / "o.docx", "txt", "docx", ConvertOptions(time_limit=0))
    assert info.value.code == "timeout"
