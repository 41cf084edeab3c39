"""ffmpeg engine."""

from __future__ import annotations

import pytest

from conversions.detection import detect_format
from conversions.engines.base import ConvertOptions, EngineError, EngineTimeout, UnsafeInput
from conversions.engines.ffmpeg import FFmpegEngine
from conversions.tests import enginefiles as ef

ENGINE = FFmpegEngine()
pytestmark = pytest.mark.skipif(not ENGINE.is_available(), reason="ffmpeg not available")


def test_pairs():
    pairs = ENGINE.pairs()
    assert ("wav", "mp3") in pairs and ("mp4", "mp3") in pairs
    assert ("mp4", "gif") in pairs and ("gif", "mp4") in pairs
    assert ("wma", "mp3") in pairs and ("mkv", "webm") in pairs and ("m4a", "opus") in pairs
    # 9 audio and 10 video formats: a/a 72, v/v 90, v->a 90, a->v 90, v<->gif 20 (a full ffmpeg build)
    assert len(pairs) == 362


def test_security_arguments(tmp_path):
    src = ef.make_wav(tmp_path / "a.wav")
    args = ENGINE.build_args(src, tmp_path / "o.mp3", "wav", "mp3", ConvertOptions())
    for flag in ("-nostdin", "-hide_banner", "-y", "-t", "-fs"):
        assert flag in args
    assert args[args.index("-protocol_whitelist") + 1] == "file,pipe"
    assert args[args.index("-f") + 1] == "wav"
    assert "hls" not in args and "concat" not in args


def test_m4a_uses_mov_demuxer(tmp_path):
    src = ef.make_video(tmp_path / "a.mp4")
    m4a = tmp_path / "a.m4a"
    m4a.write_bytes(src.read_bytes())
    args = ENGINE.build_args(m4a, tmp_path / "o.mp3", "aac", "mp3", ConvertOptions())
    assert args[args.index("-f") + 1] == "mov"


def test_wav_to_mp3_with_bitrate(tmp_path):
    src = ef.make_wav(tmp_path / "a.wav", seconds=2)
    sizes = {}
    for quality in ("basic", "premium"):
        out = tmp_path / f"{quality}.mp3"
        ENGINE.convert(src, out, "wav", "mp3", ConvertOptions(quality=quality))
        assert detect_format(out) == "mp3"
        sizes[quality] = out.stat().st_size
    assert sizes["basic"] < sizes["premium"]
    assert ef.media_duration(tmp_path / "basic.mp3") > 1.5


def test_video_to_video_and_audio(tmp_path):
    src = ef.make_video(tmp_path / "a.mp4")
    for dst in ("mov", "mp3"):
        out = tmp_path / f"out.{dst}"
        ENGINE.convert(src, out, "mp4", dst, ConvertOptions())
        assert detect_format(out) == dst
        assert ef.media_duration(out) > 0.5


def test_odd_dimensions_made_even(tmp_path):
    src = ef.make_video(tmp_path / "odd.avi", "avi", size="97x65")
    out = tmp_path / "out.mp4"
    ENGINE.convert(src, out, "avi", "mp4", ConvertOptions())
    assert ef.media_duration(out) > 0.5


def test_truncated_mp4(tmp_path):
    src = ef.make_video(tmp_path / "a.mp4")
    data = src.read_bytes()
    trunc = tmp_path / "trunc.mp4"
    trunc.write_bytes(data[: len(data) // 2])
    with pytest.raises(EngineError) as info:
        ENGINE.convert(trunc, tmp_path / "out.avi", "mp4", "avi", ConvertOptions())
    assert info.value.code == "corrupt_input"
    assert "/" not in info.value.message


def test_video_without_audio_to_audio(tmp_path):
    src = ef.make_video_gif(tmp_path / "a.gif")
    mp4 = tmp_path / "silent.mp4"
    ENGINE.convert(src, mp4, "gif", "mp4", ConvertOptions())
    with pytest.raises(EngineError) as info:
        ENGINE.convert(mp4, tmp_path / "out.mp3", "mp4", "mp3", ConvertOptions())
    assert info.value.code == "missing_stream"


def test_time_limit(tmp_path):
    src = ef.make_wav(tmp_path / "long.wav", seconds=60)
    out = tmp_path / "out.mp4"
    with pytest.raises(EngineTimeout):
        ENGINE.convert(src, out, "wav", "mp4", ConvertOptions(time_limit=0.5))
    assert not out.exists()


def test_playlist_rejected(tmp_path):
    playlist = tmp_path / "lista.m3u8"
    playlist.write_bytes(ef.HLS_PLAYLIST)
    with pytest.raises(UnsafeInput):
        ENGINE.convert(playlist, tmp_path / "out.mp3", "mp3", "wav", ConvertOptions())


def test_avi_embedding_playlist_rejected(tmp_path):
    avi = ef.make_video(tmp_path / "a.avi", "avi")
    data = avi.read_bytes()
    hostile = tmp_path / "hostile.avi"
    # Hide the playlist inside the file (as an exploit would in a GAB2 subtitle chunk).
    hostile.write_bytes(data[:4096] + ef.HLS_PLAYLIST + data[4096:])
    assert detect_format(hostile) == "avi"
    outputs = []
    for dst in ("mp4", "mp3", "gif"):
        out = tmp_path / f"out.{dst}"
        outputs.append(out)
        with pytest.raises(UnsafeInput) as info:
            ENGINE.convert(hostile, out, "avi", dst, ConvertOptions())
        assert info.value.code == "playlist_content"
    for out in outputs:
        assert not out.exists() or not ef.file_contains_passwd(out)


def test_progress_reported(tmp_path):
    src = ef.make_wav(tmp_path / "a.wav", seconds=3)
    seen: list[int] = []
    ENGINE.convert(src, tmp_path / "o.ogg", "wav", "ogg", ConvertOptions(progress=seen.append))
    assert seen[0] >= 0 and seen[-1] == 100
    assert seen == sorted(seen)
