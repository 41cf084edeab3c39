"""Per-pair options change the output (engines) and are checked by the API (400 naming the option)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from conversions.engines import ConvertOptions
from conversions.engines.ffmpeg import FFmpegEngine
from conversions.engines.pillow import PillowEngine
from conversions.models import Conversion
from conversions.tests import enginefiles as ef
from factories import upload

PILLOW = PillowEngine()
FFMPEG = FFmpegEngine()
needs_ffmpeg = pytest.mark.skipif(not FFMPEG.is_available(), reason="ffmpeg not available")


def streams(path: Path) -> str:
    """ffmpeg's description of the streams of ``path`` (e.g. 'Video: vp9 … 48x32 … 5 fps')."""
    proc = subprocess.run([ef.ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)], capture_output=True,
                          text=True, timeout=60)
    return "\n".join(line for line in proc.stderr.splitlines() if "Stream #" in line)


def convert(engine, src: Path, out: Path, src_fmt: str, dst_fmt: str, **params) -> Path:
    engine.convert(src, out, src_fmt, dst_fmt, ConvertOptions(params=params))
    return out


def gps_jpeg(path: Path) -> Path:
    exif = Image.Exif()
    exif[0x010F] = "Phone"
    exif[0x8825] = {1: "N", 2: (40.0, 26.0, 46.0), 3: "W", 4: (79.0, 58.0, 56.0)}
    Image.new("RGB", (64, 48), "blue").save(path, "JPEG", exif=exif.tobytes())
    return path


def has_gps(path: Path) -> bool:
    with Image.open(path) as im:
        return bool(im.getexif().get_ifd(0x8825))


# --- images (Pillow) ---------------------------------------------------------------------------
def test_width_keeps_the_proportion(tmp_path):
    src = ef.make_image(tmp_path / "a.png", "png", size=(64, 48))
    with Image.open(convert(PILLOW, src, tmp_path / "o.jpg", "png", "jpg", width=32)) as im:
        assert im.size == (32, 24)


@pytest.mark.parametrize("fit, size", [("contain", (20, 15)), ("cover", (20, 20)), ("fill", (20, 20))])
def test_fit(tmp_path, fit, size):
    src = ef.make_image(tmp_path / "a.png", "png", size=(64, 48))
    with Image.open(convert(PILLOW, src, tmp_path / "o.webp", "png", "webp",
                            width=20, height=20, fit=fit)) as im:
        assert im.size == size


def test_gps_is_stripped_by_default_and_kept_on_request(tmp_path):
    src = gps_jpeg(tmp_path / "photo.jpg")
    assert has_gps(src)
    for dst in ("webp", "png", "tiff", "bmp"):
        assert not has_gps(convert(PILLOW, src, tmp_path / f"o.{dst}", "jpg", dst)), dst
    assert has_gps(convert(PILLOW, src, tmp_path / "kept.jpg", "jpg", "webp", strip_metadata=False))


def test_background_when_dropping_transparency(tmp_path):
    src = tmp_path / "t.png"
    Image.new("RGBA", (10, 10), (0, 0, 0, 0)).save(src)
    with Image.open(convert(PILLOW, src, tmp_path / "o.jpg", "png", "jpg", background="#ff0000")) as im:
        r, g, b = im.convert("RGB").getpixel((5, 5))
        assert r > 240 and g < 20 and b < 20
    with Image.open(convert(PILLOW, src, tmp_path / "w.jpg", "png", "jpg")) as im:
        assert min(im.convert("RGB").getpixel((5, 5))) > 240  # white by default


def test_resize_beyond_the_pixel_cap_is_refused(tmp_path):
    from conversions.engines import EngineError

    src = ef.make_image(tmp_path / "a.png", "png", size=(64, 48))
    with pytest.raises(EngineError) as info:
        convert(PILLOW, src, tmp_path / "o.png", "png", "jpg", width=16384, height=16384, fit="fill")
    assert info.value.code == "image_too_large"


# --- audio and video (FFmpeg) ------------------------------------------------------------------
@needs_ffmpeg
def test_trim_sets_the_duration(tmp_path):
    src = ef.make_audio(tmp_path / "a.wav", "wav", seconds=3.0)
    out = convert(FFMPEG, src, tmp_path / "o.mp3", "wav", "mp3", trim_start=0.5, trim_end=1.5)
    assert ef.media_duration(out) == pytest.approx(1.0, abs=0.15)


@needs_ffmpeg
def test_sample_rate_channels_bitrate(tmp_path):
    src = ef.make_audio(tmp_path / "a.wav", "wav", seconds=1.0)
    out = convert(FFMPEG, src, tmp_path / "o.mp3", "wav", "mp3", sample_rate=22050, channels=1, bitrate=64)
    info = streams(out)
    assert "22050 Hz" in info and "mono" in info and "64 kb/s" in info


@needs_ffmpeg
@pytest.mark.parametrize("dst, codec, shown", [("mkv", "vp9", "Video: vp9"), ("mp4", "h265", "Video: hevc"),
                                               ("webm", "av1", "Video: av1")])
def test_codec_in_the_container(tmp_path, dst, codec, shown):
    if codec not in (FFMPEG.option_choices("codec", dst) or ()) or ("avi", dst) not in FFMPEG.pairs():
        pytest.skip(f"this ffmpeg cannot make {codec} in {dst}")
    src = ef.make_video(tmp_path / "v.avi", "avi", seconds=1.0)
    assert shown in streams(convert(FFMPEG, src, tmp_path / f"o.{dst}", "avi", dst, codec=codec))


