"""The workbench's reading pages render what the engine says, with links to fix things."""

from __future__ import annotations

import html
import re

import pytest

from content_engine.core.models import Conditions, Variant
from tests.web.ui.conftest import Workbench


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/", ["<h1>Library</h1>", "product.hp200.overview", "brochure.hp200", "Publications"]),
        (
            "/components/legal.warranty",
            ["10 variants", "de-region-at", "Regions", "AT", "published", "History"],
        ),
        (
            "/components/legal.warranty/variants/de-region-at",
            [
                "Variant de-region-at",
                "Body (XHTML)",
                "Garantie und Gewährleistung",
                "Send to review",
            ],
        ),
        ("/components/legal.warranty/new-variant", ["New variant", "Variant key"]),
        ("/components/legal.warranty/variants/de-region-at/history", ["History of de-region-at"]),
        ("/components/legal.warranty/preview", ["Why these variants", "<iframe"]),
        ("/publications/brochure.hp200", ["8 slots", "all of type product-info"]),
        ("/publications/brochure.hp200/preview", ["Download PDF", "legal.warranty"]),
        ("/lint", ["<h1>Lint</h1>", "No problems found."]),
        ("/coverage", ["brochure.hp200", "manual.hp200"]),
        ("/coverage/brochure.hp200", ["Locale de-AT", "technician", "DACH"]),
    ],
)
def test_each_page_renders(bench: Workbench, url: str, expected: list[str]) -> None:
    response = bench.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    text = html.unescape(response.text)
    for snippet in expected:
        assert snippet in text, snippet
    # Landmarks and the skip link on every page.
    assert '<a class="skip-link" href="#main">' in response.text
    assert '<main id="main"' in response.text
    assert "<header" in response.text and "<nav" in response.text


def component_links(page: str) -> list[str]:
    return re.findall(r'<a href="/components/([a-z0-9._-]+)" class="strong">', page)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # In bodies only; by type, then id.
        ({"q": "Rauchfangkehrer"}, ["brochure.subsidies", "product.hp200.overview"]),
        ({"q": "SERVICE HOTLINE"}, ["snippet.hotline", "docs.safety"]),  # any case; by type
        ({"type": "legal"}, ["legal.conformity", "legal.privacy", "legal.warranty"]),
        ({"type": "legal", "tag": "warranty"}, ["legal.warranty"]),
        ({"q": "no such words anywhere"}, []),
    ],
)
def test_library_search_by_text_type_and_tag(
    bench: Workbench, query: dict[str, str], expected: list[str]
) -> None:
    page = bench.get("/", params=query).text
    assert component_links(page) == expected
    if not expected:
        assert "No component matches" in page


def test_library_lists_variants_with_status_and_version(bench: Workbench) -> None:
    bench.api.engine.editor.set_status("snippet.hotline", "default", "review", expected_version=1)
    page = bench.get("/", params={"q": "hotline"}).text
    assert re.search(
        r'href="/components/snippet.hotline/variants/default">default</a> '
        r'<span class="status status-review">in review</span> <span class="version">v2</span>',
        page,
    )


def test_component_page_shows_each_variants_conditions(bench: Workbench) -> None:
    page = bench.get("/components/legal.warranty").text
    row = re.search(r'variants/de-region-at" class="strong">.*?</tr>', page, re.S)
    assert row is not None
    assert re.search(r"<dt>Locale</dt><dd>de</dd>.*<dt>Regions</dt><dd>AT</dd>", row.group(0), re.S)


def test_unknown_component_and_publication_are_html_404s(bench: Workbench) -> None:
    for url in ("/components/nope", "/publications/nope", "/coverage/nope"):
        response = bench.get(url)
        assert response.status_code == 404
        assert "<h1>Not found</h1>" in response.text
        assert "nope" in response.text


def test_lint_links_each_problem_to_its_variant(bench: Workbench) -> None:
    conditions = Conditions(locale="en", roles=("installer",))
    variant = Variant(key="en-installer", conditions=conditions, body="<p>Hi</p>", status="draft")
    bench.api.engine.editor.save_variant("snippet.hotline", variant, expected_version=None)
    page = bench.get("/lint").text
    assert "1 problem" in page
    assert "installer" in page
    assert '<a href="/components/snippet.hotline/variants/en-installer">' in page


def test_coverage_highlights_gaps_and_notes_fallbacks(bench: Workbench) -> None:
    # A working copy of its English variant changes nothing readers get...
    bench.api.engine.editor.set_status("brochure.contact", "en", "draft", expected_version=1)
    assert "have a gap" not in bench.get("/coverage/brochure.hp200").text
    # ...without it (unpublished), brochure.contact (a required slot) has nothing for en.
    bench.api.engine.editor.unpublish("brochure.contact", "en", expected_version=2)
    page = bench.get("/coverage/brochure.hp200").text
    assert "9 of 36 readers have a gap" in page
    gap = re.search(r'<td class="gap">(.*?)</td>', page, re.S)
    assert gap is not None
    assert "gap" in gap.group(1)
    assert 'slot 8: <a href="/components/brochure.contact">brochure.contact</a>' in gap.group(1)
    assert '<td class="fallback">' in page
    assert "brochure.hp200.cover</a> → de" in page


def test_static_files_are_served_from_the_package(bench: Workbench) -> None:
    css = bench.get("/static/ui.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert ":focus-visible" in css.text
    js = bench.get("/static/ui.js")
    assert js.status_code == 200
    assert "javascript" in js.headers["content-type"]
    page = bench.get("/").text
    # Nothing is fetched from elsewhere.
    assert not re.search(r'(src|href)="(https?:)?//', page)
