"""Audio/video conversions with the ffmpeg CLI (system binary or imageio-ffmpeg's)."""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from . import media_options, process
from .base import ConvertOptions, Engine, EngineError, OutputCapExceeded, UnsafeInput

AUDIO = ["mp3", "wav", "flac", "aac", "ogg", "m4a", "opus", "wma", "aiff"]
VIDEO = ["mp4", "avi", "mov", "wmv", "flv", "mkv", "webm", "3gp", "mpeg", "m4v"]
ISO_BMFF = ("aac", "mp4", "mov", "m4a", "m4v", "3gp")
EXACT_DURATION = ("mkv", "webm", "mp4", "mov", "m4a", "m4v", "3gp")

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
    "m4a": "mov",
    "opus": "ogg",
    "wma": "asf",
    "aiff": "aiff",
    "mkv": "matroska",
    "webm": "matroska",  # the matroska demuxer reads WebM (a Matroska subset)
    "3gp": "mov",
    "mpeg": "mpeg",  # program stream; a bare MPEG-1/2 video stream switches to "mpegvideo"
    "m4v": "mov",
}
# Encoders each target needs (a target is offered only when the ffmpeg build has them all).
ENCODERS = {
    "mp3": ("libmp3lame",), "wav": ("pcm_s16le",), "flac": ("flac",), "aac": ("aac",), "ogg": ("libvorbis",),
    "m4a": ("aac",), "opus": ("libopus",), "wma": ("wmav2",), "aiff": ("pcm_s16be",),
    "mp4": ("libx264", "aac"), "mov": ("libx264", "aac"), "avi": ("mpeg4", "libmp3lame"),
    "wmv": ("wmv2", "wmav2"), "flv": ("flv", "libmp3lame"), "mkv": ("libx264", "aac"),
    "webm": ("libvpx-vp9", "libopus"), "3gp": ("libx264", "aac"), "mpeg": ("mpeg2video", "mp2"),
    "m4v": ("libx264", "aac"), "gif": ("gif",),
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
_SIZE_RE = re.compile(r"\b(\d{1,5})x(\d{1,5})\b")
_FPS_RE = re.compile(r"(\d+(?:\.\d+)?) (?:fps|tbr)\b")
# Duration x frame rate x frame size of the output the options ask for: as much as the media cap's
# length (4 h) of 1080p at 30 fps. Without options the output is the source's (sides under MAX_VIDEO_SIDE).
MAX_VIDEO_OUTPUT_PIXELS = 4 * 3600 * 30 * 1920 * 1080
VIDEO_SIZE_OPTIONS = ("width", "height", "fps")
VIDEO_TOO_LARGE = "Las opciones piden un vídeo demasiado grande (duración × fotogramas × tamaño)"


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


@lru_cache(maxsize=1)
def available_encoders() -> frozenset[str] | None:
    """Encoder names of the ffmpeg binary in use (None when it cannot be asked)."""
    binary = ffmpeg_binary()
    if not binary:
        return None
    try:
        result = subprocess.run([binary, "-hide_banner", "-nostdin", "-encoders"], capture_output=True,
                                timeout=20, check=True, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    names = set()
    for line in result.stdout.decode("utf-8", "replace").splitlines():
        parts = line.split()
        if len(parts) >= 2 and len(parts[0]) == 6 and parts[0][0] in "VAS":
            names.add(parts[1])
    return frozenset(names) or None


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


def probe(src: Path, src_fmt: str) -> dict | None:
    """Duration, frame size and frame rate of the first video stream, from ``ffmpeg -i`` without an
    output (the header only; nothing is decoded). None when there is no video stream or ffmpeg fails."""
    binary = ffmpeg_binary()
    if not binary:
        return None
    demuxer = input_demuxer(src, src_fmt)
    args = [binary, "-hide_banner", "-nostdin", "-protocol_whitelist", "file", "-format_whitelist", demuxer,
            "-f", demuxer, "-i", f"file:{src}"]
    try:
        proc = subprocess.run(args, capture_output=True, timeout=10, stdin=subprocess.DEVNULL, cwd=src.parent,
                              env=process.safe_env(home=src.parent))
    except (OSError, subprocess.SubprocessError):
        return None
    text = proc.stderr.decode("utf-8", "replace")
    video = next((line for line in text.splitlines() if "Stream #" in line and ": Video:" in line), None)
    size = _SIZE_RE.search(video.split(": Video:", 1)[1]) if video else None
    if size is None or not int(size[1]) or not int(size[2]):
        return None
    duration = _DURATION_RE.search(text)
    fps = _FPS_RE.search(video)
    return {"width": int(size[1]), "height": int(size[2]), "fps": float(fps[1]) if fps else None,
            "duration": (int(duration[1]) * 3600 + int(duration[2]) * 60 + float(duration[3])) if duration else None}


def check_video_output(info: dict, params: dict | None, max_seconds: float) -> None:
    """Duration × frame rate × target frame size of what the options ask for, under MAX_VIDEO_OUTPUT_PIXELS."""
    params = params or {}
    width, height = media_options.output_size((info["width"], info["height"]), params, MAX_VIDEO_SIDE)
    fps = float(params.get("fps") or info.get("fps") or 30)
    seconds = media_options.output_seconds(info.get("duration"), params, max_seconds)
    frames = max(1, int(seconds * fps))
    total = frames * width * height
    if total > MAX_VIDEO_OUTPUT_PIXELS:
        raise OutputCapExceeded(VIDEO_TOO_LARGE, total=total, cap=MAX_VIDEO_OUTPUT_PIXELS, count=frames,
                                detail=f"{frames} frames of {width}x{height} ({seconds:.0f} s at {fps:g} fps)")


def input_demuxer(path: Path, src_fmt: str) -> str:
    from ..detection import detect_format, is_isobmff

    if src_fmt not in DEMUXERS:
        raise EngineError("Formato no soportado", code="unsupported_format")
    if src_fmt in ISO_BMFF and is_isobmff(path):
        return "mov"
    if src_fmt == "mpeg":
        with open(path, "rb") as fh:
            return "mpegvideo" if fh.read(4) == b"\x00\x00\x01\xb3" else "mpeg"
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
    if dst_fmt == "m4a":  # AAC in MP4 with the iTunes audio brand (M4A), what phones record
        return ["-c:a", "aac", "-b:a", str(q["abitrate"]), "-movflags", "+faststart", "-f", "ipod"]
    if dst_fmt == "opus":
        return ["-c:a", "libopus", "-b:a", str(q["abitrate"]), "-f", "opus"]
    if dst_fmt == "wma":
        return ["-c:a", "wmav2", "-b:a", str(q["abitrate"]), "-f", "asf"]
    if dst_fmt == "aiff":
        return ["-c:a", "pcm_s16be", "-f", "aiff"]
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
    h264 = ["-c:v", "libx264", "-preset", str(q["preset"]), "-crf", str(q["crf"]), "-pix_fmt", "yuv420p"]
    if dst_fmt == "mkv":
        return [*h264, "-c:a", "aac", "-b:a", str(q["abitrate"]), "-f", "matroska"]
    if dst_fmt == "m4v":  # the iTunes video brand (M4V)
        return [*h264, "-c:a", "aac", "-b:a", str(q["abitrate"]), "-movflags", "+faststart", "-f", "ipod"]
    if dst_fmt == "3gp":  # H.264 baseline + AAC, what the 3GPP profile allows
        return [*h264, "-profile:v", "baseline", "-c:a", "aac", "-b:a", "96k", "-ac", "2", "-ar", "44100",
                "-movflags", "+faststart", "-f", "3gp"]
    if dst_fmt == "webm":  # VP9 in its fastest mode (libvpx is slow otherwise) + Opus
        return ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-row-mt", "1",
                "-b:v", "0", "-crf", str(int(q["crf"]) + 10), "-pix_fmt", "yuv420p",
                "-c:a", "libopus", "-b:a", str(q["abitrate"]), "-f", "webm"]
    if dst_fmt == "mpeg":  # MPEG-2 video + MP2 in a program stream (a frame rate MPEG-2 allows)
        return ["-c:v", "mpeg2video", "-q:v", str(q["qscale"]), "-r", "25", "-pix_fmt", "yuv420p",
                "-c:a", "mp2", "-b:a", "192k", "-ar", "48000", "-f", "mpeg"]
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
        encoders = available_encoders()
        if encoders is None:  # could not ask the binary: trust the usual builds
            return result
        return {(a, b) for a, b in result if all(name in encoders for name in ENCODERS.get(b, ()))}

    def _probe(self) -> bool:
        binary = ffmpeg_binary()
        return bool(binary) and Path(binary).exists()

    def option_choices(self, option: str, dst_fmt: str) -> tuple[str, ...] | None:
        if option == "codec":
            return media_options.codecs_available(available_encoders())
        return None

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
            *media_options.trim_args(options.params, options.max_media_seconds),
            "-fs", str(options.max_output_bytes),
            "-map_metadata", "-1", "-map_chapters", "-1", "-sn", "-dn",
        ]
        if dst_fmt in AUDIO and src_fmt in AUDIO + VIDEO:
            args += ["-map", "0:a:0", "-vn"]
            args += audio_args(dst_fmt, q) + media_options.audio_args(options.params)
        elif dst_fmt == "gif":
            fps, width = q["gif_fps"], q["gif_width"]
            args += [
                "-filter_complex",
                f"[0:v:0]fps={fps}:eof_action=pass,scale='min(iw,{width})':-2:flags=lanczos,split[a][b];"
                "[a]palettegen[p];[b][p]paletteuse[v]",
                "-map", "[v]", "-an", "-loop", "0", "-f", "gif",
            ]
        elif dst_fmt in VIDEO and (src_fmt in AUDIO or audio_only):
            args += [
                "-filter_complex",
                "[0:a:0]showwaves=s=640x360:mode=cline:rate=25,format=yuv420p[v]",
                "-map", "[v]", "-map", "0:a:0",
            ]
            args += video_args(dst_fmt, q) + media_options.video_args(options.params, dst_fmt, q,
                                                                       available_encoders())
            args += ["-shortest"]
        elif dst_fmt in VIDEO:
            scale = media_options.scale_filter(options.params, EVEN_SCALE, MAX_VIDEO_SIDE)
            args += ["-map", "0:v:0", "-map", "0:a:0?", "-vf", scale]
            args += video_args(dst_fmt, q) + media_options.video_args(options.params, dst_fmt, q,
                                                                       available_encoders())
        else:
            raise EngineError("Conversión no soportada", code="unsupported_pair")
        args.append(f"file:{out}")
        return args

    def _convert(self, src: Path, out: Path, src_fmt: str, dst_fmt: str,
                 options: ConvertOptions) -> None:
        scan_for_playlists(src)
        params = getattr(options, "params", None) or {}
        if dst_fmt in VIDEO and src_fmt not in AUDIO and any(params.get(n) for n in VIDEO_SIZE_OPTIONS):
            info = probe(src, src_fmt)  # what the options ask for, before anything is encoded
            if info is not None:
                check_video_output(info, params, options.max_media_seconds)
        state = {"duration": None, "last": 0, "done": 0.0}

        def on_line(stream: str, line: str) -> None:
            if stream == "stderr":
                if state["duration"] is None and (m := _DURATION_RE.search(line)):
                    h, mnt, s = m.groups()
                    state["duration"] = int(h) * 3600 + int(mnt) * 60 + float(s)
                return
            key, _, value = line.partition("=")
            if key == "out_time_us":
                try:
                    done = int(value) / 1_000_000
                except ValueError:
                    return
                state["done"] = max(state["done"], done)
                if not state["duration"]:
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
        self._check_complete(state, src_fmt, options)

    @staticmethod
    def _check_complete(state: dict, src_fmt: str, options: ConvertOptions) -> None:
        """A file whose header promises far more than its data holds (a cut download, say) is refused,
        not turned into a stub of its first seconds. Only containers whose header states the real
        duration (Matroska/WebM, ISO-BMFF): MP3/ASF/AVI durations are estimates or include padding."""
        params = getattr(options, "params", None) or {}
        expected = state["duration"]
        trimmed = any(str(key).startswith("trim") for key in params)
        if src_fmt not in EXACT_DURATION or not expected or expected < 2 or trimmed:
            return
        expected = min(expected, options.max_media_seconds)
        if state["done"] < 0.5 * expected:
            raise EngineError("El archivo multimedia está incompleto o cortado", code="truncated_input",
                              detail=f"decoded {state['done']:.1f} s of {expected:.1f} s")

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
