"""Per-pair image options applied by the Pillow engine: resize/fit, metadata, background colour.

``params`` are already validated against the catalogue's "image" schema (conversions/catalog/options.py);
a missing option means its default (metadata stripped, contain, white background).
"""

from __future__ import annotations

from .base import EngineError

# Metadata Pillow (or a plugin such as pillow-heif) could copy from ``info`` into the output.
METADATA_KEYS = ("exif", "xmp", "XML:com.adobe.xmp", "comment", "photoshop", "iptc", "adobe", "Comment",
                 "Description", "Author", "Copyright", "Software")
OPAQUE_TARGETS = ("jpg", "bmp", "pdf")


def _rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)


def target_size(size: tuple[int, int], width: int | None, height: int | None) -> tuple[int, int] | None:
    """(w, h) asked for, the missing side keeping the proportion; None when nothing is asked."""
    if not width and not height:
        return None
    w, h = size
    if width and not height:
        height = max(1, round(h * width / w))
    elif height and not width:
        width = max(1, round(w * height / h))
    return int(width), int(height)


def resize(frame, params: dict, max_pixels: int):
    from PIL import Image, ImageOps

    box = target_size(frame.size, params.get("width"), params.get("height"))
    if box is None:
        return frame
    if box[0] * box[1] > max_pixels:
        raise EngineError("La imagen es demasiado grande", code="image_too_large",
                          detail=f"resize to {box[0]}x{box[1]}")
    fit = params.get("fit", "contain")
    both = params.get("width") and params.get("height")
    if not both or fit == "fill":
        return frame.resize(box, Image.Resampling.LANCZOS)
    if fit == "cover":
        return ImageOps.fit(frame, box, Image.Resampling.LANCZOS)
    return ImageOps.contain(frame, box, Image.Resampling.LANCZOS)


def apply(frames: list, params: dict | None, dst_fmt: str, *, max_pixels: int, flatten) -> tuple[list, dict]:
    """Frames after the options, and extra keyword arguments for ``Image.save``."""
    params = params or {}
    extra: dict = {}
    strip = params.get("strip_metadata", True)
    if not strip and frames:
        info = frames[0].info
        extra = {key: info[key] for key in ("exif", "xmp") if info.get(key)}
    result = []
    for frame in frames:
        frame = resize(frame, params, max_pixels)
        if strip:
            for key in METADATA_KEYS:
                frame.info.pop(key, None)
        if dst_fmt in OPAQUE_TARGETS and params.get("background"):
            frame = flatten(frame, _rgb(params["background"]))
        result.append(frame)
    return result, extra
