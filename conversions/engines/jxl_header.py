"""The dimensions of a JPEG XL image from its SizeHeader, read before any decoding.

pillow-jxl-plugin decodes the whole image when the file is opened, before Pillow's pixel cap can
look at the size; the engine reads the size here first (ISO/IEC 18181-1, SizeHeader: bare
codestream ``FF 0A`` or the ISO-BMFF container's ``jxlc`` / first ``jxlp`` box).
"""

from __future__ import annotations

CODESTREAM = b"\xff\x0a"
CONTAINER = b"\x00\x00\x00\x0cJXL \r\n\x87\n"
# SizeHeader.ratio -> width = height * num / den
RATIOS = {1: (1, 1), 2: (12, 10), 3: (4, 3), 4: (3, 2), 5: (16, 9), 6: (5, 4), 7: (2, 1)}


class _Bits:
    """Least-significant-bit-first reader (the JPEG XL bit order)."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def read(self, count: int) -> int:
        value = 0
        for index in range(count):
            byte = self.pos >> 3
            if byte >= len(self.data):
                raise ValueError("JPEG XL header cut short")
            value |= ((self.data[byte] >> (self.pos & 7)) & 1) << index
            self.pos += 1
        return value

    def u32_size(self) -> int:
        """U32(1 + u(9), 1 + u(13), 1 + u(18), 1 + u(30))."""
        return 1 + self.read((9, 13, 18, 30)[self.read(2)])


def _codestream(data: bytes) -> bytes | None:
    if data.startswith(CODESTREAM):
        return data
    if not data.startswith(CONTAINER):
        return None
    pos = 0
    while pos + 8 <= len(data):
        size, kind, header = int.from_bytes(data[pos:pos + 4], "big"), data[pos + 4:pos + 8], 8
        if size == 1 and pos + 16 <= len(data):
            size, header = int.from_bytes(data[pos + 8:pos + 16], "big"), 16
        if kind == b"jxlc":
            return data[pos + header:]
        if kind == b"jxlp":
            return data[pos + header + 4:]  # a 4-byte part index, then the codestream
        if size == 0 or size < header:
            return None
        pos += size
    return None


def dimensions(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the first bytes of a JPEG XL file; None if they do not say."""
    stream = _codestream(data)
    if stream is None or not stream.startswith(CODESTREAM):
        return None
    bits = _Bits(stream[2:])
    try:
        small = bits.read(1)
        height = (bits.read(5) + 1) * 8 if small else bits.u32_size()
        ratio = bits.read(3)
        if ratio:
            num, den = RATIOS[ratio]
            width = height * num // den
        else:
            width = (bits.read(5) + 1) * 8 if small else bits.u32_size()
    except ValueError:
        return None
    return width, height
