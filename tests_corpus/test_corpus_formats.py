"""Every format of the catalogue, converted from a real file to every target this host offers.

One small representative corpus file per source format (../shared/corpus, MANIFEST.tsv) goes to
every advertised target through the engines, and the output is checked by its content: images by
their dimensions, audio/video by the duration decoded with ffmpeg (and the streams they carry),
documents, sheets and slides by words of the source found in the extracted text. Without the
corpus folder this group says so and skips.
"""

from __future__ import annotations

import csv
import os
import subprocess
import zipfile
from functools import cache
from pathlib import Path

import pytest

from conversions.catalog import ALL_FORMATS, canonical, family_of, supported_pairs
from conversions.detection import detect_format
from conversions.engines.base import ConvertOptions
from conversions.engines.registry import default_registry
from conversions.tests import enginefiles as ef

CORPUS = Path(os.environ.get("ANCLORA_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus"))
MANIFEST = CORPUS / "MANIFEST.tsv"
ABSENT = f"CORPUS FOLDER ABSENT: {CORPUS} — the real-world format tests did not run"

# Source format -> (corpus file, words of it that every text-bearing output must keep).
REPRESENTATIVES: dict[str, tuple[str, tuple[str, ...]]] = {
    "jpg": ("images/hopper.jpg", ()),
    "png": ("images/hopper.png", ()),
    "gif": ("images/hopper.gif", ()),
    "bmp": ("images/hopper.bmp", ()),
    "tiff": ("images/hopper_lzw.tif", ()),
    "webp": ("images/hopper.webp", ()),
    "heic": ("images/pillow-heif_RGB_8__128x128.heif", ()),
    "avif": ("images/pillow_avif_transparency.avif", ()),
    "svg": ("images/pandoc_inkscape-cube.svg", ()),
    "ico": ("images/pillow_python_3sizes.ico", ()),
    "jxl": ("images/jxl-conformance_bicycles.jxl", ()),
    "pdf": ("documents/pypdf_outline-without-title_pdftex.pdf", ("Contents", "Baz")),
    "docx": ("documents/pandoc_tables.docx", ("Fame", "Blame")),
    "txt": ("documents/paperless_content_multilingual.txt", ("vectorization", "classifier")),
    "rtf": ("documents/pandoc_table_error_codes.rtf", ("PandocFailOnWarningError",)),
    "odt": ("documents/pandoc_orderedListMixed.odt", ("noes", "Pushed")),
    "doc": ("documents/file-type_fixture_libreoffice-word97.doc", ("Lorem", "ipsum")),
    "md": ("documents/pandoc_writer-markdown.md", ("Gruber",)),
    "html": ("documents/pandoc_html-reader.html", ("Suite",)),
    "epub": ("documents/pandoc_wasteland_epub3.epub", ("cruellest", "Lilacs")),
    "xlsx": ("documents/calamine_merged_range_excel.xlsx", ("H3", "G4")),
    "xls": ("documents/calamine_sst_continue_excel.xls", ("serial",)),
    "ods": ("documents/file-type_fixture_openoffice2.ods", ("Denver", "Illinois")),
    "csv": ("documents/csvkit_FY09_EDU_Recipients_by_State.csv", ("Montgomery", "Alabama")),
    "pptx": ("documents/file-type_fixture-office365.pptx", ("PowerPoint",)),
    "ppt": ("documents/msoffcrypto_plain_mac-powerpoint.ppt", ("Lorem",)),
    "odp": ("documents/filetype_sample_libreoffice.odp", ()),  # a picture-only slide
    "mp3": ("audio/mutagen_xing_vbr.mp3", ()),
    "wav": ("audio/mutagen_silence-2s-PCM-44100-16-ID3v23.wav", ()),
    "flac": ("audio/mutagen_silence-44-s_stereo.flac", ()),
    "aac": ("audio/pymediainfo_aac_he_v2_adts.aac", ()),
    "ogg": ("audio/beets_full_vorbis_tags.ogg", ()),
    "m4a": ("audio/file-type_fixture_aac.m4a", ()),
    "opus": ("audio/file-type_fixture.opus", ()),
    "wma": ("audio/file-type_fixture_wmav2.wma", ()),
    "aiff": ("audio/beets_full_pcm.aiff", ()),
    "mp4": ("video/filetype_sample_mpeg4part2_aac.mp4", ()),
    "avi": ("video/file-type_fixture_msmpeg4v2_adpcm.avi", ()),
    "mov": ("video/file-type_fixture-mjpeg_pcm.mov", ()),
    "wmv": ("video/file-type_fixture_msmpeg4v3_wmav2.asf", ()),
    "flv": ("video/file-type_fixture_sorenson.flv", ()),
    "mkv": ("video/file-type_fixture_h264_aac.mkv", ()),
    "webm": ("video/file-type_fixture_vp8_vorbis.webm", ()),
    "3gp": ("video/file-type_fixture_h263_amr.3gp", ()),
    "mpeg": ("video/file-type_fixture-ps_mpeg1_mp2.mpg", ()),
    "m4v": ("video/file-type_fixture_h264_aac.m4v", ()),
}
# The corpus FLV with a picture has no sound: its sound targets use the audio-only FLV.
FOR_SOUND = {"flv": "video/pymediainfo_issue55_audio-only_aac.flv"}
TEXT_TARGETS = {"pdf", "txt", "docx", "odt", "rtf", "md", "html", "epub", "csv", "xlsx", "ods", "pptx", "odp"}
# (target, what detection says of the output) accepted as the same file type
SAME_TYPE = {("mov", "mp4"), ("mp4", "mov")}

