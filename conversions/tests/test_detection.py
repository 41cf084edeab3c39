"""Magic-byte detection and upload checks."""

from __future__ import annotations

import pytest

from conversions.catalog import ALL_FORMATS
from conversions.detection import check_upload, check_zip_container, detect_format
from conversions.engines.base import EngineError, UnsafeInput
from conversions.tests import enginefiles as ef


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    base = tmp_path_factory.mktemp("detect")
    return {fmt: ef.make_sample(base / f"sample.{fmt}", fmt) for fmt in ALL_FORMATS}


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_detects_every_format(samples, fmt):
    """By content; the name only tells the text formats (md, csv, html) from txt."""
    assert detect_format(samples[fmt], samples[fmt].name) == fmt


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_check_upload_accepts_matching_content(samples, fmt):
    assert check_upload(samples[fmt], fmt) == fmt


def test_extension_and_aliases_are_irrelevant(samples, tmp_path):
    renamed = tmp_path / "foto.pdf"
    renamed.write_bytes(samples["jpg"].read_bytes())
    assert detect_format(renamed) == "jpg"
    assert check_upload(samples["jpg"], "JPEG") == "jpg"
    assert check_upload(samples["tiff"], ".tif") == "tiff"


def test_png_claimed_as_pdf_is_rejected(samples):
    with pytest.raises(EngineError) as info:
        check_upload(samples["png"], "pdf")
    assert info.value.code == "content_mismatch"
    assert info.value.message == "El archivo no coincide con el formato declarado"


def test_empty_file(tmp_path):
    empty = tmp_path / "vacio.txt"
    empty.write_bytes(b"")
    assert detect_format(empty) is None
    with pytest.raises(EngineError) as info:
        check_upload(empty, "txt")
    assert info.value.code == "empty_file"


def test_unknown_binary_content(tmp_path):
    blob = tmp_path / "blob.bin"
    blob.write_bytes(bytes(range(256)) * 4)
    assert detect_format(blob) is None
    with pytest.raises(EngineError) as info:
        check_upload(blob, "mp3")
    assert info.value.code == "unsupported_content"


def test_unknown_declared_format(samples):
    with pytest.raises(EngineError) as info:
        check_upload(samples["png"], "exe")
    assert info.value.code == "unsupported_format"


def test_iso_bmff_family_is_compatible(samples):
    assert check_upload(samples["mp4"], "mov") == "mp4"
    assert check_upload(samples["mov"], "mp4") == "mov"


def test_m4a_brand_is_m4a_not_aac(tmp_path):
    """m4a is its own format (AAC in MP4), no longer an alias of aac (ADTS)."""
    m4a = tmp_path / "a.m4a"
    m4a.write_bytes(b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42isom\x00\x00\x00\x08free")
    assert detect_format(m4a) == "m4a"
    assert check_upload(m4a, "m4a") == "m4a"
    assert check_upload(m4a, "aac") == "m4a"  # an .aac that is really MP4 is taken for what it is


def test_adts_is_not_mp3(tmp_path):
    adts = tmp_path / "a.aac"
    adts.write_bytes(b"\xff\xf1\x50\x80\x02\x1f\xfc" + b"\x00" * 64)
    mp3 = tmp_path / "a.mp3"
    mp3.write_bytes(b"\xff\xfb\x90\x64" + b"\x00" * 64)
    assert detect_format(adts) == "aac"
    assert detect_format(mp3) == "mp3"


def test_text_rules(tmp_path):
    utf8 = tmp_path / "t.txt"
    utf8.write_text("¡Hola, señor!\nÄÖÜ €\n", encoding="utf-8")
    assert detect_format(utf8) == "txt"
    nul = tmp_path / "nul.txt"
    nul.write_bytes(b"hola\x00mundo")
    assert detect_format(nul) is None
    latin1 = tmp_path / "latin.txt"  # legacy 8-bit text is still text (re-encoded to UTF-8 before engines)
    latin1.write_bytes("señor".encode("latin-1"))
    assert detect_format(latin1) == "txt"


def test_playlist_is_text_not_media(tmp_path):
    playlist = tmp_path / "lista.m3u8"
    playlist.write_bytes(ef.HLS_PLAYLIST)
    assert detect_format(playlist) == "txt"
    with pytest.raises(EngineError) as info:
        check_upload(playlist, "mp3")
    assert info.value.code == "content_mismatch"


def test_generic_zip_is_not_a_document(tmp_path):
    import zipfile

    path = tmp_path / "x.docx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("hola.txt", "hola")
    assert detect_format(path) is None


def test_docx_zip_bomb_many_entries(tmp_path):
    bomb = ef.make_docx_bomb_entries(tmp_path / "bomb.docx", entries=2000)
    assert detect_format(bomb) == "docx"
    with pytest.raises(UnsafeInput) as info:
        check_upload(bomb, "docx")
    assert info.value.code == "zip_bomb"


def test_docx_zip_bomb_ratio(tmp_path):
    bomb = ef.make_docx_bomb_ratio(tmp_path / "ratio.docx", megabytes=16)
    assert bomb.stat().st_size < 1024 * 1024
    with pytest.raises(UnsafeInput) as info:
        check_zip_container(bomb)
    assert info.value.code == "zip_bomb"


def test_docx_zip_bomb_total_size(tmp_path):
    bomb = ef.make_docx_bomb_ratio(tmp_path / "big.docx", megabytes=8)
    with pytest.raises(UnsafeInput) as info:
        check_zip_container(bomb, max_total_uncompressed=4 * 1024 * 1024, max_ratio=10**9)
    assert info.value.code == "zip_bomb"


def test_zip_path_traversal(tmp_path):
    evil = ef.make_zip_traversal(tmp_path / "evil.docx")
    with pytest.raises(UnsafeInput) as info:
        check_zip_container(evil)
    assert info.value.code == "unsafe_archive"


def test_real_office_documents_pass_zip_checks(samples):
    check_zip_container(samples["docx"])
    check_zip_container(samples["odt"])


def test_legacy_8bit_text_is_text_but_binary_is_not(tmp_path):
    from conversions.detection import detect_format, text_to_utf8

    latin = tmp_path / "latin1.txt"
    latin.write_bytes("Año de señales: «corazón».\n".encode("cp1252") * 10)
    assert detect_format(latin) == "txt"
    assert text_to_utf8(latin) and "señales" in latin.read_text(encoding="utf-8")
    assert not text_to_utf8(latin)  # already UTF-8: untouched
    noise = tmp_path / "noise.txt"
    noise.write_bytes(bytes(range(128, 256)) * 40)
    assert detect_format(noise) is None
