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
           "webp": "WEBP", "heic": "HEIF", "avif": "AVIF", "ico": "ICO", "jxl": "JXL"}[fmt]
    if fmt == "heic":
        import pillow_heif

        pillow_heif.register_heif_opener()
    if fmt == "jxl":
        import pillow_jxl  # noqa: F401  (registers the JXL plugin)
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
             "ogg": ["-c:a", "libvorbis", "-f", "ogg"],
             "m4a": ["-c:a", "aac", "-f", "ipod"],
             "opus": ["-c:a", "libopus", "-f", "opus"],
             "wma": ["-c:a", "wmav2", "-f", "asf"],
             "aiff": ["-c:a", "pcm_s16be", "-f", "aiff"]}[fmt]
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
        "mkv": ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "matroska"],
        "webm": ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-pix_fmt", "yuv420p",
                 "-c:a", "libopus", "-f", "webm"],
        "3gp": ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "3gp"],
        "mpeg": ["-c:v", "mpeg2video", "-r", "25", "-c:a", "mp2", "-f", "mpeg"],
        "m4v": ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "ipod"],
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
    writer = {"docx": "docx", "odt": "odt", "rtf": "rtf", "md": "gfm", "html": "html5", "epub": "epub3"}[fmt]
    extra = ["-s"] if fmt in ("rtf", "html") else []
    if fmt in ("html", "epub"):
        extra += ["--metadata", "title=Muestra"]
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
    """Any supported source format (the office families need LibreOffice for doc, xls, ppt, pptx)."""
    if fmt in ("jpg", "png", "bmp", "tiff", "webp", "heic", "avif", "ico", "jxl"):
        return make_image(path, fmt)
    if fmt == "svg":
        return make_svg(path)
    if fmt == "gif":
        return make_video_gif(path)  # animated, 1 s
    if fmt in ("mp3", "wav", "flac", "aac", "ogg", "m4a", "opus", "wma", "aiff"):
        return make_audio(path, fmt)
    if fmt in ("mp4", "mov", "avi", "wmv", "flv", "mkv", "webm", "3gp", "mpeg", "m4v"):
        return make_video(path, fmt)
    if fmt == "pdf":
        return make_pdf(path)
    if fmt in ("docx", "odt", "rtf", "txt", "md", "html", "epub"):
        return make_office(path, fmt)
    if fmt in ("csv", "xlsx", "ods"):
        return make_spreadsheet(path, fmt)
    if fmt in ("odp", "pptx"):
        return make_presentation(path, fmt)
    if fmt in ("doc", "xls", "ppt"):
        return make_legacy_office(path, fmt)
    raise ValueError(fmt)


SVG_TEXT = ('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80" '
            'viewBox="0 0 120 80"><rect width="120" height="80" fill="#c81e1e"/>'
            '<circle cx="40" cy="40" r="25" fill="#1428dc"/></svg>\n')


def make_svg(path: Path, text: str = SVG_TEXT) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# Rows of the sample spreadsheets: the marker, text, numbers; a second sheet (PDF prints every sheet).
SHEET_ROWS = [["Nombre", "Cantidad", "Nota"], ["uno", 1, MARKER], ["dos", 2, "ñandú"]]
SECOND_SHEET = [["Hoja dos", "segunda hoja 7788"]]


def make_spreadsheet(path: Path, fmt: str, rows: list | None = None, second: list | None = None) -> Path:
    """csv (text), xlsx (openpyxl) or ods (a minimal hand-written ODF package), two sheets where possible."""
    rows = rows if rows is not None else SHEET_ROWS
    second = second if second is not None else SECOND_SHEET
    if fmt == "csv":
        import csv

        with open(path, "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows(rows)
        return path
    if fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        wb.active.title = "Datos"
        for row in rows:
            wb.active.append(row)
        extra = wb.create_sheet("Segunda")
        for row in second:
            extra.append(row)
        wb.save(path)
        return path

    def cell(value) -> str:
        from xml.sax.saxutils import escape

        if isinstance(value, (int, float)):
            return (f'<table:table-cell office:value-type="float" office:value="{value}">'
                    f"<text:p>{value}</text:p></table:table-cell>")
        return f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}</text:p></table:table-cell>'

    def table(name: str, data: list) -> str:
        body = "".join("<table:table-row>" + "".join(cell(v) for v in row) + "</table:table-row>" for row in data)
        return f'<table:table table:name="{name}">{body}</table:table>'

    content = (_ODF_HEAD + "<office:body><office:spreadsheet>" + table("Datos", rows) + table("Segunda", second)
               + "</office:spreadsheet></office:body></office:document-content>")
    return _odf_package(path, "application/vnd.oasis.opendocument.spreadsheet", content)


