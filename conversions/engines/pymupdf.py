"""PDF conversions with PyMuPDF: PDF -> text / images / office (via pandoc), images -> PDF."""

from __future__ import annotations

import contextlib
import html
import math
import zipfile
from pathlib import Path

from . import pandoc as pandoc_engine
from . import pillow as pillow_engine
from .base import ConvertOptions, Engine, EngineError, OutputCapExceeded

MAX_PAGES = 500
MAX_TEXT_CHARS = 50_000_000
MAX_RENDER_PIXELS = pillow_engine.MAX_IMAGE_PIXELS
IMAGE_FORMATS = pillow_engine.IMAGE_FORMATS
OFFICE_TARGETS = ["docx", "odt", "rtf", "md", "html", "epub"]
MAX_RENDERED_PAGES = 200  # pages turned into images in one conversion
# Summed over the pages rendered in one conversion (each page is also clamped under MAX_RENDER_PIXELS):
# 200 A4 pages at the premium 220 dpi fit; 600 dpi fits ~28 A4 pages.
MAX_RENDERED_TOTAL_PIXELS = 1_000_000_000
PAGES_TOO_LARGE = "Las páginas pedidas a esa resolución suman demasiados píxeles"

QUALITY: dict[str, dict[str, int]] = {
    "basic": {"dpi": 72},
    "standard": {"dpi": 110},
    "high": {"dpi": 150},
    "premium": {"dpi": 220},
}


def _module():
    import pymupdf

    try:
        pymupdf.TOOLS.mupdf_display_errors(False)
        pymupdf.TOOLS.mupdf_display_warnings(False)
    except Exception:  # pragma: no cover - older/newer API
        pass
    return pymupdf


def _corrupt(exc: BaseException | None = None) -> EngineError:
    return EngineError("El PDF está dañado o no es válido", code="corrupt_input",
                       detail=repr(exc) if exc else "")


@contextlib.contextmanager
def _closing_as_corrupt(doc):
    """Close `doc` whatever happens; any non-engine failure inside means the PDF is damaged."""
    try:
        yield doc
    except EngineError:
        raise
    except Exception as exc:
        raise _corrupt(exc) from exc
    finally:
        doc.close()


def open_pdf(src: Path):
    pymupdf = _module()
    try:
        doc = pymupdf.open(str(src), filetype="pdf")
    except Exception as exc:
        raise _corrupt(exc) from exc
    try:
        if doc.needs_pass or doc.is_encrypted:
            raise EngineError("El PDF está protegido con contraseña", code="encrypted_pdf")
        if not doc.is_pdf:
            raise _corrupt()
        pages = doc.page_count
        if pages <= 0:
            raise _corrupt()
        if pages > MAX_PAGES:
            raise EngineError("El PDF tiene demasiadas páginas", code="too_many_pages",
                              detail=f"{pages} pages")
    except BaseException:
        doc.close()
        raise
    return doc


def extract_blocks(doc, options: ConvertOptions) -> list[list[str]]:
    """Text blocks per page."""
    pages: list[list[str]] = []
    total = 0
    for index, page in enumerate(doc):
        options.check_deadline()
        blocks = []
        for block in page.get_text("blocks", sort=True):
            if len(block) >= 7 and block[6] != 0:  # image block
                continue
            text = str(block[4]).strip()
            if text:
                blocks.append(text)
                total += len(text)
        if total > MAX_TEXT_CHARS:
            raise EngineError("El PDF contiene demasiado texto", code="too_much_text")
        pages.append(blocks)
        options.report(int(60 * (index + 1) / max(doc.page_count, 1)))
    return pages


def _read_blocks(src: Path, options: ConvertOptions) -> list[list[str]]:
    """The text blocks of every page (bounded by the page cap and the deadline)."""
    with _closing_as_corrupt(open_pdf(src)) as doc:
        return extract_blocks(doc, options)


def page_render(width_pt: float, height_pt: float, base_dpi: int) -> tuple[int, int]:
    """(dpi, pixels) of one page rendered at ``base_dpi``, the resolution clamped under the per-page cap."""
    w_in, h_in = width_pt / 72.0, height_pt / 72.0
    if w_in <= 0 or h_in <= 0:
        raise _corrupt()
    dpi = max(1, min(base_dpi, int((MAX_RENDER_PIXELS / (w_in * h_in)) ** 0.5)))
    return dpi, math.ceil(w_in * dpi) * math.ceil(h_in * dpi)


def base_dpi(params: dict | None, quality: str) -> int:
    return int((params or {}).get("dpi") or QUALITY.get(quality, QUALITY["standard"])["dpi"])


def wanted_pages(params: dict | None, count: int) -> list[int]:
    from ..catalog.options import OptionError, parse_pages

    params = params or {}
    try:
        wanted = parse_pages(str(params["pages"]), count) if params.get("pages") else list(range(1, count + 1))
    except (OptionError, ValueError) as exc:
        raise EngineError("Rango de páginas no válido", code="invalid_pages", detail=str(exc)) from exc
    if not wanted:
        raise EngineError("Las páginas pedidas no existen en el documento", code="invalid_pages",
                          detail=f"{params.get('pages')} of {count}")
    if len(wanted) > MAX_RENDERED_PAGES:
        raise EngineError("Demasiadas páginas para convertir en imágenes", code="too_many_pages",
                          detail=f"{len(wanted)} pages")
    return wanted


