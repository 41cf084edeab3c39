"""Registry and a real conversion of every available pair."""

from __future__ import annotations

from pathlib import Path

import pytest

from conversions.catalog import category_of
from conversions.detection import detect_format
from conversions.engines import (
    ConvertOptions,
    Engine,
    EngineError,
    EngineTimeout,
    OutputTooLarge,
    Registry,
    UnsafeInput,
    default_registry,
    supported_pairs,
)
from conversions.engines import registry as registry_module
from conversions.engines.registry import default_engines
from conversions.tests import enginefiles as ef

PAIRS = supported_pairs()
# The seed's formats: always converted among each other (new formats come with their engines' mappings).
IMAGES = ["jpg", "png", "gif", "bmp", "tiff", "webp"]
AUDIO = ["mp3", "wav", "flac", "aac", "ogg"]
VIDEO = ["mp4", "avi", "mov", "wmv", "flv"]


def test_pair_count():
    count = len(PAIRS)
    print(f"\nsupported pairs: {count}")
    assert count >= 144
    assert all(src != dst for src, dst in PAIRS)


def test_expected_groups_present():
    images = IMAGES
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


class PairsEngine(Engine):
    """An engine that only declares pairs (never converts): what the registry reads to list them."""

    def __init__(self, name, priority, pairs, *, available=None):
        super().__init__(available=available)
        self.name, self.priority, self._declared = name, priority, set(pairs)

    def pairs(self):
        return set(self._declared)

    def _convert(self, src, out, src_fmt, dst_fmt, options):  # pragma: no cover - never called
        raise AssertionError("not a converting engine")


@pytest.mark.parametrize("missing_is_preferred", [True, False])
def test_unavailable_engine_pairs_disappear(missing_is_preferred):
    """An engine reported missing serves no pair: the pairs only it converted are gone, a pair it shared
    is served by the engine that is there, and the missing one is reported (whatever the priorities)."""
    only_missing, shared, only_present = ("mp3", "wav"), ("png", "pdf"), ("png", "jpg")
    missing = PairsEngine("missing", 90 if missing_is_preferred else 10, {only_missing, shared}, available=False)
    present = PairsEngine("present", 50, {shared, only_present})
    registry = Registry([missing, present])

    assert registry.supported_pairs() == {shared: "present", only_present: "present"}
    assert not registry.supports(*only_missing) and registry.engine_for(*only_missing) is None
    assert registry.engine_for(*shared) is present and registry.candidates(*shared) == [present]
    assert registry.missing() == [missing] and registry.available() == [present]
    # the same engines all present: the preferred one serves the shared pair
    both = Registry([PairsEngine("missing", missing.priority, {only_missing, shared}), present])
    assert both.supported_pairs()[only_missing] == "missing"
    assert both.supported_pairs()[shared] == ("missing" if missing_is_preferred else "present")


class FakeEngine(Engine):
    """Converts png->jpg by writing bytes, or fails with ``error``."""

    def __init__(self, name, priority, error=None):
        super().__init__()
        self.name, self.priority, self.error, self.calls = name, priority, error, 0

    def pairs(self):
        return {("png", "jpg")}

    def _convert(self, src, out, src_fmt, dst_fmt, options):
        self.calls += 1
        if self.error is not None:
            raise self.error
        out.write_bytes(f"made by {self.name}".encode())


@pytest.mark.parametrize("code", ["corrupt_input", "engine_failed", "conversion_failed", "engine_unavailable"])
def test_registry_falls_back_on_engine_failures(tmp_path, code):
    first = FakeEngine("first", 90, EngineError(code=code))
    second = FakeEngine("second", 10)
    src = tmp_path / "in.png"
    src.write_bytes(b"png")
    tried = []
    used = Registry([second, first]).convert(src, tmp_path / "out.jpg", "png", "jpg", ConvertOptions(),
                                             on_attempt=lambda e: tried.append(e.name))
    assert used == "second" and tried == ["first", "second"]
    assert (tmp_path / "out.jpg").read_bytes() == b"made by second"


@pytest.mark.parametrize("error", [EngineTimeout(), UnsafeInput(), OutputTooLarge()],
                         ids=lambda e: e.code)
def test_registry_does_not_fall_back_on_final_errors(tmp_path, error):
    first = FakeEngine("first", 90, error)
    second = FakeEngine("second", 10)
    src = tmp_path / "in.png"
    src.write_bytes(b"png")
    with pytest.raises(type(error)):
        Registry([first, second]).convert(src, tmp_path / "out.jpg", "png", "jpg", ConvertOptions())
    assert first.calls == 1 and second.calls == 0


def test_registry_last_engine_error_is_raised(tmp_path):
    engines = [FakeEngine("a", 2, EngineError(code="corrupt_input", message="a")),
               FakeEngine("b", 1, EngineError(code="corrupt_input", message="b"))]
    src = tmp_path / "in.png"
    src.write_bytes(b"png")
    with pytest.raises(EngineError, match="b"):
        Registry(engines).convert(src, tmp_path / "out.jpg", "png", "jpg", ConvertOptions())
    with pytest.raises(EngineError) as info:
        Registry(engines).convert(src, tmp_path / "out.gif", "png", "gif", ConvertOptions())
    assert info.value.code == "unsupported_pair"


def test_template_refuses_unavailable_engine_and_other_pairs(tmp_path):
    src = tmp_path / "in.png"
    src.write_bytes(b"png")
    with pytest.raises(EngineError) as info:
        FakeEngine("x", 1).convert(src, tmp_path / "o.gif", "png", "gif", ConvertOptions())
    assert info.value.code == "unsupported_pair"
    missing = FakeEngine("x", 1)
    missing._probe = lambda: False
    with pytest.raises(EngineError) as info:
        missing.convert(src, tmp_path / "o.jpg", "png", "jpg", ConvertOptions())
    assert info.value.code == "engine_unavailable" and missing.calls == 0


def test_engines_come_from_settings(settings):
    settings.CONVERSION_ENGINES = ["conversions.engines.pillow.PillowEngine"]
    registry = default_registry()
    assert [e.name for e in registry.engines] == ["pillow"]
    assert ("png", "jpg") in registry.supported_pairs() and registry.engine_for("mp3", "wav") is None


def test_engine_path_must_name_an_engine():
    with pytest.raises(TypeError):
        registry_module.import_engine("pathlib.Path")
    with pytest.raises(ValueError):
        registry_module.import_engine("nodots")


def test_registry_override_fixture_restores_default(registry_override):
    before = default_registry()
    used = registry_override(missing=["pillow"])
    assert default_registry() is used is not before
    assert default_registry().engine_for("png", "jpg") is None


def test_default_registry_is_back_after_override():
    assert default_registry().engine_for("png", "jpg").name == "pillow"


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("samples")


_CACHE: dict[str, Path] = {}


def sample(sample_dir: Path, fmt: str) -> Path:
    if fmt not in _CACHE:
        _CACHE[fmt] = ef.make_sample(sample_dir / f"sample.{fmt}", fmt)
    return _CACHE[fmt]


def verify_output(out: Path, src_fmt: str, dst_fmt: str) -> None:
    if category_of(dst_fmt) == "image" and out.read_bytes()[:4] == b"PK\x03\x04":
        # several pages / sheets / slides as images: a zip with one image per page
        import zipfile

        with zipfile.ZipFile(out) as zf:
            names = zf.namelist()
            assert len(names) > 1 and all(n.endswith(f".{dst_fmt}") for n in names), names
            out = out.with_name(names[0])
            out.write_bytes(zf.read(names[0]))
    assert detect_format(out, out.name) == dst_fmt
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
