"""Pixel caps count what the options ask for (SECURITY.md "Resources and slow clients"): frames × target
width × height, pages × DPI-derived pixels; checked when the file is received (before any charge) and
again in the engine."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from conversions.engines import ConvertOptions
from conversions.engines.base import EngineError
from conversions.engines.pillow import MAX_TOTAL_PIXELS, PillowEngine
from conversions.engines.pymupdf import MAX_RENDERED_TOTAL_PIXELS, PyMuPDFEngine
from conversions.models import Conversion
from factories import upload
from storage.models import StoredFile


def tiny_tiff(path: Path, pages: int = 16) -> Path:
    """A 16-page 1×1 TIFF (a few KB)."""
    frames = [Image.new("RGB", (1, 1), (index * 10, 0, 0)) for index in range(pages)]
    frames[0].save(path, "TIFF", save_all=True, append_images=frames[1:])
    return path


def a4_pdf(path: Path, pages: int) -> Path:
    import pymupdf

    doc = pymupdf.open()
    for number in range(pages):
        doc.new_page(width=595, height=842).insert_text((72, 72), f"Página {number + 1}")
    doc.save(str(path))
    doc.close()
    return path


BIG = {"width": 8000, "height": 8000}  # 64 Mpx a page: under the per-frame cap, 16 of them are 1.02 Gpx


@pytest.mark.django_db
def test_multi_page_tiff_resized_past_the_cap_is_refused_at_request_naming_width_and_height(api_client, tmp_path):
    path = tiny_tiff(tmp_path / "paginas.tiff")
    assert path.stat().st_size < 4096
    resp = upload(api_client, [path], "pdf", options=json.dumps(BIG))
    assert resp.status_code == 400, resp.content
    body = resp.json()
    assert body["code"] == "output_too_large" and body["error"].startswith("width, height: ")
    assert sorted(body["details"]["options"]) == ["height", "width"]
    assert "1024 megapíxeles en 16" in body["details"]["options"]["width"][0]
    assert not Conversion.objects.exists() and not StoredFile.objects.exists()  # nothing charged or stored


@pytest.mark.django_db
def test_the_refusal_is_translated(api_client, tmp_path):
    api_client.credentials(HTTP_ACCEPT_LANGUAGE="en")
    resp = upload(api_client, [tiny_tiff(tmp_path / "p.tiff")], "pdf", options=json.dumps(BIG))
    assert resp.status_code == 400
    assert "megapixels" in resp.json()["details"]["options"]["width"][0], resp.content


@pytest.mark.django_db
def test_animated_gif_upscaled_past_the_cap_is_refused_at_request(api_client, tmp_path):
    frames = [Image.new("RGB", (4, 4), (index * 20, 0, 0)) for index in range(10)]
    path = tmp_path / "anim.gif"
    frames[0].save(path, "GIF", save_all=True, append_images=frames[1:], duration=50)
    resp = upload(api_client, [path], "webp", options=json.dumps({"width": 6000}))
    assert resp.status_code == 400 and list(resp.json()["details"]["options"]) == ["width"], resp.content
    assert not Conversion.objects.exists()


@pytest.mark.parametrize("engine", [PillowEngine(), PyMuPDFEngine()], ids=["pillow", "pymupdf"])
def test_the_engine_refuses_too_when_called_directly(tmp_path, engine):
    src, out = tiny_tiff(tmp_path / "p.tiff"), tmp_path / "out.pdf"
    with pytest.raises(EngineError) as caught:
        engine.convert(src, out, "tiff", "pdf", ConvertOptions(params=dict(BIG)))
    assert caught.value.code == "output_too_large" and caught.value.total > MAX_TOTAL_PIXELS
    assert not out.exists()


def test_the_engine_counts_the_real_frame_sizes(tmp_path):
    """Frames of different sizes: a width alone keeps each frame's proportion (a tall later frame)."""
    path = tmp_path / "mixed.tiff"
    first, tall = Image.new("RGB", (10, 10)), Image.new("RGB", (1, 200))
    first.save(path, "TIFF", save_all=True, append_images=[tall, tall])
    with pytest.raises(EngineError) as caught:  # 3 frames: 4000² + 2 × (4000 × 800,000) pixels
        PillowEngine().convert(path, tmp_path / "o.pdf", "tiff", "pdf", ConvertOptions(params={"width": 4000}))
    assert caught.value.code in ("output_too_large", "image_too_large")


@pytest.mark.django_db
@pytest.mark.usefixtures("commit_per_request")
def test_a_legitimate_resize_of_every_page_still_works(api_client, tmp_path):
    import pymupdf

    resp = upload(api_client, [tiny_tiff(tmp_path / "p.tiff")], "pdf", options=json.dumps({"width": 120, "height": 90,
                                                                                            "fit": "fill"}))
    assert resp.status_code == 202, resp.content
    item = resp.json()["conversions"][0]
    assert Conversion.objects.get(pk=item["id"]).status == "completed"
    data = b"".join(api_client.get(f"/api/conversion/{item['id']}/download",
                                   HTTP_X_SESSION_ID=resp.json()["session_id"]).streaming_content)
    doc = pymupdf.open(stream=data, filetype="pdf")
    assert doc.page_count == 16
    doc.close()


