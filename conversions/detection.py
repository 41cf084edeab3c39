"""Content sniffing by magic bytes and upload sanity checks.

Never trusts file names or client-declared MIME types: the content decides. The one place a
name matters is plain text, which has no signature: a text file named ``.md``/``.html``/``.csv``
is that format, anything else textual is ``txt`` (an ``.svg`` must really be an SVG document).
The same rules serve a whole file (``detect_format``) and the page's pre-flight look at the first
64 KiB (``detect_head``).
"""

from __future__ import annotations

import re
import stat
import struct
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from .catalog import signatures as sig
from .catalog.formats import FORMATS, canonical
from .engines.base import EngineError, UnsafeInput

HEAD_SIZE = 65536
TEXT_SNIFF_SIZE = 65536

# The per-format data (magic bytes, brands, doctypes, zip markers, OLE streams, ASF stream types)
# is the catalogue's (``catalog.signatures`` on each ``Format``); these tables index it.
_ZIP_LOCAL_HEADER = re.compile(rb"PK\x03\x04")
ZIP_MAGIC, OLE_MAGIC, EBML_MAGIC, ASF_GUID = sig.ZIP_MAGIC, sig.OLE_MAGIC, sig.EBML_MAGIC, sig.ASF_HEADER_GUID
ASF_HEADER_MAX = 4 * 1024 * 1024
BMFF_MOOV_MAX = 16 * 1024 * 1024
OLE_ENCRYPTED = "encryptedpackage"  # an encrypted OOXML file wrapped in OLE
ENCRYPTED = "encrypted"  # internal marker, never returned by detect_format


def _signatures(kind, formats=FORMATS) -> list[tuple[str, object]]:
    """(format, signature) of one kind, in catalogue order."""
    return [(f.name, s) for f in formats for s in f.signatures if isinstance(s, kind)]


def _magic_table(formats=FORMATS) -> list[tuple[str, sig.Magic]]:
    """Simple magics: anchored ones (most constrained first), then those searched in a window."""
    return sorted(_signatures(sig.Magic, formats), key=lambda item: (bool(item[1].within), -item[1].specificity))


_MAGICS = _magic_table()
ZIP_MIMETYPES = {s.mimetype: name for name, s in _signatures(sig.ZipMimetype)}
# Main part content types of OOXML packages ([Content_Types].xml), main parts, part folders.
OOXML_MAIN_TYPES = {s.content_type: name for name, s in _signatures(sig.OoxmlPart)}
OOXML_MAIN_PARTS = {s.main_part: name for name, s in _signatures(sig.OoxmlPart)}
OOXML_FOLDERS = [(s.folder, name) for name, s in _signatures(sig.OoxmlPart)]
ZIP_CONTAINERS = set(ZIP_MIMETYPES.values()) | set(OOXML_MAIN_TYPES.values())
# Directory entry name -> format (the stream that holds the document itself).
OLE_STREAMS = {stream: name for name, s in _signatures(sig.OleStream) for stream in s.streams}
OLE_FORMATS = tuple(dict.fromkeys(OLE_STREAMS.values()))
EBML_DOCTYPES = {s.doctype: name for name, s in _signatures(sig.EbmlDocType)}
# ASF: the default format's stream type is looked for first (a video stream makes it wmv).
_ASF_STREAMS = sorted(_signatures(sig.AsfStream), key=lambda item: not item[1].default)
_ASF_DEFAULT = next(name for name, s in _ASF_STREAMS if s.default)
# ISO-BMFF: brands that also require a compatible brand first (avif in a mif1 file before heic).
_BRANDS = sorted(((name, s) for name, s in _signatures(sig.Brand) if not s.other),
                 key=lambda item: not item[1].compatible)
_BMFF_OTHER = next(name for name, s in _signatures(sig.Brand) if s.other)
_HEURISTIC_FORMATS: dict[str, list[str]] = {}
for _name, _sig in _signatures(sig.Heuristic):
    _HEURISTIC_FORMATS.setdefault(_sig.kind, []).append(_name)
# The content heuristics detection implements (a catalogue ``Heuristic`` must name one of them).
HEURISTICS = {"text", "text_by_name", "svg_root", "html_start", "mpeg_audio", "bmff_sound_only"}
BMFF_SOUND_ONLY = _HEURISTIC_FORMATS.get("bmff_sound_only", ["m4a"])[0]

