"""The agents' follow-up list as the console shows it: newest first, bounded, comments escaped
and cut, each row naming the document or block it was about, in the visitor's language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lxml import html

from content_engine.engine.i18n import Catalogs
from content_engine.web.ui import followups
from content_engine.web.ui.followups import FollowUp, newest
from content_engine.web.ui.templating import Translator, environment
from tests.support.engine_factory import ROOT

START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


CATALOGS = Catalogs(ROOT / "locales")


def _render(items: list[FollowUp], language: str = "en") -> html.HtmlElement:
    translate = Translator(CATALOGS.for_locale(language))
    text = environment().get_template("_followups.html").render(_=translate, follow_ups=items)
    return html.fromstring(text)


def test_rows_name_the_document_or_the_block_and_escape_the_comment() -> None:
    items = [
        FollowUp(START, "nps", 2, "<script>alert(1)</script> slow", receipt="r-123"),
        FollowUp(
            START + timedelta(hours=1),
            "csat",
            1,
            "rude",
            component="hero",
            variant="b",
            version=3,
            locale="de-AT",
        ),
    ]
    tree = _render(newest(items))
    rows = tree.xpath("//tbody/tr")
    assert [r.xpath("td")[1].text_content() for r in rows] == ["CSAT 1", "NPS 2"]
    assert "block hero/b v3" in rows[0].text_content() and "(de-AT)" in rows[0].text_content()
    assert "document, receipt r-123" in rows[1].text_content()
    assert not tree.xpath("//script")
    assert "<script>alert(1)</script> slow" in rows[1].xpath("td")[2].text_content()


def test_the_list_is_bounded_and_long_comments_are_cut() -> None:
    many = [FollowUp(START + timedelta(minutes=i), "nps", 0, "x" * 5000) for i in range(200)]
    shown = newest(many)
    assert len(shown) == followups.SHOWN and shown[0].answered == many[-1].answered
    cell = _render(shown).xpath("//tbody/tr/td[3]")[0].text_content()
    assert len(cell) == followups.COMMENT_CHARS + 1 and cell.endswith("…")


def test_an_empty_list_and_german() -> None:
    assert "Nobody is waiting" in _render([]).text_content()
    german = _render([FollowUp(START, "nps", 4, "zu teuer", receipt="r-1")], "de")
    assert "Nachfassen" in german.text_content() and "Dokument, Beleg r-1" in german.text_content()
