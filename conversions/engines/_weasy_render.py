"""Render an HTML file to PDF with WeasyPrint, fetching nothing but ``data:`` URLs.

Run as a script in a subprocess (so the caller can enforce a time limit):
    python _weasy_render.py input.html output.pdf
"""

import sys


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: _weasy_render.py input.html output.pdf", file=sys.stderr)
        return 2
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"}, timeout=5)
    with open(argv[1], encoding="utf-8") as fh:
        html = fh.read()
    HTML(string=html, base_url=None, url_fetcher=fetcher).write_pdf(argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
