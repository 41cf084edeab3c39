"""Document conversions with the pandoc binary shipped by pypandoc.

Pandoc runs with ``--sandbox`` (no file/network access besides input and output) and a
heap cap. PDF output goes pandoc -> standalone HTML -> WeasyPrint in a subprocess whose
URL fetcher only accepts ``data:`` URLs.

Plain text (``txt``) is literal: it becomes escaped HTML paragraphs before pandoc reads it, so
``[x](y)``, ``*``, ``#`` and ``_`` stay characters and link targets stay in the text. Markdown is
its own format (``md``, read as CommonMark with extensions, without raw HTML).
"""

from __future__ import annotations

import html as html_lib
import re
import shutil
import sys
from functools import lru_cache
from pathlib import Path

from . import process
from .base import ConvertOptions, Engine, EngineError

OFFICE = ["docx", "odt", "rtf", "txt", "md", "html", "epub"]

READERS = {
    "docx": "docx",
    "odt": "odt",
    "rtf": "rtf",
    # Plain text is turned into escaped HTML first (literal_text_to_html): read as HTML.
    "txt": "html",
    # Markdown as CommonMark (+ tables, footnotes …), without raw HTML (no <link>/<img> smuggling).
    "md": "commonmark_x-raw_html",
    "html": "html",
    "epub": "epub",
}
WRITERS = {
    "docx": ["-t", "docx"],
    "odt": ["-t", "odt"],
    "rtf": ["-t", "rtf", "-s"],
    "txt": ["-t", "plain", "--wrap=none"],
    "md": ["-t", "gfm", "--wrap=none"],
    "html": ["-t", "html5", "-s", "--embed-resources"],
    "epub": ["-t", "epub3"],
}
# Writers that need a title; the document's own title wins (metadata file, not -M).
NEEDS_TITLE = {"html", "epub"}
METADATA = "title: Documento\npagetitle: Documento\n"
RTS_LIMITS = ["+RTS", "-M512m", "-RTS"]

# PDF rendering has no real quality knob; keep a mapping for uniformity.
QUALITY = {
    "basic": {"font_size": "11pt"},
    "standard": {"font_size": "11pt"},
    "high": {"font_size": "12pt"},
    "premium": {"font_size": "12pt"},
}

WEASY_SCRIPT = Path(__file__).with_name("_weasy_render.py")


@lru_cache(maxsize=1)
def pandoc_binary() -> str | None:
    try:
        import pypandoc

        path = pypandoc.get_pandoc_path()
    except Exception:
        return None
    return str(path) if path and Path(path).exists() else None


def weasyprint_available() -> bool:
    try:
        import importlib.util

        return importlib.util.find_spec("weasyprint") is not None
    except Exception:  # pragma: no cover
        return False


def _env(tmp: Path) -> dict[str, str]:
    # The venv's bin dir first so helpers (weasyprint) resolve to the venv's copies.
    return process.safe_env(extra_path=[Path(sys.executable).parent], home=tmp)


def _failed(exc: EngineError) -> EngineError:
    return EngineError("El documento está dañado o no se puede convertir",
                       code="corrupt_input", detail=exc.detail)


def run_pandoc(src: Path, reader: str, out: Path, writer_args: list[str],
               options: ConvertOptions, tmp: Path, extra: list[str] | None = None) -> None:
    binary = pandoc_binary()
    if not binary:
        raise EngineError("El conversor no está disponible", code="engine_unavailable")
    args = [binary, *RTS_LIMITS, "--sandbox", "-f", reader, *writer_args,
            *(extra or []), "-o", str(out), str(src)]
    try:
        process.run(args, timeout=options.remaining(), cwd=tmp, env=_env(tmp))
    except EngineError as exc:
        if exc.code == "engine_failed":
            raise _failed(exc) from exc
        raise


def html_to_pdf(html: Path, out: Path, options: ConvertOptions, tmp: Path) -> None:
    args = [sys.executable, "-I", str(WEASY_SCRIPT), str(html), str(out)]
    try:
        process.run(args, timeout=options.remaining(), cwd=tmp, env=_env(tmp))
    except EngineError as exc:
        if exc.code == "engine_failed":
            raise _failed(exc) from exc
        raise


def convert_with_pandoc(src: Path, reader: str, out: Path, dst_fmt: str,
                        options: ConvertOptions, tmp: Path) -> None:
    """Convert ``src`` (read with pandoc ``reader``) to ``out`` in ``dst_fmt``."""
    if dst_fmt == "pdf":
        html = tmp / "intermediate.html"
        size = QUALITY.get(options.quality, QUALITY["standard"])["font_size"]
        run_pandoc(src, reader, html, ["-t", "html5", "-s"], options, tmp,
                   extra=["--embed-resources", "--metadata", "pagetitle=Documento",
                          "--variable", f"fontsize={size}"])
        options.report(50)
        html_to_pdf(html, out, options, tmp)
    else:
        extra = []
        if dst_fmt in NEEDS_TITLE:
            meta = tmp / "metadata.yaml"
            meta.write_text(METADATA, encoding="utf-8")
            extra = ["--metadata-file", str(meta)]
        run_pandoc(src, reader, out, WRITERS[dst_fmt], options, tmp, extra=extra)


def literal_text_to_html(src: Path, out: Path) -> None:
    """Plain text as HTML paragraphs with every character escaped and every line kept."""
    text = src.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n").replace("\f", "\n\n")
    paragraphs = [p for p in re.split(r"\n[ \t]*\n", text) if p.strip()]
    body = []
    for paragraph in paragraphs:
        lines = [html_lib.escape(line.rstrip()) for line in paragraph.strip("\n").split("\n")]
        # Leading spaces are kept (as no-break spaces): indentation is part of a plain text.
        lines = [re.sub(r"^ +", lambda m: "\u00a0" * len(m.group(0)), line) for line in lines]
        body.append("<p>" + "<br />\n".join(lines) + "</p>")
    out.write_text("<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>\n"
                   + "\n".join(body) + "\n</body></html>\n", encoding="utf-8")


class PandocEngine(Engine):
    name = "pandoc"
    priority = 40
    QUALITY = QUALITY

    def pairs(self) -> set[tuple[str, str]]:
        result = {(a, b) for a in OFFICE for b in OFFICE if a != b}
        if weasyprint_available():
            result |= {(a, "pdf") for a in OFFICE}
        return result

    def _probe(self) -> bool:
        return pandoc_binary() is not None

    def _convert(self, src: Path, out: Path, src_fmt: str, dst_fmt: str,
                 options: ConvertOptions) -> None:
        tmp = out.parent
        # Work on a private copy with a neutral name (no odd characters in argv).
        local = tmp / f"input.{src_fmt}"
        if src_fmt == "txt":
            local = tmp / "input-text.html"
            literal_text_to_html(src, local)
        else:
            shutil.copyfile(src, local)
        convert_with_pandoc(local, READERS[src_fmt], out, dst_fmt, options, tmp)
