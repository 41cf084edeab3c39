"""Audio/video conversions with the ffmpeg CLI (system binary or imageio-ffmpeg's)."""

from __future__ import annotations

import re
import shutil
from functools import lru_cache
from pathlib import Path

from ..formats import CATEGORIES
from . import process
from .base import ConvertOptions, Engine, EngineError, UnsafeInput

AUDIO = list(CATEGORIES["audio"])
VIDEO = list(CATEGORIES["video"])

# Byte patterns that reveal playlists / concat scripts (SSRF and local file disclosure).
PLAYLIST_MARKERS = (b"#EXTM3U", b"#EXT-X-", b"ffconcat")
SCAN_CHUNK = 1024 * 1024

# Source format -> forced input demuxer (allowlist; never probing, never hls/concat).
DEMUXERS = {
    "mp3": "mp3",
    "wav": "wav",
    "flac": "flac",
    "aac": "aac",  # ADTS; ISO-BMFF (.m4a) switches to "mov"
    "ogg": "ogg",
    "mp4": "mov",
    "mov": "mov",
    "avi": "avi",
    "wmv": "asf",
    "flv": "flv",
    "gif": "gif",
}

QUALITY: dict[str, dict[str, object]] = {
    "basic": {"abitrate": "96k", "crf": 30, "preset": "veryfast", "qscale": 10,
              "vorbis_q": 2, "flac_level": 5, "gif_fps": 8, "gif_width": 320},
    "standard": {"abitrate": "128k", "crf": 26, "preset": "fast", "qscale": 6,
                 "vorbis_q": 4, "flac_level": 5, "gif_fps": 10, "gif_width": 480},
    "high": {"abitrate": "192k", "crf": 22, "preset": "medium", "qscale": 4,
             "vorbis_q": 6, "flac_level": 8, "gif_fps": 12, "gif_width": 640},
    "premium": {"abitrate": "320k", "crf": 18, "preset": "slow", "qscale": 2,
                "vorbis_q": 9, "flac_level": 8, "gif_fps": 15, "gif_width": 800},
}

MAX_VIDEO_SIDE = 3840
# Even dimensions (required by yuv420p encoders), downscaled to at most MAX_VIDEO_SIDE.
EVEN_SCALE = (
    f"scale=w='min(iw,{MAX_VIDEO_SIDE})':h='min(ih,{MAX_VIDEO_SIDE})'"
    ":force_original_aspect_ratio=decrease:force_divisible_by=2"
)
_DURATION_RE = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")


@lru_cache(maxsize=1)
def ffmpeg_binary() -> str | None:
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:
        return None


def scan_for_playlists(path: Path) -> None:
    """Raise UnsafeInput if the file contains playlist / concat markers anywhere."""
    overlap = max(len(m) for m in PLAYLIST_MARKERS)
    with open(path, "rb") as fh:
        tail = b""
        while chunk := fh.read(SCAN_CHUNK):
            window = tail + chunk
            for marker in PLAYLIST_MARKERS:
                if marker in window:
                    raise UnsafeInput("El archivo contiene listas de reproducción no permitidas",
                                      code="playlist_content", detail=marker.decode())
            tail = window[-overlap:]


def input_demuxer(path: Path, src_fmt: str) -> str:
    from ..detection import detect_format, is_isobmff

    if src_fmt not in DEMUXERS:
        raise EngineError("Formato no soportado", code="unsupported_format")
    if src_fmt in ("aac", "mp4", "mov") and is_isobmff(path):
        return "mov"
    detected = detect_format(path)
    if src_fmt == "aac" and detected != "aac":
        raise EngineError("El archivo no coincide con el formato declarado",
                          code="content_mismatch", detail=f"detected {detected}")
    return DEMUXERS[src_fmt]


def audio_args(dst_fmt: str, q: dict) -> list[str]:
    if dst_fmt == "mp3":
        return ["-c:a", "libmp3lame", "-b:a", str(q["abitrate"]), "-f", "mp3"]
    if dst_fmt == "aac":
        return ["-c:a", "aac", "-b:a", str(q["abitrate"]), "-f", "adts"]
    if dst_fmt == "flac":
        return ["-c:a", "flac", "-compression_level", str(q["flac_level"]), "-f", "flac"]
    if dst_fmt == "ogg":
        return ["-c:a", "libvorbis", "-q:a", str(q["vorbis_q"]), "-f", "ogg"]
    if dst_fmt == "wav":
        return ["-c:a", "pcm_s16le", "-f", "wav"]
    raise EngineError("Formato no soportado", code="unsupported_format")


def video_args(dst_fmt: str, q: dict) -> list[str]:
    if dst_fmt in ("mp4", "mov"):
        return ["-c:v", "libx264", "-preset", str(q["preset"]), "-crf", str(q["crf"]),
                "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", str(q["abitrate"]),
                "-movflags", "+faststart", "-f", dst_fmt]
    if dst_fmt == "avi":
        return ["-c:v", "mpeg4", "-q:v", str(q["qscale"]), "-pix_fmt", "yuv420p",
                "-c:a", "libmp3lame", "-b:a", str(q["abitrate"]), "-f", "avi"]
    if dst_fmt == "wmv":
        return ["-c:v", "wmv2", "-q:v", str(q["qscale"]), "-pix_fmt", "yuv420p",
                "-c:a", "wmav2", "-b:a", str(q["abitrate"]), "-f", "asf"]
    if dst_fmt == "flv":
        return ["-c:v", "flv", "-q:v", str(q["qscale"]), "-pix_fmt", "yuv420p",
                "-c:a", "libmp3lame", "-b:a", str(q["abitrate"]), "-ar", "44100", "-f", "flv"]
    raise EngineError("Formato no soportado", code="unsupported_format")


