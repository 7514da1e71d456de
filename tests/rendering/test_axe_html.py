"""Every sample output passes axe-core at WCAG 2.2 AA in real headless Chromium (issue 18,
item 2): the full pages ``render`` writes and the blocks (``--format fragment``) as a host page
embeds them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from markupsafe import escape

from content_engine.core.models import Context
from content_engine.core.samplecrm import TOUR_SERIAL
from content_engine.engine.facade import Engine
from content_engine.settings import Settings
from content_engine.sources.samplecrm import write_sample_crm
from tests.support.axe import WCAG22_AA, AxeResult, check_page
from tests.support.browser import chromium
from tests.support.engine_factory import ROOT, SAMPLE

SERIAL = TOUR_SERIAL  # the installation `make samples` renders for
# The readers of `make samples`, one more per declared locale it leaves out, and Arabic.
READERS: list[tuple[str, dict[str, Any]]] = [
    (
        "brochure.hp200",
        {"locale": "de-AT", "region": "AT", "role": "buyer", "segments": ["residential"]},
    ),
    ("brochure.hp200", {"locale": "fr", "region": "FR", "role": "buyer"}),
    ("brochure.hp200", {"locale": "en", "region": "US", "role": "buyer"}),
    ("manual.hp200", {"locale": "en-US", "region": "US", "role": "technician", "channel": "print"}),
    ("manual.hp200", {"locale": "de", "region": "DE", "role": "technician", "channel": "print"}),
    (
        "service.sheet",
        {"locale": "de-AT", "region": "AT", "role": "service-agent", "lookup": {"serial": SERIAL}},
    ),
    ("renewal.letter", {"locale": "de-AT", "region": "AT", "lookup": {"serial": SERIAL}}),
    # right to left, every block from the English fallback: lang and dir change per block
    ("brochure.hp200", {"locale": "ar", "role": "buyer"}),
]
IDS = [f"{p}-{r['locale']}" for p, r in READERS]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    folder = tmp_path_factory.mktemp("axe")
    crm = write_sample_crm(folder / "crm", 200, datetime.now(UTC).date())
    settings = Settings(
        db_url=f"sqlite:///{folder / 'axe.db'}", home=ROOT, sources=str(crm.sources)
    )
    with Engine(settings) as e:
        e.import_library(SAMPLE)
        yield e


@pytest.fixture(scope="module")
def page() -> Iterator[Any]:
    with chromium() as browser:
        context = browser.new_context()
        yield context.new_page()
        context.close()


def render(engine: Engine, publication: str, reader: dict[str, Any], format: str) -> str:
    return engine.render(publication, Context(**reader), format=format).content.decode("utf-8")


def host_page(fragment: str, lang: str) -> str:
    """The least a site embedding blocks gives them: a language, a title and a main region."""
    return (
        f'<!DOCTYPE html><html lang="{escape(lang)}"><head><meta charset="utf-8">'
        f"<title>Blocks</title></head><body><main>{fragment}</main></body></html>"
    )


def assert_clean(result: AxeResult) -> None:
    assert result.violations == (), result.report()
    assert result.incomplete == ()  # nothing left for a person to review either
    # axe really ran its WCAG rules on the page (these apply to every page)
    assert {"document-title", "html-has-lang", "html-lang-valid"} <= set(result.passes)


@pytest.mark.parametrize(("publication", "reader"), READERS, ids=IDS)
def test_a_rendered_page_has_no_wcag_violation(
    engine: Engine, page: Any, publication: str, reader: dict[str, Any]
) -> None:
    assert_clean(check_page(page, render(engine, publication, reader, "html")))


@pytest.mark.parametrize(("publication", "reader"), READERS, ids=IDS)
def test_the_blocks_have_no_wcag_violation(
    engine: Engine, page: Any, publication: str, reader: dict[str, Any]
) -> None:
    fragment = render(engine, publication, reader, "fragment")
    assert_clean(check_page(page, host_page(fragment, reader["locale"])))


def test_axe_finds_what_it_must(page: Any) -> None:
    """The check can fail: a page with the barriers lint warns about has violations."""
    gif = "data:image/gif;base64,R0lGODlhAQABAAAAACw="
    bad = host_page(f'<img src="{gif}"><p><a href="#x"></a></p>', "en")
    found = {v["id"] for v in check_page(page, bad).violations}
    assert {"image-alt", "link-name"} <= found
    assert set(WCAG22_AA) == {"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"}
