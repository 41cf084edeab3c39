"""The warm path reads the cold command line (one source of filters); no LibreOffice needed."""

from __future__ import annotations

from pathlib import Path

from conversions.engines import office_server
from conversions.engines.base import ConvertOptions


def test_convert_to_parts():
    assert office_server.convert_to_parts("pdf:writer_pdf_Export") == ("writer_pdf_Export", "")
    assert office_server.convert_to_parts("txt:Text (encoded):UTF8") == ("Text (encoded)", "UTF8")
    assert office_server.convert_to_parts("csv:Text - txt - csv (StarCalc):44,34,76") == (
        "Text - txt - csv (StarCalc)", "44,34,76")
    assert office_server.convert_to_parts("pdf") == ("", "")


def test_convert_args_hands_the_cold_filters_to_the_listener(monkeypatch, tmp_path):
    seen = {}

    def fake(soffice, src, dst, **kwargs):
        seen.update(soffice=soffice, src=src, dst=dst, **kwargs)
        return True

    monkeypatch.setattr(office_server.warm_office, "convert", fake)
    args = ["/usr/bin/soffice", "--headless", "-env:UserInstallation=file:///x",
            "--infilter=Text - txt - csv (StarCalc):44,34,76", "--convert-to", "pdf:calc_pdf_Export",
            "--outdir", str(tmp_path / "out"), str(tmp_path / "input.csv")]
    assert office_server.convert_args(args, ConvertOptions()) is True
    assert seen["soffice"] == "/usr/bin/soffice"
    assert seen["src"] == tmp_path / "input.csv" and seen["dst"] == tmp_path / "out" / "input.pdf"
    assert seen["export_filter"] == "calc_pdf_Export" and seen["filter_options"] == ""
    assert seen["infilter"] == "Text - txt - csv (StarCalc):44,34,76"


def test_convert_args_without_a_filter_or_a_real_soffice_goes_cold(monkeypatch, tmp_path):
    called = []
    monkeypatch.setattr(office_server.warm_office, "_get", lambda *a: called.append(a))
    fake = tmp_path / "soffice"
    fake.write_text("#!/bin/sh\n")
    args = [str(fake), "--convert-to", "pdf:writer_pdf_Export", "--outdir", str(tmp_path), "in.docx"]
    assert office_server.convert_args(args, ConvertOptions()) is False  # no soffice.bin beside it
    assert office_server.convert_args(["soffice", "--convert-to", "pdf", "--outdir", "o", "i"],
                                      ConvertOptions()) is False  # no export filter named
    assert office_server.convert_args(["soffice", "in.docx"], ConvertOptions()) is False
    assert called == []


def test_warm_office_can_be_switched_off(settings, monkeypatch, tmp_path):
    settings.OFFICE_WARM_ENABLED = False
    monkeypatch.setattr(office_server.WarmOffice, "_get", lambda *a: (_ for _ in ()).throw(AssertionError))
    assert office_server.warm_office.convert("/usr/bin/soffice", Path("a"), Path("b"), export_filter="x",
                                             filter_options="", infilter="", options=ConvertOptions()) is False
