"""The feedback report page: tables and inline SVG charts of the same numbers, in the
visitor's language; the chart geometry stays inside its drawing."""

from __future__ import annotations

import re

import pytest
from lxml import html

from content_engine.core.feedbackstats import GroupData, Scales, TimeBucket, summarize
from content_engine.web.ui import feedbackcharts as charts
from tests.web.ui.conftest import Workbench
from tests.web.ui.feedback_sample import COMPARISON, DAYS, GROUPS, PATH, SERIES, router


@pytest.fixture
def report_bench(bench: Workbench) -> Workbench:
    bench.client.app.include_router(router)
    return bench


def test_the_page_shows_tables_and_a_chart_per_metric(report_bench: Workbench) -> None:
    page = report_bench.get(PATH)
    assert page.status_code == 200, page.text
    tree = html.fromstring(page.text)
    rows = tree.xpath("//table[contains(@class, 'feedback-table')]/tbody/tr")
    assert [r.xpath("th")[0].text_content() for r in rows] == [g.key for g in GROUPS]
    figures = tree.xpath("//figure[@class='chart']")
    # three metrics over time, three with the arms side by side
    assert len(figures) == 6
    for figure in figures:
        svg = figure.xpath(".//svg")[0]
        assert svg.get("role") == "img"
        labelled = svg.get("aria-labelledby").split()
        assert all(tree.get_element_by_id(i) is not None for i in labelled)
    # every day of each variant that had answers is a mark, with its numbers in words
    nps_marks = figures[1].xpath(".//circle[contains(@class, 'dot')]")
    assert len(nps_marks) == DAYS + (DAYS - 3)
    titles = [t.text_content() for t in figures[1].xpath(".//title")]
    assert all(
        re.match(r"hero/(spring|winter): -?\d+\.\d \[-?\d+\.\d; -?\d+\.\d\]$", t) for t in titles
    ), titles[:3]
    # the table equivalent of a time chart holds as many rows as the chart has marks
    assert len(figures[1].xpath(".//details//tbody/tr")) == len(nps_marks)
    alerts = " ".join(
        p.text_content()
        for p in tree.xpath(
            "//h2[@id='experiment-heading']/following-sibling::p[contains(@class, 'alert')]"
        )
    )
    # the second variant started late, so its arm was shown less: the page says so
    assert COMPARISON.sample_ratio.mismatch and "Sample-ratio mismatch" in alerts
    assert f"Arm {COMPARISON.winner} is significantly better" in alerts


def test_the_page_speaks_german_and_french_and_says_when_data_are_lacking(
    report_bench: Workbench,
) -> None:
    german = report_bench.get(PATH, params={"lang": "de"})
    assert "<h1>Rückmeldungen" in german.text
    assert "Zufriedenheit (CSAT)" in german.text
    # numbers as German writes them: a decimal comma
    tree = html.fromstring(german.text)
    cell = tree.xpath("//table[contains(@class, 'feedback-table')]/tbody/tr/td")[2].text_content()
    assert re.match(r"\d,\d \[\d,\d; \d,\d\]", cell.strip()), cell
    french = report_bench.get(PATH, params={"lang": "fr"})
    assert "Retours" in french.text and "Effort client (CES)" in french.text

    # (sharing this test's app: building one costs seconds) an empty and a thin report
    assert "No feedback yet" in report_bench.get(f"{PATH}/empty", params={"lang": "en"}).text
    few = report_bench.get(f"{PATH}/few", params={"lang": "en"}).text
    assert "Not enough data yet" in few and "too few answers" in few


def test_marks_stay_inside_the_drawing_and_gaps_break_the_line() -> None:
    keys = charts.group_keys(GROUPS, SERIES)
    drawn = charts.time_charts(keys, SERIES, Scales(), str)
    assert [c.metric for c in drawn] == ["csat", "nps", "ces"]
    for chart in drawn:
        for line in chart.lines:
            for mark in line.marks:
                for y in (mark.value, mark.low, mark.high):
                    assert y is None or charts.TOP <= y <= charts.HEIGHT - charts.BOTTOM
                assert charts.LEFT <= mark.at <= charts.WIDTH - charts.RIGHT
        assert len(chart.x_ticks) <= charts.MAX_DATES
    winter = drawn[0].lines[1]
    assert winter.path.startswith("M") and winter.path.count("M") == 1  # starts on day 3
    gap = [
        TimeBucket(start=f"2026-11-0{i}", groups=[summarize(GroupData(1, s, key="v"))])
        for i, s in enumerate([{"csat": [4, 5]}, {}, {"csat": [3]}], start=1)
    ]
    line = charts.time_charts(["v"], gap, Scales(), str)[0].lines[0]
    assert line.path.count("M") == 2 and "L" not in line.path


def test_arm_charts_place_each_arm_on_the_metric_scale() -> None:
    drawn = charts.arm_charts(COMPARISON, Scales(), str)
    assert [c.metric for c in drawn] == ["csat", "nps", "ces"]
    for chart in drawn:
        assert [r.key for r in chart.rows] == [a.key for a in COMPARISON.arms]
        for row in chart.rows:
            assert row.mark is not None
            assert charts.LEFT <= row.mark.value <= charts.WIDTH - charts.RIGHT


def test_the_report_of_real_answers_to_the_sample_experiment(bench: Workbench) -> None:
    """Readers get the experiment's block, answer through the API; the page reports the arms."""
    api = bench.api
    arms: dict[str, int] = {}
    for i in range(40):
        block = api.client.get(
            "/v1/blocks/promo.hp200.cta",
            params={"locale": "en", "reader_id": f"r-{i}"},
            headers={"Accept": "application/json", **api.auth("reader")},
        )
        assert block.status_code == 200, block.text
        arm = block.json()["arm"]
        arms[arm] = arms.get(arm, 0) + 1
        score = 9 if arm == "direct" else 5
        answer = api.client.post(
            "/v1/feedback",
            json={"token": block.json()["feedback_token"], "metric": "nps", "score": score},
            headers=api.auth("reader"),
        )
        assert answer.status_code == 201, answer.text
    page = bench.get(
        "/feedback",
        params={"experiment": "hp200-cta", "component": "", "bucket": "week", "lang": "en"},
    )
    assert page.status_code == 200, page.text
    tree = html.fromstring(page.text)
    keys = [
        r.xpath("th")[0].text_content()
        for r in tree.xpath("//table[contains(@class, 'feedback-table')]/tbody/tr")
    ]
    assert keys == sorted(f"promo.hp200.cta/{a}" for a in arms)
    # one week of answers: a time chart for NPS, and the arms side by side
    assert tree.xpath("//figure[@class='chart']//figcaption[@id='time-nps-caption']")
    assert tree.xpath("//figure[@class='chart']//figcaption[@id='arms-nps-caption']")
    assert 'aria-current="page">Feedback' in page.text
    for hostile in ({"by": "mood"}, {"since": "yesterday"}, {"component": "x" * 5000}):
        refused = bench.get("/feedback", params={**hostile, "lang": "en"})
        assert 400 <= refused.status_code < 500, (hostile, refused.status_code)
        assert "<h1>" in refused.text and "Traceback" not in refused.text
    assert "by must be one of" in bench.get("/feedback", params={"by": "mood"}).text
