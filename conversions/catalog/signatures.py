"""Content signatures: how each catalogue format is recognised by its bytes (data only).

Pure Python. Every ``formats.Format`` carries a tuple of these; ``conversions.detection`` reads
them and keeps the algorithms (ISO-BMFF box walking, EBML parsing, zip and OLE directories, MPEG
audio frame headers, text sniffing). A format with a simple magic is one catalogue entry: its
``Magic`` is matched generically.

Kinds:
- ``Magic``: bytes at fixed offsets (all must match), optionally anywhere in the first ``within``
  bytes, optionally with bytes that must appear in the first N bytes (``contains``), optionally
  confirmed by a named structural check in detection (``check``: a BMP file header, an icon directory).
- ``Brand``: an ISO-BMFF ``ftyp`` major brand (or brand prefix), optionally requiring a compatible brand.
- ``EbmlDocType``: the DocType of an EBML (Matroska family) header.
- ``AsfStream``: an ASF stream type GUID in the ASF header (audio only -> wma).
- ``ZipMimetype`` / ``OoxmlPart``: what a zip package says it is (ODF/EPUB ``mimetype`` entry; OOXML
  main content type, main part, part folder).
- ``OleStream``: the directory entry (stream) of an OLE2 compound file that holds the document.
- ``Heuristic``: no signature in the bytes; detection decides by content rules (``kind`` names one of
  detection's heuristics: text, text told apart by its name, SVG root element, HTML start,
  MPEG audio frame sync, ISO-BMFF track handlers).
"""

from __future__ import annotations

from dataclasses import dataclass

# Container prefixes: they say which algorithm reads the rest (the per-format data is below).
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
EBML_MAGIC = b"\x1a\x45\xdf\xa3"
ASF_HEADER_GUID = bytes.fromhex("3026B2758E66CF11A6D900AA0062CE6C")
BMFF_FTYP = (4, b"ftyp")  # offset, box type of the first box

ASF_AUDIO_MEDIA = bytes.fromhex("409E69F84D5BCF11A8FD00805F5C442B")
ASF_VIDEO_MEDIA = bytes.fromhex("C0EF19BC4D5BCF11A8FD00805F5C442B")

# ISO-BMFF brands of the HEIF image family (HEVC or generic image items).
HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1", b"mif2")
AVIF_BRANDS = (b"avif", b"avis")


@dataclass(frozen=True)
class Magic:
    parts: tuple[tuple[int, bytes], ...]  # (offset, bytes), all must match
    within: int = 0  # >0: the first part may start anywhere in the first ``within`` bytes
    contains: tuple[tuple[bytes, int], ...] = ()  # (bytes, window): must occur in head[:window]
    check: str | None = None  # a further structural check in detection (by name)

    @property
    def specificity(self) -> int:
        """More constraints first (RIFF+WEBP before a bare RIFF; OggS+OpusHead before OggS)."""
        return len(self.parts) + len(self.contains) + (1 if self.check else 0)

    def matches(self, head: bytes) -> bool:
        (offset, first), *rest = self.parts
        if self.within:
            if first not in head[:self.within]:
                return False
        elif head[offset:offset + len(first)] != first:
            return False
        for offset, data in rest:
            if head[offset:offset + len(data)] != data:
                return False
        return all(data in head[:window] for data, window in self.contains)


def magic(*parts: bytes | tuple[int, bytes], within: int = 0, contains: tuple[tuple[bytes, int], ...] = (),
          check: str | None = None) -> Magic:
    """``magic(b"GIF89a")``, ``magic(b"RIFF", (8, b"WEBP"))``: bare bytes are at offset 0."""
    normal = tuple(part if isinstance(part, tuple) else (0, part) for part in parts)
    return Magic(normal, within, contains, check)


@dataclass(frozen=True)
class Brand:
    brands: tuple[bytes, ...] = ()  # major brands (4 bytes each)
    prefixes: tuple[bytes, ...] = ()  # major brand prefixes (3gp4, 3gp5, 3g2a … -> b"3gp", b"3g2")
    compatible: tuple[bytes, ...] = ()  # also required among the compatible brands
    other: bool = False  # any ftyp no other format claims

    def matches(self, major: bytes, compatible: set[bytes]) -> bool:
        if self.other:
            return False
        if not (major in self.brands or any(major.startswith(p) for p in self.prefixes)):
            return False
        return not self.compatible or bool(compatible & set(self.compatible))


@dataclass(frozen=True)
class EbmlDocType:
    doctype: bytes


@dataclass(frozen=True)
class AsfStream:
    media: bytes  # stream type GUID
    default: bool = False  # an ASF file with neither stream type found


@dataclass(frozen=True)
class ZipMimetype:
    mimetype: bytes  # the stored ``mimetype`` entry (ODF, EPUB)


@dataclass(frozen=True)
class OoxmlPart:
    content_type: bytes  # main part content type in [Content_Types].xml (a suffix is enough)
    main_part: str  # e.g. word/document.xml
    folder: str  # e.g. word/


@dataclass(frozen=True)
class OleStream:
    streams: tuple[str, ...]  # lower-case directory entry names


@dataclass(frozen=True)
class Heuristic:
    kind: str  # one of detection.HEURISTICS
    note: str = ""


Signature = Magic | Brand | EbmlDocType | AsfStream | ZipMimetype | OoxmlPart | OleStream | Heuristic
# Signatures that name bytes of the file (as opposed to a content heuristic).
BINARY_KINDS = (Magic, Brand, EbmlDocType, AsfStream, ZipMimetype, OoxmlPart, OleStream)
