"""Pillow engine."""

from __future__ import annotations

import pytest
from PIL import Image

from conversions.detection import detect_format
from conversions.engines.base import ConvertOptions, EngineError, OutputTooLarge
from conversions.engines.pillow import QUALITY, PillowEngine
from conversions.tests import enginefiles as ef

ENGINE = PillowEngine()


def test_pairs():
    pairs = ENGINE.pairs()
    # 10 raster formats among each other (90) and to pdf (10), svg (read only) to all 11
    assert len(pairs) == 111
    assert ("png", "pdf") in pairs and ("pdf", "png") not in pairs
    assert ("heic", "jpg") in pairs and ("svg", "png") in pairs and ("png", "svg") not in pairs
    assert ("jxl", "png") in pairs and ("webp", "jxl") in pairs and ("svg", "jxl") in pairs
    assert ENGINE.is_available()


def test_quality_levels():
    assert [QUALITY[q]["jpeg"] for q in ("basic", "standard", "high", "premium")] == \
        [60, 80, 90, 95]


def test_png_alpha_to_jpg_composited_on_white(tmp_path):
    src = ef.make_image(tmp_path / "a.png", "png", alpha=True)
    out = tmp_path / "a.jpg"
    ENGINE.convert(src, out, "png", "jpg", ConvertOptions())
    with Image.open(out) as im:
        assert im.mode == "RGB"
        r, g, b = im.getpixel((60, 44))
        assert r > 200 and g > 100  # red at half alpha over white -> pinkish


def test_quality_changes_jpeg_size(tmp_path):
    from PIL import ImageDraw

    src = tmp_path / "noise.png"
    im = Image.effect_noise((256, 256), 64).convert("RGB")
    ImageDraw.Draw(im).text((10, 10), "hola", fill=(0, 0, 0))
    im.save(src)
    sizes = {}
    for quality in ("basic", "premium"):
        out = tmp_path / f"{quality}.jpg"
        ENGINE.convert(src, out, "png", "jpg", ConvertOptions(quality=quality))
        sizes[quality] = out.stat().st_size
    assert sizes["basic"] < sizes["premium"]


def test_animated_gif_to_webp_keeps_frames(tmp_path):
    src = ef.make_animated_gif(tmp_path / "a.gif", frames=5)
    out = tmp_path / "a.webp"
    ENGINE.convert(src, out, "gif", "webp", ConvertOptions())
    with Image.open(out) as im:
        assert im.n_frames == 5


def test_animated_gif_to_png_takes_first_frame(tmp_path):
    src = ef.make_animated_gif(tmp_path / "a.gif", frames=5)
    out = tmp_path / "a.png"
    ENGINE.convert(src, out, "gif", "png", ConvertOptions())
    assert detect_format(out) == "png"


def test_image_to_pdf(tmp_path):
    import pymupdf

    src = ef.make_image(tmp_path / "a.webp", "webp")
    out = tmp_path / "a.pdf"
    ENGINE.convert(src, out, "webp", "pdf", ConvertOptions())
    with pymupdf.open(str(out)) as doc:
        assert doc.page_count == 1


def test_pixel_bomb_header_is_engine_error(tmp_path):
    bomb = ef.png_bomb_header(tmp_path / "bomb.png")
    assert bomb.stat().st_size < 2000
    with pytest.raises(EngineError) as info:
        ENGINE.convert(bomb, tmp_path / "out.jpg", "png", "jpg", ConvertOptions())
    assert info.value.code == "image_too_large"


def test_moderate_bomb_warning_is_error(tmp_path):
    # Between MAX_IMAGE_PIXELS and 2x: Pillow only warns; we turn the warning into an error.
    bomb = ef.png_bomb_header(tmp_path / "bomb.png", width=9000, height=9000)
    with pytest.raises(EngineError) as info:
        ENGINE.convert(bomb, tmp_path / "out.jpg", "png", "jpg", ConvertOptions())
    assert info.value.code == "image_too_large"


def test_truncated_gif(tmp_path):
    src = ef.make_image(tmp_path / "a.gif", "gif", size=(200, 200))
    data = src.read_bytes()
    trunc = tmp_path / "trunc.gif"
    trunc.write_bytes(data[: len(data) // 2])
    with pytest.raises(EngineError) as info:
        ENGINE.convert(trunc, tmp_path / "out.png", "gif", "png", ConvertOptions())
    assert info.value.code == "corrupt_input"


def test_gif_with_thousands_of_frames(tmp_path):
    src = ef.make_many_frame_gif(tmp_path / "many.gif", frames=3000)
    for dst in ("webp", "png"):
        with pytest.raises(EngineError) as info:
            ENGINE.convert(src, tmp_path / f"out.{dst}", "gif", dst, ConvertOptions())
        assert info.value.code == "too_many_frames"


def test_wrong_plugin_is_refused(tmp_path):
    src = ef.make_image(tmp_path / "a.png", "png")
    with pytest.raises(EngineError):
        ENGINE.convert(src, tmp_path / "out.jpg", "bmp", "jpg", ConvertOptions())


def test_output_too_large(tmp_path):
    src = ef.make_image(tmp_path / "a.png", "png", size=(300, 300))
    out = tmp_path / "a.bmp"
    with pytest.raises(OutputTooLarge):
        ENGINE.convert(src, out, "png", "bmp", ConvertOptions(max_output_bytes=1000))
    assert not out.exists()
