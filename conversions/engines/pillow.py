"""Image conversions with Pillow (in-process, with decompression-bomb guards)."""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

from . import image_options, jxl_header, process
from .base import ConvertOptions, Engine, EngineError, OutputCapExceeded

# Raster formats Pillow reads and writes (PDF pages render to these too).
IMAGE_FORMATS = ["jpg", "png", "gif", "bmp", "tiff", "webp", "heic", "avif", "ico", "jxl"]
# Formats whose codec comes from an optional package or build feature (offered only when present),
# and what provides it (the formats endpoint's ``missing`` names it when absent).
OPTIONAL_CODECS = {"heic": "pillow-heif", "avif": "Pillow with AVIF", "jxl": "pillow-jxl-plugin"}
# SVG is read only: CairoSVG draws it (in a subprocess) and Pillow takes the bitmap from there.
VECTOR_INPUTS = ["svg"]
SVG_SCRIPT = Path(__file__).with_name("_svg_render.py")
ICO_MAX_SIDE = 256

MAX_IMAGE_PIXELS = 64_000_000  # per frame
MAX_FRAMES = 500
MAX_TOTAL_PIXELS = 256_000_000  # summed over all frames processed, and over all frames produced
OUTPUT_TOO_LARGE = "Las opciones piden un resultado demasiado grande (demasiados píxeles)"

PIL_FORMATS: dict[str, list[str]] = {
    "jpg": ["JPEG"],
    "png": ["PNG"],
    "gif": ["GIF"],
    "bmp": ["BMP", "DIB"],
    "tiff": ["TIFF"],
    "webp": ["WEBP"],
    "heic": ["HEIF"],  # pillow-heif's opener
    "avif": ["AVIF"],  # Pillow's own AVIF plugin
    "ico": ["ICO"],
    "jxl": ["JXL"],  # pillow-jxl-plugin's opener (registered when imported)
}
SAVE_FORMATS = {"jpg": "JPEG", "png": "PNG", "gif": "GIF", "bmp": "BMP", "tiff": "TIFF",
                "webp": "WEBP", "pdf": "PDF", "heic": "HEIF", "avif": "AVIF", "ico": "ICO",
                "jxl": "JXL"}
ANIMATED = {"gif", "webp"}

QUALITY: dict[str, dict[str, int]] = {
    "basic": {"jpeg": 60, "webp": 60, "png_level": 9, "pdf_dpi": 72},
    "standard": {"jpeg": 80, "webp": 80, "png_level": 6, "pdf_dpi": 110},
    "high": {"jpeg": 90, "webp": 90, "png_level": 6, "pdf_dpi": 150},
    "premium": {"jpeg": 95, "webp": 95, "png_level": 9, "pdf_dpi": 220},
}

_ERRORS = (OSError, SyntaxError, ValueError, TypeError, EOFError, IndexError, KeyError,
           ZeroDivisionError, OverflowError, MemoryError, AttributeError, RuntimeError)


def _image_module():
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    _register_heif()
    _register_jxl()
    return Image


_heif = {"registered": False}


def _register_heif() -> bool:
    """pillow-heif's HEIF opener/saver (once); False when the package is missing."""
    if not _heif["registered"]:
        try:
            import pillow_heif
        except ImportError:
            return False
        pillow_heif.register_heif_opener(thumbnails=False)
        _heif["registered"] = True
    return True


_jxl = {"registered": False}


def _register_jxl() -> bool:
    """pillow-jxl-plugin's JXL opener/saver (registered by importing it, once); False when missing."""
    if not _jxl["registered"]:
        try:
            from pillow_jxl import JpegXLImagePlugin
        except ImportError:
            return False
        JpegXLImagePlugin.DECODE_THREADS = 1  # the worker's concurrency is the parallelism
        _jxl["registered"] = True
    return True


def _codec_available(fmt: str) -> bool:
    from PIL import features

    if fmt == "heic":
        return _register_heif()
    if fmt == "jxl":
        return _register_jxl()
    if fmt == "avif":
        return bool(features.check("avif"))
    return True


def _too_large() -> EngineError:
    return EngineError("La imagen es demasiado grande", code="image_too_large")


