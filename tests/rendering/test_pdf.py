"""The PDF renderer, read back with pypdf; plus its fetch policy and page setup, which need
no WeasyPrint."""

from __future__ import annotations

import ctypes
import io
import logging
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from content_engine.core.models import Block
from content_engine.rendering import RenderEnvironment, RenderResult, get_renderer
from content_engine.rendering import pdf as pdf_module
from content_engine.rendering.pdf import (
    BASE_URL,
    Fetched,
    LibraryResolver,
    footer_content,
    harfbuzz_subset_available,
    page_size,
)
from tests.support.imports import import_again
from tests.support.pdfstructure import elements

from .conftest import ENGINE_RENDERERS, block, document, german_for

MakeEnv = Callable[..., RenderEnvironment]

LOREM = (
    "Das Wartungsintervall hängt von der Last ab. Prüfen Sie Filter, Dichtungen und Lager "
    "regelmäßig und tragen Sie jede Prüfung in das Wartungsbuch ein. "
) * 5
LOGO = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40">'
    b'<rect width="40" height="40" fill="#123456"/></svg>'
)


def long_block(n: int) -> Block:
    paragraphs = "".join(f"<p>{LOREM}</p>" for _ in range(5))
    table = (
        "<table><tr><th>Teil</th><th>Intervall</th></tr>"
        "<tr><td>Filter</td><td>500 h</td></tr></table>"
    )
    return block(
        f"manual.part-{n}", f"<h2>Kapitel {n} Wartung</h2>{paragraphs}<h3>Teile {n}</h3>{table}"
    )


def read(result: RenderResult) -> PdfReader:
    assert result.media_type == "application/pdf"
    assert result.content.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(result.content))


def catalog_lang(reader: PdfReader) -> str:
    root = reader.trailer["/Root"].get_object()
    assert isinstance(root, DictionaryObject)
    return str(root["/Lang"])


def drawn(reader: PdfReader) -> bytes:
    """Every page's content stream, decompressed."""
    streams = (page.get_contents() for page in reader.pages)
    return b"".join(stream.get_data() for stream in streams if stream is not None)


def page_texts(reader: PdfReader) -> list[str]:
    return [page.extract_text() for page in reader.pages]


# --- one long German document, rendered once --------------------------------------------------


@pytest.fixture(scope="module")
def long_pdf() -> tuple[RenderResult, PdfReader, list[str]]:
    env = RenderEnvironment(engine_renderers_dir=ENGINE_RENDERERS, gettext_for=german_for)
    doc = document(
        [long_block(n) for n in range(1, 9)],
        title="X200 Wartungshandbuch",
        locale="de-AT",
        region="AT",
        customer={"name": "Anna Huber"},
    )
    result = get_renderer("pdf").render(doc, env)
    reader = read(result)
    return result, reader, page_texts(reader)


@pytest.mark.slow
def test_long_document_has_pages_text_and_no_warnings(long_pdf):
    result, reader, texts = long_pdf
    assert len(reader.pages) > 4
    assert result.warnings == []
    assert "Erstellt für Anna Huber" in texts[0]
    assert "Erstellt am 23. November 2026" in texts[0]
    assert "Prüfen Sie Filter" in "".join(texts)


@pytest.mark.slow
def test_metadata_title_and_language(long_pdf):
    _, reader, _ = long_pdf
    assert reader.metadata is not None
    assert reader.metadata.title == "X200 Wartungshandbuch"
    assert catalog_lang(reader) == "de-AT"


@pytest.mark.slow
def test_translated_footer_and_running_header_but_not_on_the_title_page(long_pdf):
    _, reader, texts = long_pdf
    total = len(reader.pages)
    assert "Seite" not in texts[0]
    assert texts[0].count("X200 Wartungshandbuch") == 1  # the title itself, no header
    for number, text in enumerate(texts[1:], start=2):
        assert f"Seite {number} von {total}" in text
        assert "X200 Wartungshandbuch" in text