class FFmpegEngine(Engine):
    name = "ffmpeg"
    priority = 50
    QUALITY = QUALITY

    def pairs(self) -> set[tuple[str, str]]:
        result = {(a, b) for a in AUDIO for b in AUDIO if a != b}
        result |= {(a, b) for a in VIDEO for b in VIDEO if a != b}
        result |= {(v, a) for v in VIDEO for a in AUDIO}
        result |= {(v, "gif") for v in VIDEO}
        result |= {("gif", v) for v in VIDEO}
        # Audio -> video with a waveform visualisation as picture.
        result |= {(a, v) for a in AUDIO for v in VIDEO}
        return result

    def _probe(self) -> bool:
        binary = ffmpeg_binary()
        return bool(binary) and Path(binary).exists()

    def build_args(self, src: Path, out: Path, src_fmt: str, dst_fmt: str,
                   options: ConvertOptions, *, audio_only: bool = False) -> list[str]:
        """``audio_only``: the video container holds only sound, so the picture is drawn from it."""
        q = self.quality(options)
        demuxer = input_demuxer(src, src_fmt)
        args = [
            ffmpeg_binary(), "-nostdin", "-hide_banner", "-nostats", "-y",
            "-loglevel", "info",
            "-progress", "pipe:1", "-stats_period", "0.1",  # out_time_us 10 times a second
            "-protocol_whitelist", "file,pipe",
            "-format_whitelist", demuxer,
            "-f", demuxer,
            "-i", f"file:{src}",
            "-t", f"{options.max_media_seconds:.0f}",
            "-fs", str(options.max_output_bytes),
            "-map_metadata", "-1", "-map_chapters", "-1", "-sn", "-dn",
        ]
        if dst_fmt in AUDIO and src_fmt in AUDIO + VIDEO:
            args += ["-map", "0:a:0", "-vn"]
            args += audio_args(dst_fmt, q)
        elif dst_fmt == "gif":
            fps, width = q["gif_fps"], q["gif_width"]
            args += [
                "-filter_complex",
                f"[0:v:0]fps={fps},scale='min(iw,{width})':-2:flags=lanczos,split[a][b];"
                "[a]palettegen[p];[b][p]paletteuse[v]",
                "-map", "[v]", "-an", "-loop", "0", "-f", "gif",
            ]
        elif dst_fmt in VIDEO and (src_fmt in AUDIO or audio_only):
            args += [
                "-filter_complex",
                "[0:a:0]showwaves=s=640x360:mode=cline:rate=25,format=yuv420p[v]",
                "-map", "[v]", "-map", "0:a:0",
            ]
            args += video_args(dst_fmt, q)
            args += ["-shortest"]
        elif dst_fmt in VIDEO:
            args += ["-map", "0:v:0", "-map", "0:a:0?", "-vf", EVEN_SCALE]
            args += video_args(dst_fmt, q)
        else:
            raise EngineError("Conversión no soportada", code="unsupported_pair")
        args.append(f"file:{out}")
        return args

    def _convert(self, src: Path, out: Path, src_fmt: str, dst_fmt: str,
                 options: ConvertOptions) -> None:
        scan_for_playlists(src)
        state = {"duration": None, "last": 0}

        def on_line(stream: str, line: str) -> None:
            if stream == "stderr":
                if state["duration"] is None and (m := _DURATION_RE.search(line)):
                    h, mnt, s = m.groups()
                    state["duration"] = int(h) * 3600 + int(mnt) * 60 + float(s)
                return
            key, _, value = line.partition("=")
            if key == "out_time_us" and state["duration"]:
                try:
                    done = int(value) / 1_000_000
                except ValueError:
                    return
                pct = int(min(99, max(1, 100 * done / state["duration"])))
                if pct > state["last"]:
                    state["last"] = pct
                    options.report(pct)

        tmp = out.parent
        try:
            self._run(self.build_args(src, out, src_fmt, dst_fmt, options), tmp, options, on_line)
        except EngineError as exc:
            # A "video" that carries only sound (an audio-only FLV, say) still makes a video.
            if exc.code != "missing_stream" or src_fmt not in VIDEO or dst_fmt not in VIDEO:
                raise
            out.unlink(missing_ok=True)
            self._run(self.build_args(src, out, src_fmt, dst_fmt, options, audio_only=True), tmp, options,
                      on_line)

    def _run(self, args: list[str], tmp: Path, options: ConvertOptions, on_line) -> None:
        try:
            process.run(args, timeout=options.remaining(), cwd=tmp, env=process.safe_env(home=tmp),
                        on_line=on_line)
        except EngineError as exc:
            if exc.code == "engine_failed":
                raise self._explain(exc) from exc
            raise

    @staticmethod
    def _explain(exc: EngineError) -> EngineError:
        detail = exc.detail
        if "matches no streams" in detail or "does not contain any stream" in detail:
            return EngineError("El archivo no contiene pistas del tipo necesario",
                               code="missing_stream", detail=detail)
        return EngineError("El archivo multimedia está dañado o no es válido",
                           code="corrupt_input", detail=detail)
