"""The output caps checked when a file is received (before any charge), from the file's header:
what the options ask for (frames × target width × height, pages × DPI-derived pixels, duration × frame
rate × frame size) against the same caps the engines apply again while converting (pillow.check_output,
pymupdf.check_render_output, ffmpeg.check_video_output).

Only options that make the output larger than the input are measured here (a resize, a DPI, a frame
rate); without them the input caps hold, and the engines check everything again in any case.
"""

from __future__ import annotations

from pathlib import Path

from . import ffmpeg as ffmpeg_engine
from . import jxl_header
from . import pillow as pillow_engine
from . import pymupdf as pymupdf_engine
from .base import ConvertOptions, EngineError, OutputCapExceeded

IMAGE_SIZE_OPTIONS = ("width", "height")


def asked(params: dict | None, names: tuple[str, ...]) -> list[str]:
    return [name for name in names if (params or {}).get(name)]


def _image_frames(path: Path, src_fmt: str, dst_fmt: str) -> list[tuple[int, int]]:
    """The sizes of the frames the conversion keeps (from the header: nothing is decoded)."""
    if src_fmt == "jxl":  # its opener decodes the whole picture: read the size from the codestream header
        with open(path, "rb") as fh:
            size = jxl_header.dimensions(fh.read(pillow_engine.JXL_HEADER_WINDOW))
        return [size] if size else []
    im = pillow_engine.open_image(path, src_fmt)
    try:
        with pillow_engine.guarded():
            frames = pillow_engine.frame_count(im)
            kept = frames if pillow_engine.keeps_all_frames(src_fmt, dst_fmt, frames) else 1
            return [im.size] * min(kept, pillow_engine.MAX_FRAMES + 1)
    finally:
        im.close()


def check_requested_output(path: Path, src_fmt: str, dst_fmt: str, params: dict | None, quality: str) -> None:
    """Raise OutputCapExceeded (its ``options``: the options that asked for it) when what ``params`` ask
    for is over a cap. Other EngineErrors (a damaged header) are left to the engine's turn."""
    params = params or {}
    names: list[str] = []
    try:
        if (names := asked(params, IMAGE_SIZE_OPTIONS)) and src_fmt in pillow_engine.PIL_FORMATS:
            pillow_engine.check_output(_image_frames(path, src_fmt, dst_fmt), params)
        elif (names := asked(params, ("dpi",))) and src_fmt == "pdf" and dst_fmt in pillow_engine.IMAGE_FORMATS:
            doc = pymupdf_engine.open_pdf(path)
            try:
                wanted = pymupdf_engine.wanted_pages(params, doc.page_count)
                pymupdf_engine.check_render_output(doc, wanted, pymupdf_engine.base_dpi(params, quality))
            finally:
                doc.close()
        elif ((names := asked(params, ffmpeg_engine.VIDEO_SIZE_OPTIONS)) and dst_fmt in ffmpeg_engine.VIDEO
              and src_fmt in ffmpeg_engine.DEMUXERS and src_fmt not in ffmpeg_engine.AUDIO):
            info = ffmpeg_engine.probe(path, src_fmt)
            if info is not None:
                ffmpeg_engine.check_video_output(info, params, ConvertOptions().max_media_seconds)
    except OutputCapExceeded as exc:
        exc.options = names
        raise
    except EngineError:
        pass
