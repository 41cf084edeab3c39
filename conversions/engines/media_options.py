"""Per-pair audio/video options mapped to ffmpeg arguments (used by the FFmpeg engine).

``params`` are already validated against the catalogue's "audio"/"video" schemas
(conversions/catalog/options.py): bounded numbers, known codecs, trim_end > trim_start.
"""

from __future__ import annotations

# Codec name (the catalogue's) -> encoders that can produce it, best first.
CODEC_ENCODERS: dict[str, tuple[str, ...]] = {
    "h264": ("libx264",),
    "h265": ("libx265",),
    "vp9": ("libvpx-vp9",),
    "av1": ("libsvtav1", "libaom-av1"),
}
ISO_CONTAINERS = ("mp4", "mov", "m4v")


def codecs_available(encoders: frozenset[str] | None) -> tuple[str, ...]:
    """Codecs this ffmpeg build can encode (h264 only when the build cannot be asked)."""
    if encoders is None:
        return ("h264",)
    return tuple(codec for codec, names in CODEC_ENCODERS.items() if any(n in encoders for n in names))


def _seconds(value: float) -> str:
    return f"{float(value):.3f}"


def trim_args(params: dict, max_seconds: float) -> list[str]:
    """Output-side seek and length (accurate), never beyond the media cap."""
    start = float(params.get("trim_start") or 0)
    end = params.get("trim_end")
    length = max_seconds if end is None else min(max_seconds, float(end) - start)
    args = ["-ss", _seconds(start)] if start else []
    return [*args, "-t", _seconds(length) if end is not None else f"{max_seconds:.0f}"]


def audio_args(params: dict) -> list[str]:
    args = []
    if params.get("bitrate"):
        args += ["-b:a", f"{int(params['bitrate'])}k"]
    if params.get("sample_rate"):
        args += ["-ar", str(int(params["sample_rate"]))]
    if params.get("channels"):
        args += ["-ac", str(int(params["channels"]))]
    return args


def scale_filter(params: dict, default: str, max_side: int) -> str:
    """The -vf scale: asked width/height (the other side in proportion, even), else ``default``.

    One side alone is a box whose other side is ``max_side``: the proportional side never goes past
    it (width 3840 of a 16x1024 video would otherwise ask for a 245,760-pixel-high frame)."""
    width, height = params.get("width"), params.get("height")
    if not width and not height:
        return default
    w = min(int(width), max_side) if width else max_side
    h = min(int(height), max_side) if height else max_side
    return f"scale=w={w}:h={h}:force_original_aspect_ratio=decrease:force_divisible_by=2"


def output_size(source: tuple[int, int], params: dict, max_side: int) -> tuple[int, int]:
    """The frame size ``scale_filter`` makes of a ``source``-sized picture (an upper bound: before rounding
    to even numbers)."""
    sw, sh = source
    width, height = params.get("width"), params.get("height")
    box_w = min(int(width), max_side) if width else (max_side if height else min(sw, max_side))
    box_h = min(int(height), max_side) if height else (max_side if width else min(sh, max_side))
    ratio = min(box_w / sw, box_h / sh)
    if not width and not height:
        ratio = min(ratio, 1.0)  # the default only shrinks
    return max(1, round(sw * ratio)), max(1, round(sh * ratio))


def output_seconds(duration: float | None, params: dict, max_seconds: float) -> float:
    """How long the output is: the source (or the media cap when unknown), trimmed, never past the cap."""
    start = float(params.get("trim_start") or 0)
    end = params.get("trim_end")
    length = (duration if duration else max_seconds) - start
    if end is not None:
        length = min(length, float(end) - start)
    return max(0.0, min(length, max_seconds))


def codec_args(codec: str, dst_fmt: str, q: dict, encoders: frozenset[str] | None) -> list[str]:
    crf = int(q["crf"])
    if codec == "h264":
        return ["-c:v", "libx264", "-preset", str(q["preset"]), "-crf", str(crf), "-pix_fmt", "yuv420p"]
    if codec == "h265":
        args = ["-c:v", "libx265", "-preset", str(q["preset"]), "-crf", str(crf + 2), "-pix_fmt", "yuv420p",
                "-x265-params", "log-level=error"]
        return [*args, "-tag:v", "hvc1"] if dst_fmt in ISO_CONTAINERS else args
    if codec == "vp9":
        return ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-row-mt", "1",
                "-b:v", "0", "-crf", str(crf + 10), "-pix_fmt", "yuv420p"]
    if codec == "av1":
        if encoders is None or "libsvtav1" in encoders:
            return ["-c:v", "libsvtav1", "-preset", "10", "-crf", str(crf + 10), "-pix_fmt", "yuv420p"]
        return ["-c:v", "libaom-av1", "-cpu-used", "8", "-row-mt", "1", "-b:v", "0", "-crf", str(crf + 10),
                "-pix_fmt", "yuv420p"]
    return []


def video_args(params: dict, dst_fmt: str, q: dict, encoders: frozenset[str] | None) -> list[str]:
    """fps, codec and mute (appended after the container's defaults: the later value wins)."""
    args = []
    if params.get("fps"):
        args += ["-r", f"{float(params['fps']):g}"]
    if params.get("codec"):
        args += codec_args(params["codec"], dst_fmt, q, encoders)
    if params.get("mute"):
        args += ["-an"]
    return args
