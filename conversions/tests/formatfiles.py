"""Tiny synthetic files with the signatures of the second-stage formats (detection tests)."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

END, FREE, FAT, NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def _dir_entry(name: str, kind: int, child: int = NOSTREAM) -> bytes:
    encoded = (name.encode("utf-16-le") + b"\x00\x00") if name else b""
    entry = encoded.ljust(64, b"\x00")
    entry += struct.pack("<HBB", len(encoded), kind, 1)
    entry += struct.pack("<III", NOSTREAM, NOSTREAM, child)
    entry += b"\x00" * 16 + b"\x00" * 4 + b"\x00" * 16
    entry += struct.pack("<IQ", END if kind else 0, 0)
    return entry


def ole_file(path: Path, stream: str) -> Path:
    """A minimal OLE compound file (CFB v3) whose directory holds one empty stream ``stream``."""
    header = bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 16
    header += struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\x00" * 6
    header += struct.pack("<IIIIIIIII", 0, 1, 1, 0, 0x1000, END, 0, END, 0)
    header += struct.pack("<I", 0) + struct.pack("<I", FREE) * 108
    fat = struct.pack("<II", FAT, END) + struct.pack("<I", FREE) * 126
    directory = _dir_entry("Root Entry", 5, child=1) + _dir_entry(stream, 2) + _dir_entry("", 0) * 2
    path.write_bytes(header + fat + directory)
    return path


def ooxml(path: Path, main_type: str, main_part: str, *, content_types_first: bool = True) -> Path:
    """An OOXML-like package: [Content_Types].xml naming ``main_type`` for ``main_part``."""
    types = ('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             f'<Override PartName="/{main_part}" ContentType="application/vnd.openxmlformats-officedocument.'
             f'{main_type}+xml"/></Types>')
    parts = [("[Content_Types].xml", types), ("_rels/.rels", "<Relationships/>"), (main_part, "<x/>")]
    if not content_types_first:
        parts = parts[1:] + parts[:1]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts:
            zf.writestr(name, data)
    return path


def odf(path: Path, mimetype: str) -> Path:
    """An ODF/EPUB-like zip: a stored `mimetype` entry first."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), mimetype, compress_type=zipfile.ZIP_STORED)
        zf.writestr("content.xml", "<x/>", compress_type=zipfile.ZIP_DEFLATED)
    return path


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def isobmff(path: Path, major: bytes, compatible: list[bytes] = (), handlers: list[bytes] = (),
            moov_last: bool = True) -> Path:
    """ftyp (+ mdat) + moov whose tracks declare ``handlers`` ('vide', 'soun')."""
    ftyp = _box(b"ftyp", major + b"\x00\x00\x02\x00" + b"".join(compatible))
    traks = b"".join(_box(b"trak", _box(b"mdia", _box(b"hdlr", b"\x00" * 8 + h + b"\x00" * 12)))
                     for h in handlers)
    moov = _box(b"moov", _box(b"mvhd", b"\x00" * 100) + traks)
    mdat = _box(b"mdat", b"\x00" * 70000)  # pushes a trailing moov beyond the first 64 KiB
    path.write_bytes(ftyp + (mdat + moov if moov_last else moov + mdat))
    return path


def _ebml_element(element_id: bytes, payload: bytes) -> bytes:
    assert len(payload) < 127
    return element_id + bytes([0x80 | len(payload)]) + payload


def ebml(path: Path, doctype: bytes) -> Path:
    header = (_ebml_element(b"\x42\x86", b"\x01") + _ebml_element(b"\x42\xf7", b"\x01")
              + _ebml_element(b"\x42\x82", doctype) + _ebml_element(b"\x42\x87", b"\x04"))
    path.write_bytes(_ebml_element(b"\x1a\x45\xdf\xa3", header) + b"\x18\x53\x80\x67" + b"\x00" * 64)
    return path


ASF_HEADER = bytes.fromhex("3026B2758E66CF11A6D900AA0062CE6C")
ASF_STREAM_PROPERTIES = bytes.fromhex("9107DCB7B7A9CF118EE600C00C205365")
ASF_AUDIO = bytes.fromhex("409E69F84D5BCF11A8FD00805F5C442B")
ASF_VIDEO = bytes.fromhex("C0EF19BC4D5BCF11A8FD00805F5C442B")


def asf(path: Path, streams: list[str]) -> Path:
    """An ASF header whose stream properties objects declare 'audio' / 'video' streams."""
    objects = b""
    for kind in streams:
        body = (ASF_AUDIO if kind == "audio" else ASF_VIDEO) + b"\x00" * 16 + b"\x00" * 22
        objects += ASF_STREAM_PROPERTIES + struct.pack("<Q", 24 + len(body)) + body
    size = 30 + len(objects)
    path.write_bytes(ASF_HEADER + struct.pack("<QIBB", size, len(streams), 1, 2) + objects + b"\x00" * 64)
    return path