@pytest.mark.slow
def test_toc_page_numbers_point_at_the_headings(long_pdf):
    _, _, texts = long_pdf
    assert texts[1].startswith("Inhalt")
    toc = dict(re.findall(r"^(Kapitel \d+ Wartung)[ .]*?(\d+)\s*$", texts[1], re.M))
    assert len(toc) == 8
    for title, printed in toc.items():
        found = [i for i, text in enumerate(texts[2:], start=3) if title in text.splitlines()]
        assert found, title
        assert int(printed) == found[0], title


@pytest.mark.slow
def test_bookmarks_one_per_block_with_subheadings_below(long_pdf):
    _, reader, texts = long_pdf
    outline = reader.outline
    assert [item.title for item in outline if not isinstance(item, list)] == [
        f"Kapitel {n} Wartung" for n in range(1, 9)
    ]
    children = [item for item in outline if isinstance(item, list)]
    assert [[child.title for child in group] for group in children] == [
        [f"Teile {n}"] for n in range(1, 9)
    ]
    toc = dict(re.findall(r"^(Kapitel \d+ Wartung)[ .]*?(\d+)\s*$", texts[1], re.M))
    for item in outline:
        if not isinstance(item, list):
            assert reader.get_destination_page_number(item) + 1 == int(toc[item.title])


@pytest.mark.slow
def test_a4_by_default(long_pdf):
    _, reader, _ = long_pdf
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)


# --- short documents -------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("region", ["US", "CA"])
def test_letter_in_north_america(make_env: MakeEnv, region: str):
    doc = document([block("a.b", "<h2>Hi</h2>")], locale="en-US", region=region)
    reader = read(get_renderer("pdf").render(doc, make_env()))
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == (612, 792)
    assert [page.extract_text().splitlines()[-1] for page in reader.pages[1:]] == [
        "Page 2 of 3",
        "Page 3 of 3",
    ]


@pytest.mark.slow
def test_right_to_left_document(make_env: MakeEnv):
    doc = document(
        [block("ar.intro", "<h2>مقدمة</h2><p>مرحبا بكم</p>", locale="ar")],
        locale="ar",
        region="EG",
        title="دليل",
    )
    result = get_renderer("pdf").render(doc, make_env())
    reader = read(result)
    assert result.warnings == []
    assert catalog_lang(reader) == "ar"
    assert reader.metadata is not None
    assert reader.metadata.title == "دليل"


@pytest.mark.slow
def test_fetches_outside_the_library_are_refused_and_reported(make_env: MakeEnv):
    html = (
        "<h2>Bilder</h2>"
        '<img src="file:///etc/passwd" alt="1"/>'
        '<img src="http://127.0.0.1:9/x.png" alt="2"/>'
        '<img src="../../../etc/hostname" alt="3"/>'
        '<img src="assets/logo.svg" alt="4"/>'
        '<img src="assets/missing.png" alt="5"/>'
        "<img alt=\"6\" src=\"data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' width='4' "
        "height='4'><rect width='4' height='4' fill='%23abcdef'/></svg>\"/>"
    )
    env = make_env({"assets/logo.svg": LOGO})
    result = get_renderer("pdf").render(document([block("x.img", html)]), env)
    reader = read(result)
    assert result.warnings == [
        "refused to fetch 'file:///etc/passwd': outside the library's assets",
        "refused to fetch 'http://127.0.0.1:9/x.png': outside the library's assets",
        "refused to fetch 'etc/hostname': outside the library's assets",
        "could not fetch 'assets/missing.png': no such file in the library",
    ]
    content = drawn(reader)
    assert b"0.070588 0.203922 0.337255 rg" in content  # the logo's #123456, from library files
    assert b"0.670588 0.803922 0.937255 rg" in content  # the data: URL's #abcdef