def _corrupt(exc: BaseException | None = None) -> EngineError:
    return EngineError("La imagen está dañada o no es válida", code="corrupt_input",
                       detail=repr(exc) if exc else "")


@contextlib.contextmanager
def guarded() -> Iterator[None]:
    """Turn Pillow failures (bombs, truncation, memory) into EngineError."""
    Image = _image_module()
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            yield
        except EngineError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_large() from None
        except MemoryError:
            raise _too_large() from None
        except _ERRORS as exc:
            raise _corrupt(exc) from exc


def frame_count(im) -> int:
    return int(getattr(im, "n_frames", 1) or 1)


def check_limits(im) -> int:
    """Validate dimensions and frame counts of an opened image; returns the frame count."""
    w, h = im.size
    if w <= 0 or h <= 0:
        raise _corrupt()
    if w * h > MAX_IMAGE_PIXELS:
        raise _too_large()
    frames = frame_count(im)
    if frames > MAX_FRAMES:
        raise EngineError("La imagen tiene demasiados fotogramas", code="too_many_frames",
                          detail=f"{frames} frames")
    if frames * w * h > MAX_TOTAL_PIXELS:
        raise _too_large()
    return frames


def keeps_all_frames(src_fmt: str, dst_fmt: str, frames: int) -> bool:
    """Whether the conversion keeps every frame (animation to animation, multi-page TIFF to TIFF/PDF)."""
    return frames > 1 and ((src_fmt in ANIMATED and dst_fmt in ANIMATED)
                           or (src_fmt == "tiff" and dst_fmt in ("tiff", "pdf")))


def output_pixels(sizes, params: dict | None) -> int:
    """Pixels the conversion produces from frames of these ``sizes`` with the resize ``params``
    (the asked box; "contain" may come out smaller, never larger)."""
    params = params or {}
    total = 0
    for size in sizes:
        box = image_options.target_size(size, params.get("width"), params.get("height")) or size
        if box[0] * box[1] > MAX_IMAGE_PIXELS:  # one frame over the per-frame cap
            raise OutputCapExceeded("La imagen es demasiado grande", code="image_too_large",
                                    total=box[0] * box[1], cap=MAX_IMAGE_PIXELS, count=1)
        total += box[0] * box[1]
    return total


def check_output(sizes, params: dict | None) -> None:
    """The pixel caps applied to what the options ask for: each frame's target width × height under
    MAX_IMAGE_PIXELS, frames × target width × height under MAX_TOTAL_PIXELS."""
    sizes = list(sizes)
    total = output_pixels(sizes, params)
    if total > MAX_TOTAL_PIXELS:
        raise OutputCapExceeded(OUTPUT_TOO_LARGE, total=total, cap=MAX_TOTAL_PIXELS, count=len(sizes))


def flatten(im, background=(255, 255, 255)):
    """RGB copy, compositing any transparency over ``background``."""
    Image = _image_module()
    if im.mode == "P":
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        base = Image.new("RGB", rgba.size, background)
        base.paste(rgba, mask=rgba.getchannel("A"))
        return base
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        im = im.convert("I").point(lambda v: v / 256 if v > 255 else v).convert("L")
    if im.mode not in ("RGB", "L"):
        im = im.convert("RGB")
    return im


def normalise(im, dst_fmt: str):
    """Convert the mode of a frame to something ``dst_fmt`` can store."""
    if dst_fmt in ("jpg", "bmp", "pdf"):
        return flatten(im)
    if dst_fmt in ("heic", "avif", "ico", "jxl"):
        has_alpha = im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info
        im = im if im.mode in ("RGB", "RGBA") else im.convert("RGBA" if has_alpha else "RGB")
        if dst_fmt == "ico" and max(im.size) > ICO_MAX_SIDE:
            im = im.copy()
            im.thumbnail((ICO_MAX_SIDE, ICO_MAX_SIDE))
        return im
    if dst_fmt == "webp":
        if im.mode in ("RGB", "RGBA"):
            return im
        has_alpha = im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info
        return im.convert("RGBA" if has_alpha else "RGB")
    if dst_fmt == "gif":
        if im.mode in ("P", "L", "RGB", "RGBA"):
            return im
        return im.convert("RGBA" if "A" in im.mode else "RGB")
    if dst_fmt == "png":
        if im.mode in ("CMYK", "YCbCr", "LAB", "HSV"):
            return im.convert("RGB")
        if im.mode in ("F", "I;16B"):
            return im.convert("I")
        return im
    if dst_fmt == "tiff":
        if im.mode in ("PA", "RGBa", "La"):
            return im.convert("RGBA")
        return im
    return im


