"""A seeded feedback report (two variants over two weeks, an experiment of two arms) and a
workbench route that shows it with ``feedback_page``, for the page's tests."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from fastapi import Response

from content_engine.core.feedbackstats import (
    ArmComparison,
    ArmData,
    GroupData,
    GroupSummary,
    Scales,
    TimeBucket,
    compare_arms,
    summarize,
)
from content_engine.web.ui.feedback import ReportQuery, feedback_page
from content_engine.web.ui.routing import ui_router
from content_engine.web.ui.templating import WorkbenchPage

DAYS = 14
FIRST_DAY = date(2026, 11, 16)
KEYS = ("hero/spring", "hero/winter")


def _answers(rng: np.random.Generator, n: int, better: bool) -> dict[str, list[int]]:
    lift = 1 if better else 0
    return {
        "csat": np.clip(
            rng.integers(2, 6, size=n) + lift * rng.integers(0, 2, size=n), 1, 5
        ).tolist(),
        "nps": np.clip(rng.integers(3, 11, size=n) + lift, 0, 10).tolist(),
        "ces": rng.integers(2, 8, size=n).tolist(),
    }


def sample_report(seed: int = 5) -> tuple[list[GroupSummary], list[TimeBucket], ArmComparison]:
    rng = np.random.default_rng(seed)
    totals: dict[str, dict[str, list[int]]] = {k: {"csat": [], "nps": [], "ces": []} for k in KEYS}
    exposures = dict.fromkeys(KEYS, 0)
    series = []
    for day in range(DAYS):
        groups = []
        for index, key in enumerate(KEYS):
            # The second variant starts on day 3: its first days have no answers (a gap).
            shown = 0 if index == 1 and day < 3 else int(rng.integers(80, 160))
            answers = _answers(rng, shown // 3, better=index == 1)
            exposures[key] += shown
            for metric, values in answers.items():
                totals[key][metric] += values
            groups.append(summarize(GroupData(shown, answers, key=key)))
        start = (FIRST_DAY + timedelta(days=day)).isoformat()
        series.append(TimeBucket(start=start, groups=groups))
    summaries = [summarize(GroupData(exposures[k], totals[k], key=k)) for k in KEYS]
    arms = [ArmData(exposures[k], totals[k], key=k.split("/")[1]) for k in KEYS]
    return summaries, series, compare_arms(arms, [1, 1])


GROUPS, SERIES, COMPARISON = sample_report()
PATH = "/feedback-sample"
# Reports other than the full one, at PATH/<name>.
OTHERS: dict[str, list[GroupSummary]] = {
    "empty": [],
    "few": [summarize(GroupData(3, {"csat": [4, 5]}, key="hero/spring"))],
}

router = ui_router()


@router.get(PATH)
def sample_page(page: WorkbenchPage) -> Response:
    return feedback_page(
        page,
        GROUPS,
        Scales(),
        series=SERIES,
        comparison=COMPARISON,
        heading="hero",
        query=ReportQuery(component="hero", since="2026-11-16"),
    )


@router.get(PATH + "/{name}")
def other_page(page: WorkbenchPage, name: str) -> Response:
    return feedback_page(page, OTHERS[name], Scales())
