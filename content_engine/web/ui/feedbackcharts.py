"""The feedback report's charts, drawn on the server as inline SVG.

In: a report's parts (the groups' ``GroupSummary``s, their time series as ``TimeBucket``s,
an experiment's ``ArmComparison``) and the library's ``Scales``. Out: plain geometry
(coordinates in a fixed ``viewBox``, labels already formatted) that ``feedback.html`` lays out
as SVG beside a table that says the same in text. Pure: nothing here reads a request or the store.

Why SVG from the server rather than a chart library in the browser: the page then needs no
script (the workbench's policy allows only its own), nothing to vendor and keep patched, scales
to any width through its ``viewBox`` (400 px included) and prints; the numbers behind each mark
are in the table and in each mark's ``<title>``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from content_engine.core.feedbackstats import (
    METRICS,
    ArmComparison,
    GroupSummary,
    Metric,
    MetricSummary,
    Scales,
    TimeBucket,
)

# The drawing area (user units of every chart's viewBox) and its margins for the axes.
# Narrow enough that 14-unit text stays readable when a 400 px window shrinks the chart.
WIDTH = 480.0
HEIGHT = 240.0
LEFT, RIGHT, TOP, BOTTOM = 44.0, 24.0, 12.0, 34.0
# At most this many dates under a time chart, so that they never overlap.
MAX_DATES = 5
# Series beyond this many share styles (colour, marker, dash) in turn.
STYLES = 6
# A metric's time chart leans each series a few units sideways so whiskers do not overlap.
DODGE = 5.0
ARM_ROW = 40.0

Format = Callable[[float], str]


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class Mark:
    """One score with its interval: where to draw it and what it says in words.

    ``at`` is the position along the categories' axis (a bucket, an arm), ``value``, ``low`` and
    ``high`` (the interval's ends) along the scores' axis, all in the chart's coordinates.
    """

    at: float
    value: float
    low: float | None
    high: float | None
    enough_data: bool
    text: str


@dataclass(frozen=True)
class Line:
    key: str
    style: int
    marks: list[Mark]
    path: str  # the SVG path joining its marks; a bucket without answers breaks it


@dataclass(frozen=True)
class TimeChart:
    metric: Metric
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    lines: list[Line]


@dataclass(frozen=True)
class ArmRow:
    key: str
    style: int
    y: float
    mark: Mark | None


@dataclass(frozen=True)
class ArmChart:
    """An experiment's arms side by side on one axis, for one metric."""

    metric: Metric
    x_ticks: list[Tick]
    rows: list[ArmRow]
    height: float


def metric_range(metric: Metric, scales: Scales) -> tuple[float, float]:
    """The axis of a metric: its whole scale (NPS in points from -100 to 100)."""
    if metric == "nps":
        return -100.0, 100.0
    scale = scales.of(metric)
    return float(scale.low), float(scale.high)


def _y(value: float, low: float, high: float) -> float:
    return round(TOP + (high - value) / (high - low) * (HEIGHT - TOP - BOTTOM), 2)


def _x(value: float, low: float, high: float) -> float:
    return round(LEFT + (value - low) / (high - low) * (WIDTH - LEFT - RIGHT), 2)


def _steps(low: float, high: float) -> list[float]:
    """Round tick values: every scale point on short scales, quarters of NPS's 200 points."""
    if high - low <= 10:
        return [low + i for i in range(int(high - low) + 1)]
    return [low + i * (high - low) / 4 for i in range(5)]


def describe(summary: MetricSummary, number: Format) -> str:
    """A score and its interval, "4.2 [3.9; 4.5]": brackets and a semicolon read the same in
    every language, with decimal commas and minus signs alike."""
    if summary.value is None:
        return "–"
    text = number(summary.value)
    if summary.interval is not None:
        text += f" [{number(summary.interval.low)}; {number(summary.interval.high)}]"
    return text


def _mark(
    summary: MetricSummary, position: Callable[[float], float], at: float, number: Format
) -> Mark | None:
    if summary.value is None:
        return None
    interval = summary.interval
    return Mark(
        at=at,
        value=position(summary.value),
        low=position(interval.low) if interval else None,
        high=position(interval.high) if interval else None,
        enough_data=summary.enough_data,
        text=describe(summary, number),
    )


def _path(marks: Sequence[Mark | None]) -> str:
    parts: list[str] = []
    pen_down = False
    for mark in marks:
        if mark is None:
            pen_down = False
            continue
        parts.append(f"{'L' if pen_down else 'M'}{mark.at:g} {mark.value:g}")
        pen_down = True
    return " ".join(parts)


def group_keys(groups: Sequence[GroupSummary], series: Sequence[TimeBucket]) -> list[str]:
    """The groups in the report's order, then any that only the time series has."""
    keys = dict.fromkeys(g.key for g in groups)
    for bucket in series:
        keys.update(dict.fromkeys(g.key for g in bucket.groups))
    return list(keys)


def time_charts(
    keys: Sequence[str],
    buckets: Sequence[TimeBucket],
    scales: Scales,
    number: Format,
    day: Callable[[str], str] = str,
    tick: Format = str,
) -> list[TimeChart]:
    """One chart per metric with answers: each group's score per bucket, with its interval;
    ``keys`` (``group_keys``) fixes each group's style, the same in every chart; ``day``
    writes a bucket's ISO date for the axis, ``tick`` a value on it (always whole)."""
    if not buckets:
        return []
    span = (WIDTH - LEFT - RIGHT) / len(buckets)
    centres = [LEFT + span * (i + 0.5) for i in range(len(buckets))]
    # Label every bucket when they fit; otherwise every few, evenly spaced from the first.
    every = max(1, -(-len(buckets) // MAX_DATES))
    x_ticks = [
        Tick(round(centres[i], 2), day(b.start)) for i, b in enumerate(buckets) if i % every == 0
    ]
    charts = []
    for metric in METRICS:
        low, high = metric_range(metric, scales)

        def position(value: float, low: float = low, high: float = high) -> float:
            return _y(value, low, high)

        lines = []
        for index, key in enumerate(keys):
            offset = (index - (len(keys) - 1) / 2) * DODGE
            marks: list[Mark | None] = []
            for centre, bucket in zip(centres, buckets, strict=True):
                found = next((g for g in bucket.groups if g.key == key), None)
                marks.append(
                    _mark(found.metrics[metric], position, round(centre + offset, 2), number)
                    if found is not None and metric in found.metrics
                    else None
                )
            shown = [m for m in marks if m is not None]
            if shown:
                lines.append(Line(key, index % STYLES, shown, _path(marks)))
        if lines:
            y_ticks = [Tick(position(v), tick(v)) for v in _steps(low, high)]
            charts.append(TimeChart(metric, y_ticks, x_ticks, lines))
    return charts


def arm_charts(
    comparison: ArmComparison, scales: Scales, number: Format, tick: Format = str
) -> list[ArmChart]:
    """One chart per metric with answers: each arm's score and interval on a shared axis."""
    charts = []
    for metric in METRICS:
        low, high = metric_range(metric, scales)

        def position(value: float, low: float = low, high: float = high) -> float:
            return _x(value, low, high)

        rows = []
        for index, arm in enumerate(comparison.arms):
            y = TOP + ARM_ROW * (index + 0.5)
            summary = arm.summary.metrics.get(metric)
            mark = _mark(summary, position, y, number) if summary is not None else None
            rows.append(ArmRow(arm.key, index % STYLES, round(y, 2), mark))
        if any(r.mark is not None for r in rows):
            height = TOP + ARM_ROW * len(rows) + BOTTOM
            ticks = [Tick(position(v), tick(v)) for v in _steps(low, high)]
            charts.append(ArmChart(metric, ticks, rows, height))
    return charts


def enough_anywhere(groups: Sequence[GroupSummary]) -> bool:
    """Whether any group has enough answers to show a score as more than noise."""
    return any(g.enough_data for g in groups)
