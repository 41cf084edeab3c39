"""Generators of small sample files for engine/detection tests (no Django needed)."""

from __future__ import annotations

import io
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path

MARKER = "Anclora marcador 4242"
PASSWD_MARKERS = ("root:x:0:0", "root:*:0:0", "/bin/bash", "nologin")

HLS_PLAYLIST = (
    b"#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:10.0,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n"
)


def ffmpeg_exe() -> str:
    from conversions.engines.ffmpeg import ffmpeg_binary

    binary = ffmpeg_binary()
    assert binary, "ffmpeg not available"
    return binary


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                    *args], check=True, timeout=60)


# ------------------------------------------------------------------ images


def make_image(path: Path, fmt: str, size=(64, 48), alpha: bool = False) -> Path:
    from PIL import Image, ImageDraw

    mode = "RGBA" if alpha else "RGB"
    im = Image.new(mode, size, (200, 30, 30, 128) if alpha else (200, 30, 30))
    draw = ImageDraw.Draw(im)
    draw.rectangle((8, 8, size[0] // 2, size[1] // 2), fill=(20, 40, 220, 255))
    pil = {"jpg": "JPEG", "png": "PNG", "gif": "GIF", "bmp": "BMP", "tiff": "TIFF",
           "webp": "WEBP"}[fmt]
    if fmt in ("jpg", "bmp"):
        im = im.convert("RGB")
    im.save(path, pil)
    return path


def make_animated_gif(path: Path, frames: int = 5, size=(32, 32)) -> Path:
    from PIL import Image

    images = [Image.new("P", size, i % 2) for i in range(frames)]
    palette = [255, 0, 0, 0, 0, 255] + [0] * (256 * 3 - 6)
    for im in images:
        im.putpalette(palette)
    images[0].save(path, "GIF", save_all=True, append_images=images[1:], duration=40,
                   loop=0, optimize=False, disposal=1)
    return path


def make_many_frame_gif(path: Path, frames: int = 3000) -> Path:
    """Hand-made GIF with ``frames`` 1x1 frames (a few bytes each)."""
    out = io.BytesIO()
    out.write(b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0))
    out.write(b"\x00\x00\x00\xff\xff\xff")  # 2-colour global palette
    out.write(b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00")
    for i in range(frames):
        # Graphic control extension (delay 1) + image descriptor + LZW data for 1 pixel.
        out.write(b"\x21\xf9\x04\x04\x01\x00\x00\x00")
        out.write(b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0))
        out.write(b"\x02\x02" + (b"\x44\x01" if i % 2 else b"\x4c\x01") + b"\x00")
    out.write(b"\x3b")
    path.write_bytes(out.getvalue())
    return path


def png_bomb_header(path: Path, width: int = 30000, height: int = 30000) -> Path:
    """A tiny PNG declaring a huge canvas (IHDR crafted by hand, one empty IDAT)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat)
                     + chunk(b"IEND", b""))
    return path


# ------------------------------------------------------------------ audio / video


def make_wav(path: Path, seconds: float = 1.0) -> Path:
    _ffmpeg("-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
            "-c:a", "pcm_s16le", str(path))
    return path


def make_audio(path: Path, fmt: str, seconds: float = 1.0) -> Path:
    codec = {"mp3": ["-c:a", "libmp3lame", "-f", "mp3"],
             "wav": ["-c:a", "pcm_s16le", "-f", "wav"],
             "flac": ["-c:a", "flac", "-f", "flac"],
             "aac": ["-c:a", "aac", "-f", "adts"],
             "ogg": ["-c:a", "libvorbis", "-f", "ogg"]}[fmt]
    _ffmpeg("-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", *codec, str(path))
    return path


def make_video(path: Path, fmt: str = "mp4", seconds: float = 1.0,
               size: str = "96x64", rate: int = 10) -> Path:
    codec = {
        "mp4": ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                "-c:a", "aac", "-f", "mp4"],
        "mov": ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                "-c:a", "aac", "-f", "mov"],
        "avi": ["-c:v", "mpeg4", "-c:a", "libmp3lame", "-f", "avi"],
        "wmv": ["-c:v", "wmv2", "-c:a", "wmav2", "-f", "asf"],
        "flv": ["-c:v", "flv", "-c:a", "libmp3lame", "-ar", "44100", "-f", "flv"],
    }[fmt]
    _ffmpeg("-f", "lavfi", "-i", f"testsrc=duration={seconds}:size={size}:rate={rate}",
            "-f", "lavfi", "-i", f"sine=frequency=330:duration={seconds}",
            "-shortest", *codec, str(path))
    return path


def make_video_gif(path: Path, seconds: float = 1.0) -> Path:
    _ffmpeg("-f", "lavfi", "-i", f"testsrc=duration={seconds}:size=64x48:rate=10",
            "-f", "gif", str(path))
    return path


def media_duration(path: Path) -> float:
    """Duration (s) of decodable media, obtained by decoding it fully with ffmpeg."""
    proc = subprocess.run([ffmpeg_exe(), "-nostdin", "-hide_banner", "-nostats",
                           "-i", str(path), "-f", "null", "-"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    import re

    times = re.findall(r"time=(\d+):(\d+):(\d+(?:\.\d+)?)", proc.stderr)
    if not times:
        return 0.0
    h, m, s = times[-1]
    return int(h) * 3600 + int(m) * 60 + float(s)


# ------------------------------------------------------------------ documents


def markdown_text(marker: str = MARKER) -> str:
    return f"# Título\n\nPárrafo con {marker}.\n\n- uno\n- dos\n"


def make_txt(path: Path, text: str | None = None) -> Path:
    path.write_text(text if text is not None else markdown_text(), encoding="utf-8")
    return path


def make_office(path: Path, fmt: str, text: str | None = None) -> Path:
    """docx / odt / rtf / txt built with pandoc from a short markdown text."""
    import pypandoc

    text = text if text is not None else markdown_text()
    if fmt == "txt":
        return make_txt(path, text)
    writer = {"docx": "docx", "odt": "odt", "rtf": "rtf"}[fmt]
    extra = ["-s"] if fmt == "rtf" else []
    pypandoc.convert_text(text, writer, format="markdown", outputfile=str(path),
                          extra_args=extra)
    return path


def make_pdf(path: Path, text: str = MARKER, pages: int = 1) -> Path:
    import pymupdf

    doc = pymupdf.open()
    for number in range(pages):
        page = doc.new_page(width=300, height=200)
        page.insert_text((20, 50), f"{text} p{number + 1}", fontsize=12)
        page.draw_rect(pymupdf.Rect(20, 80, 120, 150), color=(0, 0, 1), fill=(1, 0, 0))
    doc.save(str(path))
    doc.close()
    return path


def make_sample(path: Path, fmt: str) -> Path:
    """Any supported source format."""
    if fmt in ("jpg", "png", "bmp", "tiff", "webp"):
        return make_image(path, fmt)
    if fmt == "gif":
        return make_video_gif(path)  # animated, 1 s
    if fmt in ("mp3", "wav", "flac", "aac", "ogg"):
        return make_audio(path, fmt)
    if fmt in ("mp4", "mov", "avi", "wmv", "flv"):
        return make_video(path, fmt)
    if fmt == "pdf":
        return make_pdf(path)
    if fmt in ("docx", "odt", "rtf", "txt"):
        return make_office(path, fmt)
    raise ValueError(fmt)


def make_docx_bomb_entries(path: Path, entries: int = 2000) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
        for i in range(entries):
            zf.writestr(f"word/media/f{i}.xml", "x")
    return path


def make_docx_bomb_ratio(path: Path, megabytes: int = 64) -> Path:
    """A docx with one huge, extremely compressible part (~64 MB -> ~64 KB)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
        with zf.open("word/media/huge.bin", "w") as fh:
            block = b"\x00" * (1024 * 1024)
            for _ in range(megabytes):
                fh.write(block)
    return path


def make_zip_traversal(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
        zf.writestr("../../evil.txt", "x")
    return path


def read_text_of(path: Path, fmt: str) -> str:
    """Text content of a document output (for marker checks)."""
    if fmt == "pdf":
        import pymupdf

        with pymupdf.open(str(path)) as doc:
            return "\n".join(page.get_text() for page in doc)
    if fmt == "txt":
        return path.read_text(encoding="utf-8", errors="replace")
    import pypandoc

    return pypandoc.convert_file(str(path), "plain", format=fmt)


def file_contains_passwd(path: Path) -> bool:
    data = path.read_bytes()
    return b"root:x:0:0" in data or b"root:*:0:0" in data
