"""Render an SVG file to PNG or PDF with CairoSVG, in a subprocess the caller can time out.

    python -I _svg_render.py input.svg output.(png|pdf) MAX_PIXELS

``unsafe`` stays false: XML entities and external entities are refused by defusedxml, and
external resources (images, CSS, <use> of other files) fetch nothing but ``data:`` URLs. The
raster surface is refused above MAX_PIXELS and the process' memory is capped.
"""

import resource
import sys

MEMORY_LIMIT = 2 * 1024**3


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print("usage: _svg_render.py input.svg output.(png|pdf) MAX_PIXELS", file=sys.stderr)
        return 2
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    from cairosvg import surface
    from cairosvg.parser import safe_fetch

    max_pixels = int(argv[3])

    class CappedPNG(surface.PNGSurface):
        def _create_surface(self, width, height):
            if width * height > max_pixels or width > 100_000 or height > 100_000:
                raise ValueError(f"SVG too large: {width:.0f}x{height:.0f}")
            return super()._create_surface(width, height)

    class CappedPDF(surface.PDFSurface):
        def _create_surface(self, width, height):
            if width > 14_400 or height > 14_400:  # PDF's page size limit (200 in) in points
                raise ValueError(f"SVG too large: {width:.0f}x{height:.0f}")
            return super()._create_surface(width, height)

    with open(argv[1], "rb") as fh:
        data = fh.read()
    kind = CappedPDF if argv[2].endswith(".pdf") else CappedPNG
    kind.convert(bytestring=data, write_to=argv[2], unsafe=False, url_fetcher=safe_fetch)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