pytestmark = [pytest.mark.corpus]


def _manifest_rows() -> list[dict]:
    with open(MANIFEST, newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _pairs():
    if not MANIFEST.exists():
        return [pytest.param(None, marks=pytest.mark.skip(reason=ABSENT))]
    return [pytest.param(pair, id=f"{pair[0]}-{pair[1]}") for pair in sorted(supported_pairs())
            if pair[0] in REPRESENTATIVES]


def _require_corpus() -> None:
    if not MANIFEST.exists():
        pytest.skip(ABSENT)


def test_every_catalogue_format_has_a_corpus_file():
    _require_corpus()
    present = {canonical(Path(row["path"]).suffix) for row in _manifest_rows()
               if not row["path"].startswith("broken/")}
    missing = [fmt for fmt in ALL_FORMATS if fmt not in present]
    assert not missing, f"catalogue formats without an intact corpus file: {missing}"


def test_every_source_format_has_a_representative_that_is_what_it_claims():
    _require_corpus()
    sources = {src for src, _dst in supported_pairs()}
    assert sources <= set(REPRESENTATIVES), sources - set(REPRESENTATIVES)
    for fmt, (path, _words) in REPRESENTATIVES.items():
        assert detect_format(CORPUS / path, path) == fmt, path


@cache
def _duration(path: Path) -> float:
    return ef.media_duration(path)


def _streams(path: Path) -> str:
    proc = subprocess.run([ef.ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
                          capture_output=True, text=True, timeout=60)
    return proc.stderr


@cache
def _image_size(path: Path) -> tuple[int, int]:
    from conversions.engines.pillow import _image_module

    with _image_module().open(path) as im:
        return im.size


def _check_image(out: Path, src_fmt: str, src: Path) -> None:
    from conversions.engines.pillow import _image_module

    Image = _image_module()
    with Image.open(out) as im:
        im.load()
        width, height = im.size
    assert width > 0 and height > 0
    if family_of(src_fmt) != "images" or src_fmt == "svg":
        return
    src_w, src_h = _image_size(src)
    if out.suffix == ".ico":  # icons are at most 256 px a side, proportions kept
        assert max(width, height) <= 256 and abs(width / height - src_w / src_h) < 0.1
    else:
        assert (width, height) == (src_w, src_h)


def _check_pages(out: Path, dst: str, src_fmt: str, src: Path) -> None:
    """PDF/documents/slides -> images: one image, or a zip with one image per page."""
    if out.read_bytes()[:4] != b"PK\x03\x04":
        assert detect_format(out) == dst
        _check_image(out, src_fmt, src)
        return
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        assert len(names) > 1 and all(name.endswith(f".{dst}") for name in names), names
        if src_fmt == "pdf":
            import pymupdf

            with pymupdf.open(str(src)) as doc:
                assert len(names) == doc.page_count
        first = out.parent / names[0]
        first.write_bytes(zf.read(names[0]))
    assert detect_format(first) == dst
    _check_image(first, src_fmt, src)


def _check_text(out: Path, dst: str, words: tuple[str, ...]) -> None:
    text = ef.read_text_of(out, dst).casefold()
    for word in words:
        assert word.casefold() in text, f"{word!r} lost in {dst}"


def _check_media(out: Path, src_fmt: str, dst: str, src: Path) -> None:
    streams = _streams(out)
    if family_of(dst) == "video":
        assert "Video:" in streams, streams[-1500:]
    else:
        assert "Audio:" in streams and "Video:" not in streams, streams[-1500:]
    if src_fmt == "gif":
        return
    expected, got = _duration(src), _duration(out)
    assert abs(got - expected) <= 0.35 + 0.1 * expected, f"duration {got} s, source {expected} s"


@pytest.mark.parametrize("pair", _pairs())
def test_corpus_file_converts_to_every_target_with_content_kept(pair, tmp_path):
    src_fmt, dst = pair
    relative, words = REPRESENTATIVES[src_fmt]
    if family_of(dst) == "audio":
        relative = FOR_SOUND.get(src_fmt, relative)
    src = CORPUS / relative
    out = tmp_path / f"salida.{dst}"
    engine = default_registry().convert(src, out, src_fmt, dst, ConvertOptions(workdir=tmp_path / "work"))
    print(f"CORPUS {relative} -> {dst}: {engine}, {out.stat().st_size} bytes")
    assert out.stat().st_size > 0
    dst_family = family_of(dst)
    if dst_family == "images" and dst != "gif" or (dst == "gif" and family_of(src_fmt) != "video"):
        if family_of(src_fmt) == "images":
            assert detect_format(out) == dst
            _check_image(out, src_fmt, src)
        else:
            _check_pages(out, dst, src_fmt, src)
        return
    detected = detect_format(out, out.name)
    assert detected == dst or (dst, detected) in SAME_TYPE, detected
    if dst == "gif":  # video -> animated GIF
        _check_image(out, src_fmt, src)
    elif dst_family in ("audio", "video"):
        _check_media(out, src_fmt, dst, src)
    elif dst in TEXT_TARGETS:
        if dst == "pdf":
            import pymupdf

            with pymupdf.open(str(out)) as doc:
                assert doc.page_count >= 1
        _check_text(out, dst, words)