# Text formats told apart by their name only (the content is just text).
NAMED_TEXT_FORMATS = set(_HEURISTIC_FORMATS.get("text_by_name", ()))
_SVG_PROLOG = re.compile(
    rb"\s*(?:<\?xml[^>]*\?>|<!--.*?-->|<!DOCTYPE(?:[^\[>]|\[.*?\])*>|<\?[^>]*\?>|\s)*", re.S | re.I)
_SVG_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?svg[\s/>]")
_HTML_START = re.compile(rb"\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>])", re.S | re.I)

# Formats whose detected value may legitimately differ from the declared one.
# (declared, detected) pairs that are accepted as the same content family.
COMPATIBLE: set[tuple[str, str]] = {
    ("mov", "mp4"),
    ("mp4", "mov"),
    ("m4v", "mp4"),  # .m4v files often carry generic ISO brands (isom, mp42)
    ("mp4", "m4v"),
    ("m4v", "mov"),
    ("m4a", "mp4"),  # an .m4a with generic brands and no track table in reach
    ("mp4", "m4a"),  # an audio-only .mp4
    ("aac", "m4a"),  # AAC in MP4 named .aac
    ("3gp", "mp4"),
    ("txt", "rtf"),  # RTF is plain text; reading it as text is harmless
}

ZIP_MAX_ENTRIES = 1000
ZIP_MAX_TOTAL_UNCOMPRESSED = 200 * 1024 * 1024
ZIP_MAX_RATIO = 100
# Ratio is only enforced for entries bigger than this (tiny XML parts compress wildly).
ZIP_RATIO_MIN_SIZE = 1024 * 1024
SVG_MAX_BYTES = 50 * 1024 * 1024

_READ_ERRORS = (OSError, ValueError, EOFError, KeyError, IndexError, struct.error, RuntimeError,
                NotImplementedError, zipfile.BadZipFile, zlib.error, MemoryError)


def _mpeg_audio_kind(head: bytes, offset: int = 0) -> str | None:
    """'mp3' for an MPEG audio frame sync, 'aac' for ADTS, else None."""
    if len(head) < offset + 4:
        return None
    b0, b1, b2 = head[offset], head[offset + 1], head[offset + 2]
    if b0 != 0xFF or (b1 & 0xE0) != 0xE0:
        return None
    if (b1 & 0xF6) == 0xF0:  # 12-bit sync, layer 00 -> ADTS AAC
        sampling_index = (b2 >> 2) & 0x0F
        return "aac" if sampling_index < 13 else None
    version = (b1 >> 3) & 0x03
    layer = (b1 >> 1) & 0x03
    bitrate_index = (b2 >> 4) & 0x0F
    sample_rate_index = (b2 >> 2) & 0x03
    if version == 0x01 or layer == 0 or bitrate_index == 0x0F or sample_rate_index == 0x03:
        return None
    return "mp3"


def _id3_payload_offset(head: bytes) -> int:
    """Offset of the first byte after an ID3v2 tag (0 if there is none)."""
    if len(head) < 10 or head[:3] != b"ID3":
        return 0
    size = 0
    for b in head[6:10]:
        size = (size << 7) | (b & 0x7F)
    footer = 10 if head[5] & 0x10 else 0
    return 10 + size + footer


# ------------------------------------------------------------------ zip containers


def _content_types_kind(content_types: bytes) -> str | None:
    for marker, fmt in OOXML_MAIN_TYPES.items():
        if marker in content_types:
            return fmt
    return None