def check_render_output(doc, wanted: list[int], dpi: int) -> None:
    """Pages × DPI-derived pixels under MAX_RENDERED_TOTAL_PIXELS, before any page is rendered."""
    total = 0
    for number in wanted:
        rect = doc[number - 1].rect
        total += page_render(rect.width, rect.height, dpi)[1]
    if total > MAX_RENDERED_TOTAL_PIXELS:
        raise OutputCapExceeded(PAGES_TOO_LARGE, total=total, cap=MAX_RENDERED_TOTAL_PIXELS, count=len(wanted),
                                detail=f"{total} pixels in {len(wanted)} pages at {dpi} dpi")


def render_pages(pdf: Path, out: Path, dst_fmt: str, options: ConvertOptions) -> Path:
    """The pages of a PDF (all, or ``options.params["pages"]`` like "1-3,5") as ``dst_fmt`` images,
    at ``params["dpi"]`` (else the quality's), each clamped under the pixel cap.

    One page: the image itself at ``out``. Several: a zip of ``pagina-001.<fmt>`` … next to it,
    whose path is returned (the caller stores it as a zip).
    """
    from PIL import Image

    pymupdf = _module()
    params = getattr(options, "params", None) or {}
    dpi_asked = base_dpi(params, options.quality)
    written: list[Path] = []
    with _closing_as_corrupt(open_pdf(pdf)) as doc:
        wanted = wanted_pages(params, doc.page_count)
        check_render_output(doc, wanted, dpi_asked)
        for index, number in enumerate(wanted):
            options.check_deadline()
            page = doc[number - 1]
            # Clamp the resolution so the bitmap stays under the pixel cap.
            dpi = page_render(page.rect.width, page.rect.height, dpi_asked)[0]
            pix = page.get_pixmap(dpi=dpi, alpha=False, colorspace=pymupdf.csRGB)
            image = Image.frombytes("RGB", (pix.width, pix.height), pix.samples)
            target = out if len(wanted) == 1 else out.parent / f"pagina-{number:03d}.{dst_fmt}"
            pillow_engine.save_frames([image], target, dst_fmt, options.quality)
            written.append(target)
            options.report(60 + int(35 * (index + 1) / len(wanted)))
    if len(written) == 1:
        return out
    archive = out.parent / "pages.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in written:
            zf.write(path, path.name)
            path.unlink()
    return archive


class PyMuPDFEngine(Engine):
    name = "pymupdf"
    priority = 30
    QUALITY = QUALITY

    def pairs(self) -> set[tuple[str, str]]:
        images = [fmt for fmt in IMAGE_FORMATS if pillow_engine._codec_available(fmt)]
        result = {("pdf", "txt")} | {("pdf", fmt) for fmt in images}
        result |= {(fmt, "pdf") for fmt in images}
        if pandoc_engine.pandoc_binary():
            result |= {("pdf", fmt) for fmt in OFFICE_TARGETS}
        return result

    def missing_codecs(self) -> dict[str, set[tuple[str, str]]]:
        return {package: {("pdf", fmt), (fmt, "pdf")} for fmt, package in pillow_engine.OPTIONAL_CODECS.items()
                if not pillow_engine._codec_available(fmt)}

    def _probe(self) -> bool:
        try:
            _module()
        except ImportError:
            return False
        return True

    def _convert(self, src: Path, out: Path, src_fmt: str, dst_fmt: str,
                 options: ConvertOptions) -> Path | None:
        if src_fmt in IMAGE_FORMATS:
            self._image_to_pdf(src, src_fmt, out, options, out.parent)
        elif dst_fmt == "txt":
            self._pdf_to_text(src, out, options)
        elif dst_fmt in IMAGE_FORMATS:
            return render_pages(src, out, dst_fmt, options)
        else:
            self._pdf_to_office(src, out, dst_fmt, options, out.parent)

    # ------------------------------------------------------------------ pdf ->

    def _pdf_to_text(self, src: Path, out: Path, options: ConvertOptions) -> None:
        pages = _read_blocks(src, options)
        text = "\n\f\n".join("\n\n".join(blocks) for blocks in pages).strip() + "\n"
        out.write_text(text, encoding="utf-8")

    def _pdf_to_office(self, src: Path, out: Path, dst_fmt: str, options: ConvertOptions,
                       tmp: Path) -> None:
        pages = _read_blocks(src, options)
        parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'>"
                 "<title>Documento</title></head><body>"]
        for number, blocks in enumerate(pages):
            if number:
                parts.append("<hr />")
            for block in blocks:
                lines = [html.escape(line) for line in block.splitlines()]
                parts.append("<p>" + "<br />".join(lines) + "</p>")
        parts.append("</body></html>")
        source = tmp / "extracted.html"
        source.write_text("\n".join(parts), encoding="utf-8")
        pandoc_engine.run_pandoc(source, pandoc_engine.READERS["html"], out,
                                 pandoc_engine.WRITERS[dst_fmt], options, tmp)

    # ------------------------------------------------------------------ images -> pdf

    def _image_to_pdf(self, src: Path, src_fmt: str, out: Path, options: ConvertOptions,
                      tmp: Path) -> None:
        pymupdf = _module()
        frames, _durations, _loop = pillow_engine.read_frames(src, src_fmt, "pdf", options)
        dpi = float(self.quality(options)["dpi"])
        with _closing_as_corrupt(pymupdf.open()) as doc:
            for index, frame in enumerate(frames):
                options.check_deadline()
                png = tmp / f"page{index}.png"
                pillow_engine.save_frames([frame], png, "png", "basic")
                width, height = frame.size
                page = doc.new_page(width=width * 72.0 / dpi, height=height * 72.0 / dpi)
                page.insert_image(page.rect, filename=str(png))
                png.unlink()
            doc.save(str(out), garbage=3, deflate=True)