def save_kwargs(dst_fmt: str, quality: str) -> dict:
    q = QUALITY.get(quality, QUALITY["standard"])
    if dst_fmt == "jpg":
        return {"quality": q["jpeg"], "optimize": True}
    if dst_fmt == "webp":
        return {"quality": q["webp"], "method": 4}
    if dst_fmt in ("heic", "avif"):
        return {"quality": q["webp"]}
    if dst_fmt == "jxl":
        # never the plugin's lossless JPEG repacking (it would copy the source file, options ignored)
        return {"quality": q["webp"], "effort": 5, "lossless_jpeg": False, "num_threads": 1}
    if dst_fmt == "png":
        return {"compress_level": q["png_level"]}
    if dst_fmt == "tiff":
        return {"compression": "tiff_deflate"}
    if dst_fmt == "pdf":
        return {"resolution": float(q["pdf_dpi"])}
    return {}


def save_frames(frames: list, path: Path, dst_fmt: str, quality: str,
                durations: list[int] | None = None, loop: int = 0, extra: dict | None = None) -> None:
    """Save one or more (already loaded) frames to ``path`` in ``dst_fmt`` (``extra``: more save kwargs)."""
    kwargs = {**save_kwargs(dst_fmt, quality), **(extra or {})}
    frames = [normalise(f, dst_fmt) for f in frames]
    first, rest = frames[0], frames[1:]
    if dst_fmt == "ico":
        kwargs.setdefault("sizes", [first.size])  # the picture's own size (normalise keeps it <= 256)
    if rest:
        kwargs["save_all"] = True
        kwargs["append_images"] = rest
        if dst_fmt not in ANIMATED and dst_fmt not in ("tiff", "pdf"):
            kwargs.pop("save_all")
            kwargs.pop("append_images")
        elif dst_fmt in ANIMATED:
            kwargs["loop"] = loop
            if durations:
                kwargs["duration"] = durations
    with guarded():
        first.save(path, format=SAVE_FORMATS[dst_fmt], **kwargs)


def open_image(src: Path, src_fmt: str):
    """Open ``src`` restricted to the Pillow plugin(s) of ``src_fmt``; caller closes it."""
    Image = _image_module()
    allowed = PIL_FORMATS.get(src_fmt)
    if not allowed:
        raise EngineError("Formato de imagen no soportado", code="unsupported_format")
    with guarded():
        im = Image.open(src, formats=allowed)
    return im


def check_heif_complete(src: Path, options: ConvertOptions) -> None:
    """Every image of a HEIF container decodes (a cut file still shows its first, small image)."""
    import pillow_heif

    try:
        container = pillow_heif.open_heif(src, convert_hdr_to_8bit=True)
        if len(container) > MAX_FRAMES:
            raise EngineError("La imagen tiene demasiados fotogramas", code="too_many_frames")
        for image in container:
            options.check_deadline()
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise _too_large()
            _ = image.data  # decodes; raises on data beyond the end of the file
    except EngineError:
        raise
    except (ValueError, RuntimeError, OSError, EOFError, MemoryError) as exc:
        raise _corrupt(exc) from exc


JXL_HEADER_WINDOW = 1024 * 1024  # container boxes (Exif, XMP) may come before the codestream


def check_jxl_size(src: Path) -> None:
    """The pixel cap before decoding (the JXL opener decodes the whole image as it opens the file)."""
    with open(src, "rb") as fh:
        size = jxl_header.dimensions(fh.read(JXL_HEADER_WINDOW))
    if size is None:
        raise _corrupt()
    if size[0] * size[1] > MAX_IMAGE_PIXELS:
        raise _too_large()