def _zip_kind(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > ZIP_MAX_ENTRIES * 10:
                return None
            by_name = {info.filename: info for info in infos}
            if "mimetype" in by_name:
                info = by_name["mimetype"]
                if info.file_size <= 256:
                    return ZIP_MIMETYPES.get(zf.read(info).strip())
            if "[Content_Types].xml" in by_name:
                info = by_name["[Content_Types].xml"]
                if info.file_size <= 1024 * 1024:
                    kind = _content_types_kind(zf.read(info))
                    if kind:
                        return kind
                for part, fmt in OOXML_MAIN_PARTS.items():
                    if part in by_name:
                        return fmt
    except zipfile.BadZipFile:
        # No central directory (a cut file, or only its head): read the local headers in order.
        try:
            with open(path, "rb") as fh:
                return _zip_kind_from_head(fh.read(HEAD_SIZE))
        except OSError:
            return None
    except _READ_ERRORS:
        return None
    return None


def _zip_kind_from_head(head: bytes) -> str | None:
    """Read the local file headers in the first bytes of a zip (ODF/EPUB put `mimetype` first;
    OOXML names its parts there, `[Content_Types].xml` often first): enough for a head or a cut file."""
    names: list[str] = []
    for match in _ZIP_LOCAL_HEADER.finditer(head):
        offset = match.start()
        if offset + 30 > len(head) or len(names) >= 256:
            break
        method = struct.unpack_from("<H", head, offset + 8)[0]
        csize, _usize, nlen, xlen = struct.unpack_from("<IIHH", head, offset + 18)
        name = head[offset + 30:offset + 30 + nlen].decode("utf-8", "replace")
        start = offset + 30 + nlen + xlen
        data = head[start:start + csize]
        names.append(name)
        if name == "mimetype" and method == 0 and csize:
            return ZIP_MIMETYPES.get(data.strip())
        if name == "[Content_Types].xml" and csize and len(data) == csize:
            try:
                raw = zlib.decompressobj(-15).decompress(data, 1024 * 1024) if method == 8 else data
            except zlib.error:
                raw = b""
            kind = _content_types_kind(raw)
            if kind:
                return kind
        if name in OOXML_MAIN_PARTS:
            return OOXML_MAIN_PARTS[name]
    if "_rels/.rels" in names or "[Content_Types].xml" in names:
        for prefix, fmt in OOXML_FOLDERS:
            if any(name.startswith(prefix) for name in names):
                return fmt
    return None


# ------------------------------------------------------------------ OLE, ASF, EBML, ISO-BMFF


def _ole_kind(head: bytes, path: Path | None, hint: str | None) -> str | None:
    names: list[str] = []
    try:
        import olefile

        source = str(path) if path is not None else head
        with olefile.OleFileIO(source) as ole:
            names = [entry[-1].lower() for entry in ole.listdir(streams=True, storages=False)]
    except Exception:  # olefile raises assorted errors on damaged or partial files
        if path is not None:
            return None
        # Only the head of the file: look for the directory entry names (UTF-16LE) it holds.
        lowered = head.lower()
        names = [name for name in (*OLE_STREAMS, OLE_ENCRYPTED) if name.encode("utf-16-le") in lowered]
        if not names:
            return hint if hint in OLE_FORMATS else None
    if OLE_ENCRYPTED in names:
        return ENCRYPTED
    for name in names:
        if name in OLE_STREAMS:
            return OLE_STREAMS[name]
    return None


def _asf_kind(head: bytes, path: Path | None) -> str:
    """The format whose stream type the header declares ('wma': audio only; else 'wmv')."""
    size = int.from_bytes(head[16:24], "little") if len(head) >= 24 else 0
    header = head[:size] if size else head
    if path is not None and len(header) < size <= ASF_HEADER_MAX:
        with open(path, "rb") as fh:
            header = fh.read(size)
    for fmt, signature in _ASF_STREAMS:
        if signature.media in header:
            return fmt
    return _ASF_DEFAULT


def _ebml_vint(data: bytes, pos: int, keep_marker: bool) -> tuple[int, int]:
    first = data[pos]
    length = 1
    while length <= 8 and not first & (0x80 >> (length - 1)):
        length += 1
    if length > 8 or pos + length > len(data):
        raise ValueError("bad EBML vint")
    value = first if keep_marker else first & (0xFF >> length)
    for b in data[pos + 1:pos + length]:
        value = (value << 8) | b
    return value, pos + length


def _ebml_kind(head: bytes) -> str | None:
    """Matroska or WebM from the DocType element of the EBML header."""
    try:
        _id, pos = _ebml_vint(head, 0, keep_marker=True)
        size, pos = _ebml_vint(head, pos, keep_marker=False)
        end = min(len(head), pos + size)
        while pos < end:
            element, pos = _ebml_vint(head, pos, keep_marker=True)
            length, pos = _ebml_vint(head, pos, keep_marker=False)
            if element == 0x4282:
                return EBML_DOCTYPES.get(head[pos:pos + length].rstrip(b"\x00"))
            pos += length
    except (ValueError, IndexError):
        return None
    return None


def _boxes(data: bytes, start: int = 0, end: int | None = None):
    """(type, payload start, payload end) of the ISO-BMFF boxes in data[start:end]."""
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        size = int.from_bytes(data[pos:pos + 4], "big")
        kind = data[pos + 4:pos + 8]
        header = 8
        if size == 1 and pos + 16 <= end:
            size, header = int.from_bytes(data[pos + 8:pos + 16], "big"), 16
        elif size == 0:
            size = end - pos
        if size < header:
            return
        yield kind, pos + header, min(pos + size, end)
        pos += size


def _bmff_moov(head: bytes, path: Path | None) -> bytes | None:
    """The moov box (from the head, or found by walking the file's top-level boxes)."""
    for kind, start, stop in _boxes(head):
        if kind == b"moov" and (stop < len(head) or path is None):
            return head[start:stop]
    if path is None:
        return None
    with open(path, "rb") as fh:
        pos = 0
        for _ in range(1024):
            fh.seek(pos)
            header = fh.read(16)
            if len(header) < 8:
                return None
            size, kind, skip = int.from_bytes(header[:4], "big"), header[4:8], 8
            if size == 1 and len(header) == 16:
                size, skip = int.from_bytes(header[8:16], "big"), 16
            if size < skip:
                return None
            if kind == b"moov":
                if size - skip > BMFF_MOOV_MAX:
                    return None
                fh.seek(pos + skip)
                return fh.read(size - skip)
            pos += size
    return None


def _bmff_handlers(moov: bytes) -> set[bytes]:
    handlers: set[bytes] = set()
    for kind, start, stop in _boxes(moov):
        if kind != b"trak":
            continue
        for kind2, start2, stop2 in _boxes(moov, start, stop):
            if kind2 != b"mdia":
                continue
            for kind3, start3, _stop3 in _boxes(moov, start2, stop2):
                if kind3 == b"hdlr":  # version/flags (4), pre_defined (4), handler_type (4)
                    handlers.add(moov[start3 + 8:start3 + 12])
    return handlers


def _bmff_kind(head: bytes, path: Path | None) -> str:
    size = int.from_bytes(head[:4], "big")
    major = head[8:12]
    brands = {major} | {head[i:i + 4] for i in range(16, min(size, len(head), 256) - 3, 4)}
    for fmt, signature in _BRANDS:
        if signature.matches(major, brands):
            return fmt
    try:
        moov = _bmff_moov(head, path)
        handlers = _bmff_handlers(moov) if moov else set()
    except _READ_ERRORS:
        handlers = set()
    if handlers and b"soun" in handlers and b"vide" not in handlers:
        return BMFF_SOUND_ONLY  # generic brands (isom, mp42) and sound only: what phones record
    return _BMFF_OTHER


# ------------------------------------------------------------------ text


def _is_text(data: bytes) -> bool:
    if not data or b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the sniff window is fine.
        cut = exc.start >= len(data) - 3 and exc.reason == "unexpected end of data"
        # Legacy 8-bit text (Windows-1252 / Latin-1): mostly ASCII, every byte defined.
        if not cut and not _is_legacy_text(data):
            return False
    # Reject most control characters (allow tab, LF, CR, FF).
    controls = sum(1 for b in data if b < 32 and b not in (9, 10, 12, 13))
    return controls == 0


def _is_legacy_text(data: bytes) -> bool:
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    high = sum(1 for b in data if b >= 0x80)
    return high <= len(data) * 0.3


def is_svg_document(head: bytes) -> bool:
    """The first element after the XML prolog (declaration, comments, DOCTYPE) is <svg>."""
    text = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    prolog = _SVG_PROLOG.match(text)
    return bool(_SVG_ROOT.match(text, prolog.end() if prolog else 0))


def _text_kind(head: bytes, hint: str | None) -> str:
    if hint in ("txt", *NAMED_TEXT_FORMATS):
        return hint
    if is_svg_document(head):
        return "svg"
    if hint is None and _HTML_START.match(head[3:] if head.startswith(b"\xef\xbb\xbf") else head):
        return "html"
    return "txt"


def text_to_utf8(path: Path) -> bool:
    """Rewrite a text file as UTF-8 (engines expect it); returns True when it was re-encoded."""
    data = Path(path).read_bytes()
    try:
        data.decode("utf-8")
        return False
    except UnicodeDecodeError:
        pass
    Path(path).write_text(data.decode("cp1252", errors="replace"), encoding="utf-8")
    return True


# ------------------------------------------------------------------ the rules


def _hint(name_or_format: str | None) -> str | None:
    """Canonical format named by a file name, an extension or a format name."""
    if not name_or_format:
        return None
    value = str(name_or_format)
    suffix = PurePosixPath(value.replace("\\", "/")).suffix
    return canonical(suffix) if suffix else canonical(value)


def _sniff(head: bytes, hint: str | None, path: Path | None) -> str | None:
    """The format of content starting with ``head``; ``path`` (the whole file) allows reading
    beyond the head (zip directory, moov box, ASF header, OLE directory)."""
    if not head:
        return None
    # Containers: the prefix says which algorithm reads the catalogue's per-format data.
    if head.startswith(ZIP_MAGIC):
        return _zip_kind(path) if path is not None else _zip_kind_from_head(head)
    if head.startswith(OLE_MAGIC):
        return _ole_kind(head, path, hint)
    if head.startswith(ASF_GUID):
        return _asf_kind(head, path)
    if head.startswith(EBML_MAGIC):
        return _ebml_kind(head)
    offset, ftyp = sig.BMFF_FTYP
    if len(head) >= 12 and head[offset:offset + len(ftyp)] == ftyp:
        return _bmff_kind(head, path)
    # Simple magics (the catalogue's Magic signatures), with their structural checks.
    for fmt, signature in _MAGICS:
        if signature.matches(head) and (signature.check is None or _CHECKS[signature.check](head)):
            return fmt
    # Content heuristics.
    kind = _mpeg_audio_kind(head)
    if kind:
        return kind
    if _is_text(head[:TEXT_SNIFF_SIZE]):
        return _text_kind(head, hint)
    return None


def _is_bmp(head: bytes) -> bool:
    """BITMAPFILEHEADER: reserved fields zero, DIB header size plausible."""
    if len(head) < 26:
        return False
    dib_size = int.from_bytes(head[14:18], "little")
    return head[6:10] == b"\x00\x00\x00\x00" and dib_size in (12, 16, 40, 52, 56, 64, 108, 124)


def _id3_then_adts(head: bytes) -> bool:
    offset = _id3_payload_offset(head)
    return offset < len(head) and _mpeg_audio_kind(head, offset) == "aac"


def _qt_atom_size(head: bytes) -> bool:
    return len(head) >= 8 and int.from_bytes(head[:4], "big") >= 8


def _is_ico(head: bytes) -> bool:
    if len(head) < 22 or head[:4] != b"\x00\x00\x01\x00":
        return False
    count = int.from_bytes(head[4:6], "little")
    if not 1 <= count <= 256:
        return False
    reserved, planes, bits = head[9], int.from_bytes(head[10:12], "little"), int.from_bytes(head[12:14], "little")
    offset = int.from_bytes(head[18:22], "little")
    return reserved == 0 and planes in (0, 1) and bits in (0, 1, 2, 4, 8, 16, 24, 32) and offset >= 6 + 16 * count


# The structural checks a catalogue Magic may name.
_CHECKS = {"bmp_header": _is_bmp, "icon_directory": _is_ico, "id3_then_adts": _id3_then_adts,
           "qt_atom_size": _qt_atom_size}


def detect_format(path: Path, hint: str | None = None) -> str | None:
    """Canonical format of a file judged by its content; None if unknown/empty.

    ``hint`` (a file name, extension or format name) only tells text formats apart.
    """
    kind = _detect_path(path, hint)
    return None if kind == ENCRYPTED else kind


def _detect_path(path: Path, hint: str | None) -> str | None:
    path = Path(path)
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode) or st.st_size == 0:
            return None
        with open(path, "rb") as fh:
            head = fh.read(HEAD_SIZE)
        return _sniff(head, _hint(hint), path)
    except OSError:
        return None


