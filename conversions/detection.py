"""Content sniffing by magic bytes and upload sanity checks.

Pure Python (stdlib only); never trusts file names or client-declared MIME types.
"""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path, PurePosixPath

from .engines.base import EngineError, UnsafeInput
from .formats import canonical

HEAD_SIZE = 65536
TEXT_SNIFF_SIZE = 65536

ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
ASF_GUID = bytes.fromhex("3026B2758E66CF11A6D900AA0062CE6C")
QT_BRANDS = {b"qt  "}
AUDIO_MP4_BRANDS = {b"M4A ", b"M4B ", b"M4P "}

# Formats whose detected value may legitimately differ from the declared one.
# (declared, detected) pairs that are accepted as the same content family.
COMPATIBLE: set[tuple[str, str]] = {
    ("mov", "mp4"),
    ("mp4", "mov"),
    ("aac", "mp4"),  # .m4a files often carry generic ISO brands (isom, mp42)
    ("mp4", "aac"),
    ("aac", "mov"),
    ("txt", "rtf"),  # RTF is plain text; reading it as text is harmless
}

ZIP_MAX_ENTRIES = 1000
ZIP_MAX_TOTAL_UNCOMPRESSED = 200 * 1024 * 1024
ZIP_MAX_RATIO = 100
# Ratio is only enforced for entries bigger than this (tiny XML parts compress wildly).
ZIP_RATIO_MIN_SIZE = 1024 * 1024


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


def _zip_kind(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            if len(names) > ZIP_MAX_ENTRIES * 10:
                return None
            name_set = set(names)
            if "mimetype" in name_set:
                info = zf.getinfo("mimetype")
                if info.file_size <= 256:
                    mimetype = zf.read("mimetype").strip()
                    if mimetype == ODT_MIMETYPE:
                        return "odt"
                    return None
            if "[Content_Types].xml" in name_set and any(n.startswith("word/") for n in names):
                return "docx"
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, RuntimeError,
            NotImplementedError, EOFError):
        return None
    return None


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


def detect_format(path: Path) -> str | None:
    """Canonical format of a file judged by its content only; None if unknown/empty."""
    path = Path(path)
    try:
        st = path.stat()
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode) or st.st_size == 0:
        return None
    with open(path, "rb") as fh:
        head = fh.read(HEAD_SIZE)

    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head.startswith(b"BM") and len(head) >= 26:
        # BITMAPFILEHEADER: reserved fields zero, DIB header size plausible.
        dib_size = int.from_bytes(head[14:18], "little")
        if head[6:10] == b"\x00\x00\x00\x00" and dib_size in (12, 16, 40, 52, 56, 64, 108, 124):
            return "bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[:4] == b"RIFF" and len(head) >= 12:
        kind = head[8:12]
        if kind == b"WEBP":
            return "webp"
        if kind == b"WAVE":
            return "wav"
        if kind == b"AVI ":
            return "avi"
        return None
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(path)
    if head.startswith(b"{\\rtf") or head.startswith(b"\xef\xbb\xbf{\\rtf"):
        return "rtf"
    if head.startswith(b"fLaC"):
        return "flac"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(ASF_GUID):
        return "wmv"
    if head.startswith(b"FLV\x01"):
        return "flv"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in QT_BRANDS:
            return "mov"
        if brand in AUDIO_MP4_BRANDS:
            return "aac"
        return "mp4"
    if len(head) >= 8 and head[4:8] in (b"moov", b"mdat", b"wide", b"free") and \
            int.from_bytes(head[:4], "big") >= 8:
        return "mov"  # old QuickTime files without ftyp
    if head.startswith(b"ID3"):
        offset = _id3_payload_offset(head)
        kind = _mpeg_audio_kind(head, offset) if offset < len(head) else None
        return kind or "mp3"
    kind = _mpeg_audio_kind(head)
    if kind:
        return kind
    if _is_text(head[:TEXT_SNIFF_SIZE]):
        return "txt"
    return None


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
    ``unsupported_content``, ``content_mismatch``) or UnsafeInput (``zip_bomb``,
    ``unsafe_archive``).
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
    detected = detect_format(path)
    if detected is None:
        raise EngineError("No se reconoce el contenido del archivo", code="unsupported_content")
    if not formats_compatible(declared, detected):
        raise EngineError("El archivo no coincide con el formato declarado",
                          code="content_mismatch",
                          detail=f"declared {declared}, detected {detected}")
    if detected in ("docx", "odt"):
        check_zip_container(path)
    return detected


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
