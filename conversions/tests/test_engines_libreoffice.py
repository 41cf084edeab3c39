"""LibreOffice engine (only exercised when soffice is installed)."""

from __future__ import annotations

import pytest

from conversions.detection import detect_format
from conversions.engines import default_registry
from conversions.engines.base import ConvertOptions
from conversions.engines.libreoffice import LibreOfficeEngine
from conversions.tests import enginefiles as ef

ENGINE = LibreOfficeEngine()
needs_soffice = pytest.mark.skipif(
    not ENGINE.is_available(), reason="LibreOffice (soffice) is not installed on this host")


def test_pairs_declared():
    assert ("docx", "pdf") in ENGINE.pairs()
    assert ENGINE.priority > default_registry().get("pandoc").priority


def test_registry_prefers_libreoffice_only_when_available():
    engine = default_registry().engine_for("docx", "pdf")
    assert engine.name == ("libreoffice" if ENGINE.is_available() else "pandoc")


@needs_soffice
@pytest.mark.parametrize("src_fmt,dst_fmt", [("docx", "pdf"), ("odt", "docx"), ("rtf", "odt")])
def test_convert(tmp_path, src_fmt, dst_fmt):
    src = ef.make_office(tmp_path / f"a.{src_fmt}", src_fmt)
    out = tmp_path / f"out.{dst_fmt}"
    ENGINE.convert(src, out, src_fmt, dst_fmt, ConvertOptions(time_limit=120))
    assert detect_format(out) == dst_fmt
    assert ef.MARKER in ef.read_text_of(out, dst_fmt)


@needs_soffice
def test_rtf_includetext(tmp_path):
    src = tmp_path / "a.rtf"
    src.write_text(r'{\rtf1\ansi{\field{\*\fldinst INCLUDETEXT "/etc/passwd"}'
                   r'{\fldrslt x}}\par Hola\par}')
    out = tmp_path / "out.pdf"
    ENGINE.convert(src, out, "rtf", "pdf", ConvertOptions(time_limit=120))
    assert "root:x:0:0" not in ef.read_text_of(out, "pdf")


FAKE_SOFFICE = """#!{python}
import json, sys
from pathlib import Path
args = sys.argv[1:]
Path({log!r}).write_text(json.dumps(args))
outdir = Path(args[args.index("--outdir") + 1])
src = Path(args[-1])
ext = args[args.index("--convert-to") + 1].split(":")[0]
(outdir / (src.stem + "." + ext)).write_bytes(src.read_bytes())
"""


def test_command_line_with_fake_soffice(tmp_path, monkeypatch):
    """Plumbing check (arguments, private profile, output pick-up) without LibreOffice."""
    import json
    import sys

    from conversions.engines import libreoffice

    log = tmp_path / "args.json"
    fake = tmp_path / "soffice"
    fake.write_text(FAKE_SOFFICE.format(python=sys.executable, log=str(log)))
    fake.chmod(0o755)
    monkeypatch.setattr(libreoffice, "soffice_binary", lambda: str(fake))
    engine = LibreOfficeEngine()
    src = ef.make_txt(tmp_path / "a.txt")
    out = tmp_path / "out.txt.docx"
    engine.convert(src, out, "txt", "docx", ConvertOptions(workdir=tmp_path / "work"))
    args = json.loads(log.read_text())
    for flag in ("--headless", "--norestore", "--nologo", "--nolockcheck"):
        assert flag in args
    profile = next(a for a in args if a.startswith("-env:UserInstallation=file://"))
    assert str(tmp_path / "work") in profile
    assert args[args.index("--convert-to") + 1].startswith("docx:")
    assert out.read_bytes() == src.read_bytes()
    assert list((tmp_path / "work").iterdir()) == []
