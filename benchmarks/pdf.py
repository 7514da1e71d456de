"""Benchmarks 4 and 5: PDF rendering against bare WeasyPrint, and ``batch`` with 1 and 2 workers.

4, warm and in process: ``engine.render(publication, context, format="pdf")`` against
``weasyprint.HTML(string=page_html, base_url=..., url_fetcher=...).write_pdf(stylesheets=...,
font_config=...)`` on the very page the engine lays out (``render_page(..., inline_css=False)``)
with the theme's screen and print CSS and the same page setup (paper size, translated footer),
each parsed once into a ``weasyprint.CSS`` with one shared ``FontConfiguration``. The bare
fetcher serves the library's files from a dict, so both sides load the same images.
4, cold: one ``content-engine render --format pdf`` process against one Python process that
imports WeasyPrint and renders the same page and CSS from files (``python -m benchmarks.pdf``).
5: ``content-engine batch`` of N context lines with ``--workers 1`` and ``--workers 2``.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BASE_URL = "https://ce-library.invalid/"  # the engine's page base URL (rendering/pdf.py)


def fetcher_class() -> type:
    """A ``URLFetcher`` serving ``BASE_URL + path`` from a dict: the bare tool's way to images."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class DictFetcher(URLFetcher):  # type: ignore[misc]
        def __init__(self, files: dict[str, bytes]) -> None:
            super().__init__(allow_redirects=False)
            self.files = files

        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith(BASE_URL):
                data = self.files.get(url.removeprefix(BASE_URL))
                if data is None:
                    raise ValueError(f"no such file: {url}")
                kind = "image/svg+xml" if url.endswith(".svg") else "application/octet-stream"
                return URLFetcherResponse(url, data, headers={"Content-Type": kind})
            return super().fetch(url, headers)

    return DictFetcher


@dataclass
class PageInputs:
    """What the bare side renders: the page, three stylesheets (with base URLs), the files."""

    html: str
    css: list[tuple[str, str | None]]  # (text, base_url)
    files: dict[str, bytes]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "page.html").write_text(self.html, encoding="utf-8")
        (folder / "css.json").write_text(json.dumps(self.css), encoding="utf-8")
        for path, data in self.files.items():
            target = folder / "files" / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)

    @classmethod
    def load(cls, folder: Path) -> PageInputs:
        root = folder / "files"
        files = {
            p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()
        }
        css = [tuple(item) for item in json.loads((folder / "css.json").read_text())]
        return cls((folder / "page.html").read_text(encoding="utf-8"), css, files)  # type: ignore[arg-type]


def page_inputs(engine: Any, publication: str, context: Any) -> PageInputs:
    from content_engine.rendering.html import render_page
    from content_engine.rendering.pdf import FOOTER_MSGID, footer_content, page_size

    document = engine.document(publication, context)
    env = engine.render_environment()
    page = render_page(document, env, inline_css=False)
    footer = footer_content(engine.catalogs.for_locale(context.locale).gettext(FOOTER_MSGID))
    setup = (
        f"@page {{\n  size: {page_size(context.region)};\n"
        f"  @bottom-center {{ content: {footer}; }}\n}}\n"
    )
    theme_url = f"{BASE_URL}renderers/{{}}/"
    css = [
        (page.theme.screen.text, theme_url.format(page.theme.screen.folder)),
        (setup, None),
        (page.theme.print.text, theme_url.format(page.theme.print.folder)),
    ]
    return PageInputs(page.html, css, dict(env.library_files))


class BareRenderer:
    """Bare WeasyPrint, warm: stylesheets parsed once, one FontConfiguration."""

    def __init__(self, inputs: PageInputs) -> None:
        import weasyprint
        from weasyprint.text.fonts import FontConfiguration

        self.weasyprint = weasyprint
        self.inputs = inputs
        self.fonts = FontConfiguration()
        self.fetcher = fetcher_class()(inputs.files)
        self.sheets = [
            weasyprint.CSS(
                string=text, base_url=base, url_fetcher=self.fetcher, font_config=self.fonts
            )
            for text, base in inputs.css
        ]

    def render(self) -> bytes:
        html = self.weasyprint.HTML(
            string=self.inputs.html, base_url=BASE_URL, url_fetcher=self.fetcher
        )
        return bytes(html.write_pdf(stylesheets=self.sheets, font_config=self.fonts))


def count_pages(pdf: bytes) -> int:
    try:
        from pypdf import PdfReader
    except ImportError:  # pypdf is a dev dependency; the page objects say it as well
        return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))
    return len(PdfReader(io.BytesIO(pdf)).pages)


def batch_lines(n: int) -> list[str]:
    """N valid context lines, varied over locale, region, role, segment and customer."""
    readers = [
        {"locale": "de-AT", "region": "AT", "role": "buyer", "segments": ["residential"]},
        {"locale": "de", "region": "DE", "role": "technician"},
        {"locale": "en", "region": "US", "role": "buyer"},
        {"locale": "fr", "region": "FR", "role": "buyer", "segments": ["residential"]},
        {"locale": "en", "region": "GB", "role": "service-agent"},
    ]
    lines = []
    for i in range(n):
        context = readers[i % len(readers)] | {"customer": {"name": f"Customer {i}"}}
        lines.append(json.dumps({"id": f"doc-{i:04d}", "context": context}))
    return lines


def main() -> None:
    """Cold bare render: import WeasyPrint, render the saved page once, write the PDF."""
    parser = argparse.ArgumentParser(description="Cold bare WeasyPrint render of a saved page.")
    parser.add_argument("folder", type=Path)
    parser.add_argument("output", type=Path)
    args = parser.parse_args()
    start = time.perf_counter()
    args.output.write_bytes(BareRenderer(PageInputs.load(args.folder)).render())
    print(json.dumps({"seconds": time.perf_counter() - start}))


if __name__ == "__main__":
    main()
