"""Office document conversions with a headless LibreOffice (only if installed)."""

from __future__ import annotations

import shutil
from functools import lru_cache
from pathlib import Path

from . import office_server, process
from .base import ConvertOptions, Engine, EngineError
from .office_profile import profile_write

OFFICE = ["docx", "odt", "rtf", "txt"]
# Families by LibreOffice module: what each reads (input-only legacy formats included) and writes.
WRITER_IN, WRITER_OUT = [*OFFICE, "doc"], [*OFFICE, "pdf"]
CALC_IN, CALC_OUT = ["xlsx", "xls", "ods", "csv"], ["xlsx", "ods", "csv", "pdf"]
IMPRESS_IN, IMPRESS_OUT = ["pptx", "ppt", "odp"], ["pptx", "odp", "pdf"]
# Presentations also become one image per slide (PDF rendered by PyMuPDF; several slides: a zip).
SLIDE_IMAGES = ["png", "jpg", "gif", "bmp", "tiff", "webp", "heic", "avif", "ico"]
MODULE_LIBRARY = {"calc": "libsclo.so", "impress": "libsdlo.so"}  # in LibreOffice's program/ dir

CSV_OPTIONS = "44,34,76,1"  # comma, double quote, UTF-8, from line 1
# Target format -> LibreOffice --convert-to argument (extension:filter[:options]), per module.
CONVERT_TO = {
    "docx": "docx:MS Word 2007 XML",
    "odt": "odt:writer8",
    "rtf": "rtf:Rich Text Format",
    "txt": "txt:Text (encoded):UTF8",
    "pdf": "pdf:writer_pdf_Export",
}
CALC_CONVERT_TO = {
    "xlsx": "xlsx:Calc MS Excel 2007 XML",
    "ods": "ods:calc8",
    "csv": f"csv:Text - txt - csv (StarCalc):{CSV_OPTIONS}",
    "pdf": "pdf:calc_pdf_Export",  # every sheet, each on its own pages
}
IMPRESS_CONVERT_TO = {
    "pptx": "pptx:Impress MS PowerPoint 2007 XML",
    "odp": "odp:impress8",
    "pdf": "pdf:impress_pdf_Export",
}
INFILTERS = {"txt": "Text (encoded):UTF8", "csv": f"Text - txt - csv (StarCalc):{CSV_OPTIONS}"}


def convert_to_for(src_fmt: str, dst_fmt: str) -> str:
    if src_fmt in CALC_IN:
        return CALC_CONVERT_TO[dst_fmt]
    if src_fmt in IMPRESS_IN:
        return IMPRESS_CONVERT_TO[dst_fmt]
    return CONVERT_TO[dst_fmt]


def module_installed(module: str) -> bool:
    """Calc / Impress are separate packages: look for their library beside soffice."""
    binary = soffice_binary()
    if not binary:
        return False
    return (Path(binary).resolve().parent / MODULE_LIBRARY[module]).exists()

QUALITY = {
    "basic": {"pdf_quality": 60},
    "standard": {"pdf_quality": 80},
    "high": {"pdf_quality": 90},
    "premium": {"pdf_quality": 95},
}

@lru_cache(maxsize=1)
def soffice_binary() -> str | None:
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    return None


class LibreOfficeEngine(Engine):
    name = "libreoffice"
    priority = 60
    QUALITY = QUALITY

    def pairs(self) -> set[tuple[str, str]]:
        # Every page as an image too (PDF here, then PyMuPDF): documents, sheets and slides alike.
        result = {(a, b) for a in WRITER_IN for b in [*WRITER_OUT, *SLIDE_IMAGES] if a != b}
        if module_installed("calc"):
            result |= {(a, b) for a in CALC_IN for b in [*CALC_OUT, *SLIDE_IMAGES] if a != b}
        if module_installed("impress"):
            result |= {(a, b) for a in IMPRESS_IN for b in [*IMPRESS_OUT, *SLIDE_IMAGES] if a != b}
        return result

    def _probe(self) -> bool:
        return soffice_binary() is not None

    def _convert(self, src: Path, out: Path, src_fmt: str, dst_fmt: str,
                 options: ConvertOptions) -> Path:
        if dst_fmt in SLIDE_IMAGES:  # slides -> PDF here, then one image per page
            from . import pymupdf

            pdf = self._soffice(src, out.parent / "slides", src_fmt, "pdf", options)
            options.report(60)
            return pymupdf.render_pages(pdf, out, dst_fmt, options)
        return self._soffice(src, out.parent, src_fmt, dst_fmt, options)

    def _soffice(self, src: Path, tmp: Path, src_fmt: str, dst_fmt: str, options: ConvertOptions) -> Path:
        binary = soffice_binary()
        tmp.mkdir(exist_ok=True)
        profile = profile_write(tmp / "profile")
        outdir = tmp / "out"
        outdir.mkdir()
        local = tmp / f"input.{src_fmt}"
        shutil.copyfile(src, local)
        args = [
            binary, "--headless", "--norestore", "--nologo", "--nolockcheck",
            "--nodefault", "--nofirststartwizard",
            f"-env:UserInstallation={profile.as_uri()}",
        ]
        if src_fmt in INFILTERS:
            args.append(f"--infilter={INFILTERS[src_fmt]}")
        args += ["--convert-to", convert_to_for(src_fmt, dst_fmt), "--outdir", str(outdir), str(local)]
        try:
            # The worker's warm listener first (office_server); the cold command line when it cannot.
            if not office_server.convert_args(args, options):
                process.run(args, timeout=options.remaining(), cwd=tmp,
                            env=process.safe_env(home=tmp))
        except EngineError as exc:
            if exc.code == "engine_failed":
                raise EngineError("El documento está dañado o no se puede convertir",
                                  code="corrupt_input", detail=exc.detail) from exc
            raise
        produced = outdir / f"input.{dst_fmt}"
        if not produced.exists():
            raise EngineError("El documento está dañado o no se puede convertir",
                              code="corrupt_input", detail="soffice produced no output")
        return produced
