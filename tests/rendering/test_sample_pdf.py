"""The largest sample publication as a real PDF, read back: pages, text, TOC, metadata."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pytest
from pypdf import PdfReader

from content_engine.engine.facade import Engine
from tests.support.engine_factory import SAMPLE, make_engine
from tests.support.factories import context

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def manual(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Engine, PdfReader, list[str]]]:
    db = tmp_path_factory.mktemp("db") / "ce.db"
    with make_engine(f"sqlite:///{db}") as engine:
        engine.import_library(SAMPLE)
        ctx = context("de-AT", region="AT", role="technician", channel="print")
        rendered = engine.render("manual.hp200", ctx, format="pdf")
        assert rendered.warnings == []
        reader = PdfReader(io.BytesIO(rendered.content))
        yield engine, reader, [page.extract_text() for page in reader.pages]


def test_pages_metadata_and_language(manual: tuple[Engine, PdfReader, list[str]]) -> None:
    _, reader, _ = manual
    assert len(reader.pages) >= 6
    assert reader.metadata is not None
    assert reader.metadata.title == "HP200 Installations- und Wartungsanleitung"  # localized
    assert reader.trailer["/Root"]["/Lang"] == "de-AT"
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4


def test_footer_translated_and_toc_numbers_point_at_headings(
    manual: tuple[Engine, PdfReader, list[str]],
) -> None:
    _, reader, texts = manual
    pages = len(reader.pages)
    assert f"Seite 2 von {pages}" in texts[1]
    toc = re.findall(r"^(.+?)[ .]*?(\d+)\s*$", texts[1], re.M)
    entries = {title.strip(): int(page) for title, page in toc if not title.startswith("Seite")}
    assert len(entries) >= 10
    for title, page in entries.items():
        assert 1 <= page <= pages
        assert title in texts[page - 1], (title, page)


def test_technician_content_is_present_and_agent_content_is_not(
    manual: tuple[Engine, PdfReader, list[str]],
) -> None:
    engine, _, texts = manual
    document = engine.document(
        "manual.hp200", context("de-AT", region="AT", role="technician", channel="print")
    )
    maintenance = next(b for b in document.blocks if b.component == "docs.hp200.maintenance")
    assert maintenance.variant == "de-technician"
    heading = re.search(r"<h2[^>]*>(.*?)</h2>", maintenance.html)
    assert heading is not None
    assert any(heading.group(1) in text for text in texts)