@pytest.mark.django_db
def test_pdf_pages_at_a_dpi_past_the_cap_are_refused_at_request_naming_dpi(api_client, tmp_path):
    path = a4_pdf(tmp_path / "informe.pdf", 40)  # 40 A4 pages at 600 dpi: 40 × 34.8 Mpx = 1.39 Gpx
    resp = upload(api_client, [path], "png", options=json.dumps({"dpi": 600}))
    assert resp.status_code == 400, resp.content
    body = resp.json()
    assert body["code"] == "output_too_large" and list(body["details"]["options"]) == ["dpi"]
    assert not Conversion.objects.exists() and not StoredFile.objects.exists()
    # Fewer pages at that resolution are fine: the cap is on pages × DPI-derived pixels
    with pytest.raises(EngineError) as caught:
        PyMuPDFEngine().convert(path, tmp_path / "o.png", "pdf", "png", ConvertOptions(params={"dpi": 600}))
    assert caught.value.code == "output_too_large" and caught.value.total > MAX_RENDERED_TOTAL_PIXELS


@pytest.mark.django_db
@pytest.mark.usefixtures("commit_per_request")
def test_pdf_pages_at_a_dpi_within_the_cap_work(api_client, tmp_path):
    resp = upload(api_client, [a4_pdf(tmp_path / "informe.pdf", 40)], "png",
                  options=json.dumps({"dpi": 600, "pages": "1"}))
    assert resp.status_code == 202, resp.content
    item = resp.json()["conversions"][0]
    assert Conversion.objects.get(pk=item["id"]).status == "completed"
    data = b"".join(api_client.get(f"/api/conversion/{item['id']}/download",
                                   HTTP_X_SESSION_ID=resp.json()["session_id"]).streaming_content)
    with Image.open(io.BytesIO(data)) as im:
        assert im.size in ((4958, 7017), (4959, 7017))  # A4 at 600 dpi (MuPDF rounds up)


# --- video: duration × frame rate × target size ---------------------------------------------------


def long_tiny_video(path: Path, seconds: int, size: str = "16x16", rate: int = 1) -> Path:
    import subprocess

    from conversions.tests import enginefiles as ef

    subprocess.run([ef.ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-f", "lavfi", "-i",
                    f"color=c=blue:size={size}:rate={rate}:duration={seconds}", "-c:v", "libx264", "-preset",
                    "ultrafast", "-pix_fmt", "yuv420p", str(path)], check=True, capture_output=True, timeout=120)
    return path


VIDEO_BIG = {"width": 3840, "height": 3840, "fps": 60}  # 20 min × 60 fps × 14.7 Mpx = 1.06e13 pixels


@pytest.mark.django_db
def test_video_upscaled_at_a_high_frame_rate_is_refused_at_request(api_client, tmp_path):
    path = long_tiny_video(tmp_path / "largo.mp4", 1200)
    assert path.stat().st_size < 200_000
    resp = upload(api_client, [path], "mkv", options=json.dumps(VIDEO_BIG))
    assert resp.status_code == 400, resp.content
    body = resp.json()
    assert body["code"] == "output_too_large" and sorted(body["details"]["options"]) == ["fps", "height", "width"]
    assert not Conversion.objects.exists() and not StoredFile.objects.exists()
    trimmed = upload(api_client, [path], "mkv", options=json.dumps({**VIDEO_BIG, "trim_end": 10}))
    assert trimmed.status_code == 202, trimmed.content  # 10 s of it is within the cap


def test_the_ffmpeg_engine_refuses_too_when_called_directly(tmp_path):
    from conversions.engines.ffmpeg import MAX_VIDEO_OUTPUT_PIXELS, FFmpegEngine

    src, out = long_tiny_video(tmp_path / "largo.mp4", 1200), tmp_path / "o.mkv"
    with pytest.raises(EngineError) as caught:
        FFmpegEngine().convert(src, out, "mp4", "mkv", ConvertOptions(params=dict(VIDEO_BIG)))
    assert caught.value.code == "output_too_large" and caught.value.total > MAX_VIDEO_OUTPUT_PIXELS
    assert not out.exists()


def test_one_side_alone_cannot_push_the_other_past_the_side_cap(tmp_path):
    """width 256 of a 16×512 video asked for a 256×8192 frame; the proportional side stays ≤ 3840."""
    from conversions.engines.ffmpeg import MAX_VIDEO_SIDE, FFmpegEngine
    from conversions.tests.test_options import streams

    src, out = long_tiny_video(tmp_path / "alto.mp4", 1, size="16x512", rate=2), tmp_path / "o.mkv"
    FFmpegEngine().convert(src, out, "mp4", "mkv", ConvertOptions(params={"width": 256}))
    import re

    width, height = map(int, re.search(r", (\d+)x(\d+)", streams(out)).groups())
    assert height <= MAX_VIDEO_SIDE and width <= 256 and width * 32 == pytest.approx(height, rel=0.1)


@pytest.mark.django_db
def test_the_page_form_refuses_it_too(client, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = tiny_tiff(tmp_path / "p.tiff").read_bytes()
    resp = client.post("/convert/", {"file": SimpleUploadedFile("paginas.tiff", data), "target_format": "pdf",
                                     "quality": "standard", "opt_width": "8000", "opt_height": "8000"}, follow=True)
    assert resp.status_code == 200
    assert "megapíxeles" in resp.content.decode() and not Conversion.objects.exists()