_ODF_HEAD = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
             'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
             'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
             'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
             'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
             'xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" '
             'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" office:version="1.2">')


def _odf_package(path: Path, mimetype: str, content: str) -> Path:
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{mimetype}"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                '</manifest:manifest>')
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), mimetype, compress_type=zipfile.ZIP_STORED)
        zf.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
    return path


SLIDES = [f"Diapositiva uno {MARKER}", "Diapositiva dos 5566"]


def make_presentation(path: Path, fmt: str, slides: list[str] | None = None) -> Path:
    """odp (a minimal hand-written ODF package, one text frame per slide) or pptx (LibreOffice from it)."""
    from xml.sax.saxutils import escape

    slides = slides if slides is not None else SLIDES
    pages = "".join(
        f'<draw:page draw:name="p{i + 1}"><draw:frame svg:x="2cm" svg:y="2cm" svg:width="20cm" svg:height="4cm">'
        f"<draw:text-box><text:p>{escape(text)}</text:p></draw:text-box></draw:frame></draw:page>"
        for i, text in enumerate(slides))
    content = (_ODF_HEAD + "<office:body><office:presentation>" + pages
               + "</office:presentation></office:body></office:document-content>")
    if fmt == "odp":
        return _odf_package(path, "application/vnd.oasis.opendocument.presentation", content)
    odp = _odf_package(path.with_name(path.stem + "-source.odp"), "application/vnd.oasis.opendocument.presentation",
                       content)
    return soffice_convert(odp, path, {"pptx": "pptx:Impress MS PowerPoint 2007 XML"}[fmt])


def make_legacy_office(path: Path, fmt: str) -> Path:
    """doc / xls / ppt written by LibreOffice from a docx / ods / odp sample."""
    if fmt == "doc":
        source = make_office(path.with_name(path.stem + "-source.docx"), "docx")
    elif fmt == "xls":
        source = make_spreadsheet(path.with_name(path.stem + "-source.ods"), "ods")
    else:
        source = make_presentation(path.with_name(path.stem + "-source.odp"), "odp")
    filters = {"doc": "doc:MS Word 97", "xls": "xls:MS Excel 97", "ppt": "ppt:MS PowerPoint 97"}
    return soffice_convert(source, path, filters[fmt])


def soffice_convert(src: Path, dst: Path, convert_to: str) -> Path:
    """Convert with a throwaway LibreOffice profile (test fixtures only)."""
    import shutil
    import tempfile

    binary = shutil.which("soffice") or shutil.which("libreoffice")
    if not binary:
        import pytest

        pytest.skip("LibreOffice is needed to make this sample")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([binary, "--headless", "--norestore", f"-env:UserInstallation=file://{tmp}/profile",
                        "--convert-to", convert_to, "--outdir", tmp, str(src)], check=True, timeout=120,
                       capture_output=True)
        produced = Path(tmp) / f"{src.stem}.{convert_to.split(':')[0]}"
        shutil.move(str(produced), str(dst))
    return dst


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
    if fmt in ("txt", "csv", "md"):
        return path.read_text(encoding="utf-8", errors="replace")
    if fmt in ("html", "svg"):
        import html
        import re

        return html.unescape(re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8", errors="replace")))
    if fmt in ("xlsx", "ods", "pptx", "odp", "epub"):
        return zip_xml_text(path)
    import pypandoc

    return pypandoc.convert_file(str(path), "plain", format=fmt)


def file_contains_passwd(path: Path) -> bool:
    data = path.read_bytes()
    return b"root:x:0:0" in data or b"root:*:0:0" in data


def zip_xml_text(path: Path) -> str:
    """The words of every XML/XHTML part of a zip package (xlsx, ods, pptx, odp, epub), tags removed."""
    import html
    import re

    parts = []
    with zipfile.ZipFile(path) as zf:
        for name in sorted(zf.namelist()):
            if name.endswith((".xml", ".xhtml", ".html", ".htm")):
                text = zf.read(name).decode("utf-8", "replace")
                parts.append(html.unescape(re.sub(r"<[^>]+>", " ", text)))
    return re.sub(r"\s+", " ", " ".join(parts))