@needs_ffmpeg
def test_mute_resolution_fps_and_trim(tmp_path):
    src = ef.make_video(tmp_path / "v.mp4", "mp4", seconds=2.0, size="96x64", rate=10)
    assert "Audio:" in streams(src)
    out = convert(FFMPEG, src, tmp_path / "o.mov", "mp4", "mov", mute=True, width=48, fps=5, trim_end=1.0)
    info = streams(out)
    assert "Audio:" not in info and "48x32" in info and "5 fps" in info
    assert ef.media_duration(out) == pytest.approx(1.0, abs=0.25)


# --- the API -----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("commit_per_request")
def test_options_are_stored_on_the_job_and_applied(api_client, sample):
    resp = upload(api_client, [sample("png")], "jpg", options=json.dumps({"width": 32, "fit": "cover"}))
    assert resp.status_code == 202, resp.content
    item = resp.json()["conversions"][0]
    assert item["options"] == {"width": 32, "fit": "cover", "strip_metadata": True, "background": "#ffffff"}
    conversion = Conversion.objects.get(pk=item["id"])
    assert conversion.status == "completed" and conversion.options["params"]["width"] == 32
    download = api_client.get(f"/api/conversion/{item['id']}/download", HTTP_X_SESSION_ID=resp.json()["session_id"])
    data = b"".join(download.streaming_content)
    import io

    with Image.open(io.BytesIO(data)) as im:
        assert im.width == 32


@pytest.mark.django_db
@pytest.mark.parametrize("options, name", [
    ({"width": 0}, "width"), ({"width": "ancho"}, "width"), ({"fit": "stretch"}, "fit"),
    ({"background": "#12"}, "background"), ({"foo": 1}, "foo"), ({"trim_start": 1}, "trim_start"),
])
def test_bad_or_unknown_option_is_a_400_naming_it(api_client, sample, options, name):
    resp = upload(api_client, [sample("png")], "jpg", options=json.dumps(options))
    assert resp.status_code == 400, resp.content
    body = resp.json()
    assert body["code"] == "invalid_option" and body["error"].startswith(f"{name}: ")
    assert list(body["details"]["options"]) == [name]
    assert not Conversion.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("raw", ["no es json", "[1, 2]", "x" * 5000])
def test_options_must_be_a_json_object(api_client, sample, raw):
    resp = upload(api_client, [sample("png")], "jpg", options=raw)
    assert resp.status_code == 400 and re.match(r"options: ", resp.json()["error"]), resp.content
    assert "options" in resp.json()["details"]


@pytest.mark.django_db
@pytest.mark.usefixtures("commit_per_request")
def test_the_page_offers_more_options_and_the_form_sends_them(client, sample):
    from django.core.files.uploadedfile import SimpleUploadedFile

    html = client.get("/").content.decode()
    assert "Más opciones" in html and 'name="opt_width"' in html and 'name="opt_trim_end"' in html
    path = sample("png")
    resp = client.post("/convert/", {"file": SimpleUploadedFile("foto.png", path.read_bytes()),
                                     "target_format": "webp", "quality": "standard", "opt_width": "16",
                                     "opt_height": ""}, follow=True)
    assert resp.status_code == 200
    conversion = Conversion.objects.get()
    assert conversion.status == "completed" and conversion.options["params"]["width"] == 16
    refused = client.post("/convert/", {"file": SimpleUploadedFile("foto.png", path.read_bytes()),
                                        "target_format": "webp", "quality": "standard", "opt_bitrate": "128"},
                       follow=True)
    assert "bitrate: " in refused.content.decode() and Conversion.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("options, name", [
    ({"width": 0}, "width"), ({"fit": "stretch"}, "fit"), ({"bitrate": 128}, "bitrate"), ({"foo": 1}, "foo"),
    ({"dpi": 5000}, "dpi"),
])
def test_bad_option_with_a_url_import_is_a_400_naming_it(api_client, monkeypatch, options, name):
    """The source is known only after the download: an option no pair to the target takes (or a value
    out of every pair's bounds) is refused at once, naming it."""
    from uploads import imports

    monkeypatch.setattr(imports, "url_import_enqueue", lambda **kw: None)
    data = {"source_url": "https://example.com/a.png", "target_format": "jpg", "options": json.dumps(options)}
    resp = api_client.post("/api/conversion/convert", data, format="multipart")
    assert resp.status_code == 400, resp.content
    body = resp.json()
    assert body["code"] == "invalid_option" and body["error"].startswith(f"{name}: ")
    assert list(body["details"]["options"]) == [name]
    assert not Conversion.objects.exists()


@pytest.mark.django_db
def test_good_options_with_a_url_import_are_kept_on_the_job(api_client, monkeypatch):
    from uploads import imports

    monkeypatch.setattr(imports, "url_import_enqueue", lambda **kw: None)
    data = {"source_url": "https://example.com/a.png", "target_format": "jpg",
            "options": json.dumps({"width": "10", "pages": "1-2"})}  # image and PDF-page options: pairs to jpg
    resp = api_client.post("/api/conversion/convert", data, format="multipart")
    assert resp.status_code == 400 and list(resp.json()["details"]["options"]) == ["pages"]  # never together
    data["options"] = json.dumps({"width": 10})
    resp = api_client.post("/api/conversion/convert", data, format="multipart")
    assert resp.status_code == 202, resp.content
    (item,) = resp.json()["conversions"]
    assert item["fetching"] is True and item["options"] == {"width": 10}
    assert Conversion.objects.get(pk=item["id"]).options["requested_options"] == {"width": 10}
