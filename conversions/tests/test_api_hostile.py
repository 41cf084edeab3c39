"""Hostile files through the whole API: a clear 4xx or a failed job, never a 500 or a leak."""

import pytest
from django.core.files.storage import default_storage

from conversions.models import Conversion
from factories import upload
from storage.models import StoredFile

from . import enginefiles

# after-commit work (the eager worker) runs at the end of each request: no real transactions needed
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commit_per_request")]


def _outcome(resp):
    assert resp.status_code < 500, resp.content
    if resp.status_code == 202:
        conversion = Conversion.objects.get(pk=resp.json()["conversions"][0]["id"])
        return conversion.status, conversion.error_message
    return resp.status_code, resp.json()["error"]


def _no_passwd_anywhere():
    for stored in StoredFile.objects.filter(kind="converted"):
        with default_storage.open(stored.storage_name, "rb") as fh:
            data = fh.read()
        assert not any(marker.encode() in data for marker in enginefiles.PASSWD_MARKERS[:2])


def test_png_bomb_header(api_client, tmp_path):
    path = enginefiles.png_bomb_header(tmp_path / "bomb.png")
    status, message = _outcome(upload(api_client, [path], "jpg"))
    assert status in ("failed", 400, 415) and message


def test_truncated_gif_and_mp4(api_client, tmp_path):
    gif = enginefiles.make_animated_gif(tmp_path / "full.gif")
    truncated = tmp_path / "cut.gif"
    truncated.write_bytes(gif.read_bytes()[:60])
    status, message = _outcome(upload(api_client, [truncated], "png"))
    assert status in ("failed", 400, 415) and message

    mp4 = enginefiles.make_video(tmp_path / "full.mp4", "mp4")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(mp4.read_bytes()[:200])
    status, message = _outcome(upload(api_client, [cut], "avi"))
    assert status in ("failed", 400, 415) and message


def test_gif_with_thousands_of_frames(api_client, tmp_path):
    path = enginefiles.make_many_frame_gif(tmp_path / "frames.gif")
    status, message = _outcome(upload(api_client, [path], "png"))
    assert status in ("failed", 400, 415) and message


def test_hls_playlist_and_avi_embedding_one(api_client, tmp_path):
    playlist = tmp_path / "lista.m3u8"
    playlist.write_bytes(enginefiles.HLS_PLAYLIST)
    resp = upload(api_client, [playlist], "mp4")
    assert resp.status_code in (400, 415)
    avi = tmp_path / "trampa.avi"
    avi.write_bytes(b"RIFF\x00\x10\x00\x00AVI LIST" + b"\x00" * 64 + enginefiles.HLS_PLAYLIST)
    status, message = _outcome(upload(api_client, [avi], "mp4"))
    assert status in ("failed", 400, 415) and message
    _no_passwd_anywhere()


def test_docx_zip_bomb_is_415(api_client, tmp_path):
    bomb = enginefiles.make_docx_bomb_entries(tmp_path / "bomba.docx")
    resp = upload(api_client, [bomb], "pdf")
    assert resp.status_code == 415 and resp.json()["code"] == "zip_bomb"
    assert not StoredFile.objects.exists()


def test_rtf_and_text_including_local_files_leak_nothing(api_client, tmp_path):
    rtf = tmp_path / "include.rtf"
    rtf.write_text(r'{\rtf1\ansi {\field{\*\fldinst INCLUDETEXT "/etc/passwd"}}{\fldrslt x}} Hola}')
    txt = tmp_path / "include.txt"
    txt.write_text("# Hola\n\n![x](/etc/passwd)\n\n<iframe src='file:///etc/passwd'></iframe>\n")
    for path, target in ((rtf, "pdf"), (rtf, "docx"), (txt, "pdf"), (txt, "odt")):
        status, _ = _outcome(upload(api_client, [path], target))
        assert status in ("completed", "failed", 400, 415)
    _no_passwd_anywhere()
