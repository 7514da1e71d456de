"""The agents' follow-up list as the console shows it: newest first, bounded, comments escaped
and cut, each row naming the document or block it was about, in the visitor's language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lxml import html

from content_engine.core.feedbackstats import FollowUp
from content_engine.engine.i18n import Catalogs
from content_engine.web.ui import followups
from content_engine.web.ui.followups import cut, newest
from content_engine.web.ui.templating import Translator, environment
from tests.support.apps import Api
from tests.support.engine_factory import ROOT
from tests.web.ui.conftest import Workbench

START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


CATALOGS = Catalogs(ROOT / "locales")


def _render(items: list[FollowUp], language: str = "en") -> html.HtmlElement:
    translate = Translator(CATALOGS.for_locale(language))
    text = (
        environment().get_template("_followups.html").render(_=translate, follow_ups=items, cut=cut)
    )
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


def test_the_console_lists_real_low_answers_with_comments(api: Api) -> None:
    def answer(reader: str, metric: str, score: int, comment: str | None) -> str:
        block = api.client.get(
            "/v1/blocks/promo.hp200.cta",
            params={"locale": "en", "reader_id": reader},
            headers={"Accept": "application/json", **api.auth("reader")},
        ).json()
        body = {"token": block["feedback_token"], "metric": metric, "score": score}
        if comment is not None:
            body["comment"] = comment
        stored = api.client.post("/v1/feedback", json=body, headers=api.auth("reader"))
        assert stored.status_code == 201, stored.text
        return str(block["arm"])

    arm = answer("r-1", "nps", 3, "<b>too pushy</b>")
    answer("r-2", "nps", 9, "lovely")  # a promoter
    answer("r-3", "csat", 1, None)  # nothing to answer to
    answer("r-4", "csat", 2, "   ")
    answer("r-5", "csat", 2, "hard to read")
    agent = Workbench(api)
    agent.sign_in("agent")
    page = agent.get("/console", params={"lang": "en"})
    assert page.status_code == 200, page.text
    rows = html.fromstring(page.text).xpath("//section[@class='follow-ups']//tbody/tr")
    assert [r.xpath("td")[2].text_content() for r in rows] == ["hard to read", "<b>too pushy</b>"]
    assert f"block promo.hp200.cta/{arm} v" in rows[1].text_content()
    assert "<b>too pushy</b>" not in page.text  # escaped
