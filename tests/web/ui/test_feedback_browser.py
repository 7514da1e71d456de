"""The feedback report in real headless Chromium: rendered with its charts, no console or
script error, and usable 400 px wide without scrolling sideways, in the three languages."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.ui.conftest import Workbench
from tests.web.ui.feedback_sample import PATH, router
from tests.web.ui.test_e2e import Screens

pytestmark = pytest.mark.slow

ORIGIN = "http://workbench.test"
LANGUAGES = [("en", "Feedback"), ("de", "Rückmeldungen"), ("fr", "Retours")]


def _through(bench: Workbench) -> Any:
    """Answer the browser's requests from the app (its test client holds the session)."""

    def handle(route: Any) -> None:
        answer = bench.get(route.request.url.removeprefix(ORIGIN))
        route.fulfill(
            status=answer.status_code,
            headers={k: v for k, v in answer.headers.items() if k != "content-length"},
            body=answer.content,
        )

    return handle


def test_the_report_renders_at_400_px_without_errors(bench: Workbench, browser: Any) -> None:
    from playwright.sync_api import expect

    bench.client.app.include_router(router)
    context = browser.new_context(viewport={"width": 400, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.route(f"{ORIGIN}/**", _through(bench))
    for language, heading in LANGUAGES:
        page.goto(f"{ORIGIN}{PATH}?lang={language}")
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        charts = page.locator("figure.chart svg")
        expect(charts).to_have_count(6)
        for index in range(6):
            box = charts.nth(index).bounding_box()
            assert box is not None and 300 < box["width"] <= 400 and box["height"] > 50, box
        # the marks are drawn in their series' colour: the stylesheet arrived and applies
        dot = page.locator("figure.chart circle.dot").first
        assert dot.evaluate("e => getComputedStyle(e).fill") == "rgb(0, 114, 178)"
        # every chart's accessible name is its caption, and its numbers are a table away
        assert charts.first.evaluate(
            "e => e.getAttribute('aria-labelledby').split(' ')"
            ".every(i => document.getElementById(i))"
        )
        page.locator("figure.chart details summary").first.click()
        expect(page.locator("figure.chart details table").first).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, f"{language}: the page scrolls sideways: {width} px"
        if language == "en":
            Screens().take(page, "feedback-400")
    assert not problems, problems
    context.close()
