"""The catalogue is the one source of content signatures; detection reads them from there."""

from __future__ import annotations

import pytest

from conversions import detection
from conversions.catalog import FORMATS, formats
from conversions.catalog import signatures as sig
from conversions.detection import detect_head

# Formats recognised by content rules only (no bytes of their own), and the rule each one uses.
CONTENT_ONLY = {"txt": {"text"}, "md": {"text_by_name"}, "csv": {"text_by_name"},
                "html": {"text_by_name", "html_start"}, "svg": {"svg_root"}}


def _binary(fmt) -> list:
    return [s for s in fmt.signatures if isinstance(s, sig.BINARY_KINDS)]


def _heuristics(fmt) -> set[str]:
    return {s.kind for s in fmt.signatures if isinstance(s, sig.Heuristic)}


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
def test_every_format_has_a_signature_or_is_explicitly_detected_by_content(fmt):
    assert fmt.signatures, f"{fmt.name}: no signature and no content heuristic in the catalogue"
    assert _heuristics(fmt) <= detection.HEURISTICS, f"{fmt.name}: heuristic detection does not implement"
    if fmt.name in CONTENT_ONLY:
        assert not _binary(fmt) and _heuristics(fmt) == CONTENT_ONLY[fmt.name]
    else:
        assert _binary(fmt), f"{fmt.name}: a binary format needs a signature (only text is told by content)"
    for signature in fmt.signatures:
        if isinstance(signature, sig.Magic) and signature.check:
            assert signature.check in detection._CHECKS, f"{fmt.name}: unknown check {signature.check}"


def _head_for(magic: sig.Magic) -> bytes:
    size = max(512, *(offset + len(data) for offset, data in magic.parts))
    head = bytearray(b"\x00" * size)
    for offset, data in magic.parts:
        head[offset:offset + len(data)] = data
    for index, (data, _window) in enumerate(magic.contains):
        at = 64 + 32 * index
        head[at:at + len(data)] = data
    return bytes(head)


SIMPLE_MAGICS = [pytest.param(f.name, s, id=f"{f.name}-{i}") for f in FORMATS
                 for i, s in enumerate(f.signatures) if isinstance(s, sig.Magic) and not s.check]


@pytest.mark.parametrize(("name", "magic"), SIMPLE_MAGICS)
def test_each_simple_magic_of_the_catalogue_is_what_detection_recognises(name, magic):
    assert detect_head(_head_for(magic), "archivo.bin") == name


def test_a_new_format_with_a_simple_magic_is_one_catalogue_entry(monkeypatch):
    """Detection indexes the catalogue: a format added there is recognised with no detection code."""
    new = formats._f("qoi", "images", "image/qoi", sig=(sig.magic(b"qoif"),))
    head = b"qoif" + b"\x00\x00\x00\x10" * 2 + b"\x04\x00" + b"\x00" * 64
    assert detect_head(head, "x.qoi") is None
    monkeypatch.setattr(detection, "_MAGICS", detection._magic_table((*FORMATS, new)))
    assert detect_head(head, "x.qoi") == "qoi"


def test_detection_tables_come_from_the_catalogue():
    assert detection.ZIP_CONTAINERS == {"docx", "odt", "xlsx", "pptx", "ods", "odp", "epub"}
    assert set(detection.OLE_STREAMS.values()) == {"doc", "xls", "ppt"}
    assert detection.EBML_DOCTYPES == {b"matroska": "mkv", b"webm": "webm"}
    assert detection.NAMED_TEXT_FORMATS == {"md", "html", "csv"}