def read_frames(src: Path, src_fmt: str, dst_fmt: str, options: ConvertOptions):
    """Load the frames needed for a conversion. Returns (frames, durations, loop)."""
    from PIL import ImageOps

    if src_fmt == "heic":
        check_heif_complete(src, options)
    if src_fmt == "jxl":
        check_jxl_size(src)
    im = open_image(src, src_fmt)
    try:
        with guarded():
            n = check_limits(im)
            keep_all = keeps_all_frames(src_fmt, dst_fmt, n)
            # Before any frame is decoded: what the options ask for, from the first frame's size
            # (the sizes of the frames themselves are checked again before resizing).
            check_output([im.size] * (n if keep_all else 1), options.params)
            frames, durations = [], []
            loop = int(im.info.get("loop", 0) or 0)
            for index in range(n if keep_all else 1):
                options.check_deadline()
                im.seek(index)
                frame = im.copy() if keep_all and src_fmt == "tiff" else im.convert(
                    "RGBA" if keep_all else im.mode)
                frame.load()
                if not keep_all and src_fmt in ("jpg", "heic", "avif"):
                    frame = ImageOps.exif_transpose(frame)
                if src_fmt == "gif" and not keep_all and frame.mode == "P":
                    frame = frame.convert("RGBA")
                frames.append(frame)
                durations.append(int(im.info.get("duration", 100) or 100))
                if keep_all:
                    options.report(int(50 * (index + 1) / n))
            return frames, durations, loop
    finally:
        im.close()


class PillowEngine(Engine):
    name = "pillow"
    priority = 50
    QUALITY = QUALITY

    def pairs(self) -> set[tuple[str, str]]:
        return self._pairs_among([f for f in IMAGE_FORMATS if _codec_available(f)])

    @staticmethod
    def _pairs_among(formats: list[str]) -> set[tuple[str, str]]:
        result = {(a, b) for a in formats for b in formats if a != b}
        result |= {(a, "pdf") for a in formats}
        if svg_available():
            result |= {(a, b) for a in VECTOR_INPUTS for b in [*formats, "pdf"]}
        return result

    def missing_codecs(self) -> dict[str, set[tuple[str, str]]]:
        present = [f for f in IMAGE_FORMATS if _codec_available(f)]
        have = self._pairs_among(present)
        return {package: self._pairs_among([*present, fmt]) - have
                for fmt, package in OPTIONAL_CODECS.items() if fmt not in present}

    def _probe(self) -> bool:
        Image = _image_module()
        Image.init()
        return all(name in Image.OPEN for fmt, names in PIL_FORMATS.items() for name in names[:1]
                   if fmt not in OPTIONAL_CODECS)  # those: per format, in pairs()

    def _convert(self, src: Path, out: Path, src_fmt: str, dst_fmt: str,
                 options: ConvertOptions) -> None:
        if src_fmt == "svg":
            rendered = out.parent / ("vector.pdf" if dst_fmt == "pdf" else "vector.png")
            render_svg(src, rendered, options)
            if dst_fmt == "pdf":
                return rendered
            src, src_fmt = rendered, "png"
        frames, durations, loop = read_frames(src, src_fmt, dst_fmt, options)
        options.check_deadline()
        check_output([frame.size for frame in frames], options.params)
        with guarded():
            frames, extra = image_options.apply(frames, options.params, dst_fmt, max_pixels=MAX_IMAGE_PIXELS,
                                                flatten=flatten)
        save_frames(frames, out, dst_fmt, options.quality, durations, loop, extra)


def svg_available() -> bool:
    try:
        import cairosvg  # noqa: F401  (needs the system's libcairo2)
    except (ImportError, OSError):
        return False
    return True


def render_svg(src: Path, out: Path, options: ConvertOptions) -> None:
    """SVG -> PNG (pixel-capped) or PDF (vector) with CairoSVG in a time-limited subprocess."""
    from ..detection import check_svg

    check_svg(src)  # no entities / internal DTD, whatever the caller checked before
    args = [sys.executable, "-I", str(SVG_SCRIPT), str(src), str(out), str(MAX_IMAGE_PIXELS)]
    try:
        process.run(args, timeout=options.remaining(), cwd=out.parent,
                    env=process.safe_env(home=out.parent))
    except EngineError as exc:
        if exc.code != "engine_failed":
            raise
        if "too large" in exc.detail:
            raise _too_large() from exc
        raise EngineError("El SVG está dañado o no es válido", code="corrupt_input", detail=exc.detail) from exc
