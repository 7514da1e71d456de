"""The feedback report page: scores per group and over time, an experiment's arms side by side.

In: ``GET /feedback`` with the API report's filters (component, experiment, since, until, by)
and ``bucket`` (day or week), editors only. Out: ``feedback.html``, the engine's report with
its time series, charts as inline SVG (``feedbackcharts``) each with a table of the same
numbers, every number formatted for the visitor's language. A filter the engine refuses is the
workbench's error page (4xx), as for any other page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from fastapi import Query, Response

from content_engine.core.feedbackstats import (
    CONFIDENCE,
    METRICS,
    MIN_ANSWERS,
    ArmComparison,
    GroupSummary,
    MetricSummary,
    Scales,
    TimeBucket,
)
from content_engine.web.ui import feedbackcharts as charts
from content_engine.web.ui.routing import ui_router
from content_engine.web.ui.templating import N_, Page, WorkbenchPage

router = ui_router()

Name = Annotated[str | None, Query(max_length=200)]
Moment = Annotated[str | None, Query(max_length=64)]

BY_LABELS = {
    "variant": N_("variant"),
    "segment": N_("segment"),
    "role": N_("role"),
    "region": N_("region"),
    "locale": N_("locale"),
}


@dataclass(frozen=True)
class ReportQuery:
    """The report's filters as the page's form shows them (the API's query parameters)."""

    component: str | None = None
    experiment: str | None = None
    since: str | None = None
    until: str | None = None
    by: str = "variant"


@dataclass(frozen=True)
class Numbers:
    """Numbers as the visitor's language writes them (decimal comma in German and French)."""

    language: str

    def number(self, value: float) -> str:
        return str(format_decimal(value, format="#,##0.0", locale=self.language))

    def integer(self, value: float) -> str:
        return str(format_decimal(value, format="#,##0", locale=self.language))

    def signed(self, value: float) -> str:
        return str(format_decimal(value, format="+#,##0.0;-#,##0.0", locale=self.language))

    def share(self, value: float) -> str:
        return str(format_percent(value, format="#,##0 %", locale=self.language))

    def p_value(self, value: float | None) -> str:
        if value is None:
            return "–"
        if value < 0.001:
            return "< " + str(format_decimal(0.001, format="0.000", locale=self.language))
        return str(format_decimal(value, format="0.000", locale=self.language))

    def day(self, iso: str) -> str:
        """A bucket's first day, short ("30 Nov"); text that is no date is shown as it is."""
        try:
            return str(format_date(date.fromisoformat(iso), "d MMM", locale=self.language))
        except ValueError:
            return iso

    def describe(self, summary: MetricSummary) -> str:
        return charts.describe(summary, self.number)


def feedback_page(
    page: Page,
    groups: Sequence[GroupSummary],
    scales: Scales,
    *,
    series: Sequence[TimeBucket] = (),
    comparison: ArmComparison | None = None,
    by: str = "variant",
    bucket: str = "day",
    heading: str = "",
    query: ReportQuery | None = None,
) -> Response:
    """The report as a page; what it shows is what the API's report gives. With ``query``,
    a form above it to choose another."""
    numbers = Numbers(page.visitor.language)
    keys = charts.group_keys(groups, series)
    return page.render(
        "feedback.html",
        section="feedback",
        heading=heading,
        groups=list(groups),
        series=list(series),
        bucket=bucket,
        comparison=comparison,
        by_label=page._(BY_LABELS.get(by, by)),
        query=query,
        by_choices=[(value, page._(label)) for value, label in BY_LABELS.items()],
        enough=charts.enough_anywhere(groups),
        time_charts=charts.time_charts(
            keys, series, scales, numbers.number, numbers.day, numbers.integer
        ),
        arm_charts=(
            charts.arm_charts(comparison, scales, numbers.number, numbers.integer)
            if comparison
            else []
        ),
        METRICS=METRICS,
        STYLES=charts.STYLES,
        WIDTH=charts.WIDTH,
        HEIGHT=charts.HEIGHT,
        LEFT=charts.LEFT,
        RIGHT=charts.RIGHT,
        TOP=charts.TOP,
        BOTTOM=charts.BOTTOM,
        min_answers=MIN_ANSWERS,
        confidence=CONFIDENCE,
        describe=numbers.describe,
        integer=numbers.integer,
        signed=numbers.signed,
        share=numbers.share,
        p_value=numbers.p_value,
    )


@router.get("/feedback")
def feedback(
    page: WorkbenchPage,
    component: Name = None,
    experiment: Name = None,
    since: Moment = None,
    until: Moment = None,
    by: Annotated[str, Query(max_length=16)] = "variant",
    bucket: Literal["day", "week"] = "day",
) -> Response:
    """The report the API gives, with its time series, as charts and tables."""
    # An empty field of the form is no filter.
    query = ReportQuery(component or None, experiment or None, since or None, until or None, by)
    report = page.engine.feedback.report(
        component=query.component,
        experiment=query.experiment,
        since_text=query.since,
        until_text=query.until,
        by=by,
        bucket=bucket,
    )
    heading = " · ".join(x for x in (query.component, query.experiment) if x)
    return feedback_page(
        page,
        report.groups,
        report.scales,
        series=report.series,
        comparison=report.experiment,
        by=by,
        bucket=bucket,
        heading=heading,
        query=query,
    )
