"""Registry and a real conversion of every available pair."""

from __future__ import annotations

from pathlib import Path

import pytest

from conversions.detection import detect_format
from conversions.engines import ConvertOptions, Registry, default_registry, supported_pairs
from conversions.engines.registry import default_engines
from conversions.formats import CATEGORIES, category_of
from conversions.tests import enginefiles as ef

PAIRS = supported_pairs()
AUDIO = CATEGORIES["audio"]
VIDEO = CATEGORIES["video"]


def test_pair_count():
    count = len(PAIRS)
    print(f"\nsupported pairs: {count}")
    assert count >= 144
    assert all(src != dst for src, dst in PAIRS)


def test_expected_groups_present():
    images = CATEGORIES["images"]
    assert all((a, b) in PAIRS for a in images for b in images if a != b)
    assert all((a, "pdf") in PAIRS for a in images)
    assert all(("pdf", a) in PAIRS for a in images)
    assert all((v, a) in PAIRS for v in VIDEO for a in AUDIO)
    assert all((v, "gif") in PAIRS for v in VIDEO)
    assert all(("gif", v) in PAIRS for v in VIDEO)
    assert ("docx", "pdf") in PAIRS and ("pdf", "txt") in PAIRS


def test_priority_picks_highest():
    registry = default_registry()
    assert registry.engine_for("png", "pdf").name == "pillow"
    assert [e.name for e in registry.candidates("png", "pdf")] == ["pillow", "pymupdf"]
    assert registry.engine_for("pdf", "docx").name in ("pymupdf", "libreoffice")
    assert registry.engine_for("mp3", "exe") is None


def test_registry_without_ffmpeg_has_no_audio_pairs():
    engines = [e for e in default_engines() if e.name != "ffmpeg"]
    pairs = Registry(engines).supported_pairs()
    assert not any(category_of(s) == "audio" or category_of(d) == "audio" for s, d in pairs)
    assert not any(category_of(s) == "video" for s, _ in pairs)
    assert ("png", "jpg") in pairs


def test_unavailable_engine_pairs_disappear():
    engines = default_engines()
    for engine in engines:
        if engine.name == "pandoc":
            engine._available = False
    pairs = Registry(engines).supported_pairs()
    assert ("docx", "odt") not in pairs or pairs[("docx", "odt")] == "libreoffice"


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("samples")


_CACHE: dict[str, Path] = {}


def sample(sample_dir: Path, fmt: str) -> Path:
    if fmt not in _CACHE:
        _CACHE[fmt] = ef.make_sample(sample_dir / f"sample.{fmt}", fmt)
    return _CACHE[fmt]


def verify_output(out: Path, src_fmt: str, dst_fmt: str) -> None:
    assert detect_format(out) == dst_fmt
    category = category_of(dst_fmt)
    if category == "image":
        from PIL import Image

        with Image.open(out) as im:
            im.load()
            assert im.size[0] > 0 and im.size[1] > 0
    elif category in ("audio", "video"):
        assert ef.media_duration(out) > 0.3
    elif dst_fmt == "pdf" and category_of(src_fmt) == "image":
        import pymupdf

        with pymupdf.open(str(out)) as doc:
            assert doc.page_count >= 1
    else:
        assert ef.MARKER in ef.read_text_of(out, dst_fmt)


@pytest.mark.parametrize("pair", sorted(PAIRS), ids=lambda p: f"{p[0]}-{p[1]}")
def test_convert_every_pair(pair, sample_dir, tmp_path):
    src_fmt, dst_fmt = pair
    src = sample(sample_dir, src_fmt)
    out = tmp_path / f"out.{dst_fmt}"
    progress: list[int] = []
    engine = default_registry().engine_for(src_fmt, dst_fmt)
    engine.convert(src, out, src_fmt, dst_fmt,
                   ConvertOptions(workdir=tmp_path / "work", progress=progress.append))
    verify_output(out, src_fmt, dst_fmt)
    assert progress and progress[-1] == 100
    # Private work directories are cleaned up.
    assert list((tmp_path / "work").iterdir()) == []