def detect_head(head: bytes, name: str | None = None) -> str | None:
    """The format of a file from its first bytes (up to 64 KiB) and its name: the page's pre-flight.

    The upload is still checked in full (``check_upload``); a head cannot show a zip's directory,
    a late moov box or an OLE directory beyond it.
    """
    kind = _sniff(bytes(head[:HEAD_SIZE]), _hint(name), None)
    return None if kind == ENCRYPTED else kind


def is_isobmff(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
    except OSError:
        return False
    return len(head) >= 12 and head[4:8] == b"ftyp"


def formats_compatible(declared: str, detected: str) -> bool:
    return declared == detected or (declared, detected) in COMPATIBLE


def check_upload(path: Path, claimed_fmt: str) -> str:
    """Validate an uploaded file against its declared format.

    Returns the detected canonical format. Raises EngineError (``empty_file``,
    ``unsupported_content``, ``content_mismatch``, ``encrypted_document``) or UnsafeInput
    (``zip_bomb``, ``unsafe_archive``, ``unsafe_svg``).
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError:
        raise EngineError("El archivo no existe", code="missing_file") from None
    if size == 0:
        raise EngineError("El archivo está vacío", code="empty_file")
    declared = canonical(claimed_fmt)
    if declared is None:
        raise EngineError("Formato no soportado", code="unsupported_format",
                          detail=f"declared {claimed_fmt!r}")
    detected = _detect_path(path, declared)
    if detected == ENCRYPTED:
        raise EngineError("El documento está protegido con contraseña", code="encrypted_document")
    if detected is None:
        raise EngineError("No se reconoce el contenido del archivo", code="unsupported_content")
    if not formats_compatible(declared, detected):
        raise EngineError("El archivo no coincide con el formato declarado",
                          code="content_mismatch",
                          detail=f"declared {declared}, detected {detected}")
    if detected in ZIP_CONTAINERS:
        check_zip_container(path)
    if detected == "svg":
        check_svg(path)
    return detected


def check_svg(path: Path) -> None:
    """Refuse SVG documents that declare entities or an internal DTD subset (billion laughs,
    external entities); CairoSVG then renders with external resources off."""
    with open(path, "rb") as fh:
        data = fh.read(SVG_MAX_BYTES + 1)
    if len(data) > SVG_MAX_BYTES:
        raise UnsafeInput("El SVG es demasiado grande", code="unsafe_svg", detail="size")
    lowered = data.lower()
    if b"<!entity" in lowered or re.search(rb"<!doctype[^>\[]*\[", lowered):
        raise UnsafeInput("El SVG declara entidades XML, que no se admiten", code="unsafe_svg",
                          detail="DOCTYPE internal subset / ENTITY")


def _unsafe_name(name: str) -> bool:
    if not name or "\x00" in name or "\\" in name:
        return True
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return True
    return ".." in PurePosixPath(name).parts
def check_zip_container(path: Path, max_entries: int = ZIP_MAX_ENTRIES,
                        max_total_uncompressed: int = ZIP_MAX_TOTAL_UNCOMPRESSED,
                        max_ratio: float = ZIP_MAX_RATIO) -> None:
    """Reject zip bombs and path tricks in OOXML/ODF containers.

    Entries are actually decompressed (streamed, bounded) because header sizes can lie.
    """
    bomb = UnsafeInput("El documento comprimido es demasiado grande o sospechoso",
                       code="zip_bomb")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > max_entries:
                bomb.detail = f"{len(infos)} entries"
                raise bomb
            declared_total = sum(i.file_size for i in infos)
            if declared_total > max_total_uncompressed:
                bomb.detail = f"declared {declared_total} bytes"
                raise bomb
            total = 0
            for info in infos:
                if _unsafe_name(info.filename):
                    raise UnsafeInput("El documento contiene rutas no permitidas",
                                      code="unsafe_archive", detail=info.filename)
                if info.flag_bits & 0x1:
                    raise UnsafeInput("El documento está cifrado", code="encrypted_archive")
                if info.is_dir():
                    continue
                entry = 0
                with zf.open(info) as fh:
                    while chunk := fh.read(1024 * 1024):
                        entry += len(chunk)
                        total += len(chunk)
                        if total > max_total_uncompressed:
                            bomb.detail = "actual uncompressed size over limit"
                            raise bomb
                        if entry > ZIP_RATIO_MIN_SIZE and \
                                entry > max_ratio * max(info.compress_size, 1):
                            bomb.detail = f"ratio over {max_ratio} in {info.filename}"
                            raise bomb
    except UnsafeInput:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
            NotImplementedError, RuntimeError) as exc:
        raise EngineError("El documento está dañado", code="corrupt_input",
                          detail=str(exc)) from exc
