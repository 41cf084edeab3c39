"""csv <-> xlsx in pure Python (openpyxl), for hosts without LibreOffice.

openpyxl parses the workbook's XML through defusedxml (installed), the zip was checked at upload;
cells are capped and the deadline is checked as rows go. A CSV cell that starts with "=" stays
text: a CSV never carries formulas into the workbook (no WEBSERVICE, no formula injection).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from .base import ConvertOptions, Engine, EngineError

MAX_CELLS = 2_000_000
MAX_CSV_FIELD = 1024 * 1024
_NUMBER = re.compile(r"-?(?:0|[1-9]\d{0,14})(?:\.\d{1,15})?")


def _too_big() -> EngineError:
    return EngineError("La hoja de cálculo es demasiado grande", code="too_many_cells")


def _cell_value(text: str):
    """Plain numbers become numbers (what a spreadsheet shows); everything else stays text."""
    if _NUMBER.fullmatch(text):
        return float(text) if "." in text else int(text)
    return text


def csv_to_xlsx(src: Path, out: Path, options: ConvertOptions) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    csv.field_size_limit(MAX_CSV_FIELD)
    with open(src, newline="", encoding="utf-8", errors="replace") as fh:
        sample = fh.read(64 * 1024)
        fh.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("Hoja1")
        cells = 0
        try:
            for number, row in enumerate(csv.reader(fh, dialect)):
                cells += len(row)
                if cells > MAX_CELLS:
                    raise _too_big()
                if number % 1000 == 0:
                    options.check_deadline()
                line = []
                for text in row:
                    cell = WriteOnlyCell(ws, value=_cell_value(text))
                    if isinstance(cell.value, str) and cell.value.startswith("="):
                        cell.data_type = "s"  # literal text, never a formula
                    line.append(cell)
                ws.append(line)
        except csv.Error as exc:
            raise EngineError("El CSV está dañado", code="corrupt_input", detail=str(exc)) from exc
    wb.save(out)


def xlsx_to_csv(src: Path, out: Path, options: ConvertOptions) -> None:
    """The first sheet's values (what Excel and LibreOffice export to CSV)."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(src, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on damaged packages
        raise EngineError("La hoja de cálculo está dañada o no es válida", code="corrupt_input",
                          detail=repr(exc)) from exc
    try:
        ws = wb.worksheets[0]
        cells = 0
        with open(out, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            for number, row in enumerate(ws.iter_rows(values_only=True)):
                cells += len(row)
                if cells > MAX_CELLS:
                    raise _too_big()
                if number % 1000 == 0:
                    options.check_deadline()
                writer.writerow(["" if v is None else _text(v) for v in row])
    except EngineError:
        raise
    except Exception as exc:
        raise EngineError("La hoja de cálculo está dañada o no es válida", code="corrupt_input",
                          detail=repr(exc)) from exc
    finally:
        wb.close()


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class TabularEngine(Engine):
    name = "openpyxl"
    priority = 20  # LibreOffice (when installed) keeps more of a workbook
    QUALITY: dict = {}  # no quality knob: a CSV or a workbook is the same at every level

    def pairs(self) -> set[tuple[str, str]]:
        return {("csv", "xlsx"), ("xlsx", "csv")}

    def _probe(self) -> bool:
        try:
            import openpyxl  # noqa: F401
        except ImportError:
            return False
        return True

    def _convert(self, src: Path, out: Path, src_fmt: str, dst_fmt: str, options: ConvertOptions) -> None:
        if src_fmt == "csv":
            csv_to_xlsx(src, out, options)
        else:
            xlsx_to_csv(src, out, options)