@pytest.mark.slow
def test_importing_the_package_does_not_import_weasyprint():
    code = (
        "import sys, content_engine.rendering as r\n"
        "r.get_renderer('html')\n"
        "assert 'weasyprint' not in sys.modules, 'weasyprint imported eagerly'\n"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


def test_harfbuzz_subsetting_is_installed():
    # Without it WeasyPrint silently subsets with fontTools, several times slower.
    assert harfbuzz_subset_available()


def test_importing_the_pdf_renderer_loads_no_library(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    tried: list[str] = []

    def refuse(name: str, *args: object, **kwargs: object) -> ctypes.CDLL:
        tried.append(name)
        raise OSError(f"{name}: not loaded in this test")

    monkeypatch.setattr(ctypes, "CDLL", refuse)
    fresh = import_again(pdf_module)
    assert tried == [], "HarfBuzz is probed at import"
    with caplog.at_level(logging.WARNING, logger="content_engine"):
        assert not fresh.harfbuzz_subset_available()
        assert not fresh.harfbuzz_subset_available()
    assert tried[0] == "libharfbuzz-subset.so.0"
    assert caplog.text.count("HarfBuzz subsetting") == 1, "said once, when first asked"


# --- fetch policy and page setup (no WeasyPrint) ---------------------------------------------


@pytest.fixture
def resolver(make_env: MakeEnv) -> LibraryResolver:
    files = {"assets/logo.svg": LOGO, "renderers/default/extra.css": b"p{}"}
    return LibraryResolver(make_env(files))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"{BASE_URL}assets/logo.svg", Fetched(LOGO, "image/svg+xml")),
        (f"{BASE_URL}renderers/default/extra.css", Fetched(b"p{}", "text/css")),
        (
            f"{BASE_URL}renderers/default/print.css",
            Fetched((ENGINE_RENDERERS / "default/print.css").read_bytes(), "text/css"),
        ),
        ("data:text/plain,hello", None),
    ],
)
def test_resolver_serves_assets_and_themes(resolver: LibraryResolver, url: str, expected):
    assert resolver.resolve(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "refused to fetch 'file:///etc/passwd': outside"),
        ("https://example.com/x.png", "refused to fetch 'https://example.com/x.png': outside"),
        ("ftp://example.com/x", "outside"),
        (f"{BASE_URL}etc/passwd", "refused to fetch 'etc/passwd': outside"),
        (f"{BASE_URL}assets/%2e%2e/%2e%2e/etc/passwd", "outside"),
        (f"{BASE_URL}assets/..%2f..%2fetc/passwd", "outside"),
        (f"{BASE_URL}renderers/%2e%2e/%2e%2e/pyproject.toml", "outside"),
        (f"{BASE_URL}renderers/default/../../pyproject.toml", "outside"),
        (f"{BASE_URL}", "outside"),
        ("http://ce-library.invalid/assets/logo.svg", "outside"),
        (f"{BASE_URL}assets/nope.png", "could not fetch 'assets/nope.png': no such file"),
        (f"{BASE_URL}renderers/default/nope.css", "no such file"),
    ],
)
def test_resolver_refuses_everything_else(resolver: LibraryResolver, url: str, message: str):
    with pytest.raises(LibraryResolver.Refused, match=re.escape(message)):
        resolver.resolve(url)


@pytest.mark.parametrize(
    ("message", "css"),
    [
        ("Page {page} of {pages}", '"Page " counter(page) " of " counter(pages)'),
        ("Seite {page} von {pages}", '"Seite " counter(page) " von " counter(pages)'),
        ("{page} / {pages}", 'counter(page) " / " counter(pages)'),
        ("{pages} 页中的第 {page} 页", 'counter(pages) " 页中的第 " counter(page) " 页"'),
        ('S. "{page}" \\ {{x}}', '"S. \\"" counter(page) "\\" \\\\ {x}"'),
        ("Seite {pages}", None),
    ],
)
def test_footer_content(message: str, css: str | None):
    assert footer_content(message) == css


@pytest.mark.parametrize(
    ("region", "size"), [("US", "letter"), ("CA", "letter"), ("AT", "A4"), (None, "A4")]
)
def test_page_size(region: str | None, size: str):
    assert page_size(region) == size


def test_an_image_without_alt_text_is_a_warning_of_the_tagged_pdf(make_env: MakeEnv):
    env = make_env({"assets/logo.svg": LOGO})
    html = '<h2>Logo</h2><img src="assets/logo.svg"/><img src="assets/logo.svg" alt="Logo"/>'
    result = get_renderer("pdf").render(document([block("x.img", html)]), env)
    assert result.warnings == ['PDF: Image "assets/logo.svg" has no required alt description']
    figures = [e for e in elements(read(result)) if e.role == "/Figure"]
    assert [f.alt for f in figures] == [None, "Logo"]
