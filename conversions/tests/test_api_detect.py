"""POST /api/conversion/detect: the page's pre-flight look at the first 64 KiB of a file."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conversions.tests import formatfiles as ff

pytestmark = pytest.mark.django_db


def detect(api_client, head: bytes, name: str):
    return api_client.post("/api/conversion/detect", {"head": SimpleUploadedFile("head", head), "name": name},
                           format="multipart")


def test_a_wav_named_anything_is_audio_with_its_targets(api_client, sample):
    wav = sample("wav")
    response = detect(api_client, wav.read_bytes()[:65536], "grabacion.bin")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["format"] == "wav" and body["family"] == "audio" and body["category"] == "audio"
    assert "mp3" in body["targets"] and "wav" not in body["targets"] and body["message"] == ""


def test_wma_is_audio_not_video(api_client, tmp_path):
    wma = ff.asf(tmp_path / "cancion.wma", ["audio"])
    body = detect(api_client, wma.read_bytes(), "cancion.wma").json()
    assert body["format"] == "wma" and body["family"] == "audio"
    assert "mp3" in body["targets"] and "mp4" in body["targets"]  # a waveform video is still offered


def test_mkv_is_identified(api_client, tmp_path):
    mkv = ff.ebml(tmp_path / "pelicula.mkv", b"matroska")
    body = detect(api_client, mkv.read_bytes(), "pelicula.mkv").json()
    assert body["format"] == "mkv" and body["family"] == "video" and "mp4" in body["targets"]


def test_text_formats_by_name(api_client):
    body = detect(api_client, b"# Hola\n\n*mundo*\n", "LEEME.md").json()
    assert body["format"] == "md" and "docx" in body["targets"]
    assert detect(api_client, b"# Hola\n", "LEEME.txt").json()["format"] == "txt"


def test_pdf_after_junk_is_pdf(api_client):
    body = detect(api_client, b"\n\xa0\xa4\x03%PDF-1.5\n%\xbf\xf7\n1 0 obj\n", "factura.pdf").json()
    assert body["format"] == "pdf" and "png" in body["targets"]


def test_unknown_content_is_said_in_words(api_client):
    body = detect(api_client, bytes(range(256)) * 4, "raro.bin").json()
    assert body["format"] is None and body["targets"] == []
    assert body["message"] == "No se pudo identificar el tipo de archivo."


def test_jxl_renamed_is_identified_with_its_targets(api_client, tmp_path):
    from conversions.tests import enginefiles as ef

    jxl = ef.make_image(tmp_path / "foto.jxl", "jxl")
    body = detect(api_client, jxl.read_bytes(), "foto.jpg").json()
    assert body["format"] == "jxl" and body["family"] == "images" and body["message"] == ""
    assert "png" in body["targets"] and "pdf" in body["targets"] and "jxl" not in body["targets"]


def test_head_over_64_kib_is_refused(api_client):
    response = detect(api_client, b"a" * 65537, "grande.txt")
    assert response.status_code == 400
    assert response.json()["code"] == "head_too_large"


def test_missing_head_is_a_400_naming_it(api_client):
    response = api_client.post("/api/conversion/detect", {"name": "x.png"}, format="multipart")
    assert response.status_code == 400
    assert "head" in str(response.json())
