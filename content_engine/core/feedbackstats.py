"""Feedback statistics: the answers of a group in, its scores with 95 % intervals out.

``summarize`` turns one group's exposures and answers (CSAT, NPS, CES) into counts, the score of
each metric and its 95 % confidence interval; ``compare_arms`` sets the arms of an experiment
against the first one (difference, interval, p-value, a winner only when the difference is
significant) and checks the split of exposures against the weights (sample-ratio mismatch).

The methods, chosen for answers on short bounded scales:

- CSAT and CES means: Student's t interval; arms compared with Welch's t-test (unequal
  variances), whose interval matches its p-value.
- NPS (% promoters 9-10 minus % detractors 0-6, in points from -100 to 100): the adjusted Wald
  interval for a difference of multinomial proportions (3 pseudo-answers: 3/4 of one promoter,
  3/4 of one detractor, the rest passive), which Rocks (The American Statistician, 2016) found
  to cover best among the simple methods; arms compared by a z-test on the same adjusted
  estimates, so the interval excludes 0 exactly when p < 0.05.
- With more than two arms each p-value is also Holm-adjusted over the comparisons with the first
  arm, and only the adjusted one can name a winner.
- Sample-ratio mismatch: Pearson's chi-square of the exposures against the weights, flagged at
  ``SRM_ALPHA`` (0.001), strict because a true mismatch is large and a false alarm costs trust.

Distributions come from scipy: its ``special`` functions (the t and normal quantiles and tails)
where a report computes many, as they cost microseconds where ``stats.t.ppf`` costs
milliseconds. Nothing here reads a clock, a file or a database.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict

from content_engine.core.errors import InputError

Metric = Literal["csat", "nps", "ces"]
METRICS: tuple[Metric, ...] = ("csat", "nps", "ces")
CONFIDENCE = 0.95
ALPHA = 1 - CONFIDENCE
# Fewer answers than this for a metric and the report says "not enough data yet": below ~30 the
# t and normal approximations behind the intervals are rough and a single answer moves a mean.
MIN_ANSWERS = 30
SRM_ALPHA = 0.001
# NPS classes on its fixed 0-10 scale.
PROMOTER_FROM = 9
DETRACTOR_UP_TO = 6
# The adjusted Wald interval's pseudo-answers (Rocks 2016): n + 3, promoters and detractors + 3/4.
_NPS_PSEUDO_N = 3.0
_NPS_PSEUDO_EACH = 0.75

Ints = npt.NDArray[np.int64]


class FeedbackStatsError(InputError):
    """Answers or weights the statistics cannot use (out of a scale, negative, mismatched)."""

    code = "invalid_feedback_data"


@dataclass(frozen=True)
class Scale:
    """The range of a metric's answers and which end is good."""

    low: int
    high: int
    higher_is_better: bool = True

    def __post_init__(self) -> None:
        if not self.low < self.high:
            raise FeedbackStatsError(f"a scale needs low < high, got [{self.low}, {self.high}]")


@dataclass(frozen=True)
class Scales:
    """Each metric's scale: CSAT 1-5, NPS 0-10 (fixed), CES 1-7 by default.

    CES is read as agreement with "it was easy" (CES 2.0), so higher is better; a library that
    asks about effort instead sets ``ces=Scale(1, 7, higher_is_better=False)``.
    """

    csat: Scale = field(default_factory=lambda: Scale(1, 5))
    nps: Scale = field(default_factory=lambda: Scale(0, 10))
    ces: Scale = field(default_factory=lambda: Scale(1, 7))

    def __post_init__(self) -> None:
        # Promoters and detractors are defined on 0-10 only; another range would make the score
        # mean something else while keeping its name.
        if (self.nps.low, self.nps.high, self.nps.higher_is_better) != (0, 10, True):
            raise FeedbackStatsError("the NPS scale is fixed at 0-10")

    def of(self, metric: Metric) -> Scale:
        scale: Scale = getattr(self, metric)
        return scale


DEFAULT_SCALES = Scales()


@dataclass(frozen=True)
class GroupData:
    """One group's exposures (documents or blocks shown) and its answers per metric.

    ``key`` names the group in the results (a variant key, a segment, an arm).
    """

    exposures: int
    scores: Mapping[str, Sequence[int]]
    key: str = ""


@dataclass(frozen=True)
class ArmData(GroupData):
    """One arm of an experiment; ``key`` is the arm's variant key."""


class _Result(BaseModel):
    """Results are frozen and JSON-ready: no NaN or infinity, ``None`` where undefined."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class Interval(_Result):
    low: float
    high: float


class MetricSummary(_Result):
    """One metric of one group: a mean (CSAT, CES) or a net score in points (NPS)."""

    metric: Metric
    answers: int
    value: float | None
    interval: Interval | None
    enough_data: bool
    # NPS only: the three classes' counts.
    promoters: int | None = None
    passives: int | None = None
    detractors: int | None = None


class GroupSummary(_Result):
    key: str
    exposures: int
    answers: int
    # Answers over exposures, over all metrics (one reader may answer several); None if unseen.
    response_rate: float | None
    metrics: dict[str, MetricSummary]
    # True once any metric reached ``MIN_ANSWERS``; each metric says so for itself too.
    enough_data: bool
    min_answers: int = MIN_ANSWERS


class ArmDifference(_Result):
    """One arm against the first: the difference (this arm minus the first) for a metric."""

    metric: Metric
    difference: float | None
    interval: Interval | None
    p_value: float | None
    # Holm-adjusted over the comparisons with the first arm (equal to p_value with two arms).
    p_adjusted: float | None
    significant: bool
    enough_data: bool


class ArmResult(_Result):
    key: str
    weight: float
    summary: GroupSummary
    # Empty for the first arm, which the others are compared with.
    differences: dict[str, ArmDifference]


class SampleRatio(_Result):
    """Exposures against the weights: a mismatch means assignment or logging is broken."""

    expected_shares: list[float]
    observed_shares: list[float] | None
    chi_square: float | None
    p_value: float | None
    mismatch: bool
    alpha: float = SRM_ALPHA


class ArmComparison(_Result):
    arms: list[ArmResult]
    # Per metric, the arm that is significantly best, or None.
    winners: dict[str, str | None]
    # The winner on the primary metric (NPS by default): what a report headline names.
    primary: Metric
    winner: str | None
    sample_ratio: SampleRatio
    confidence: float = CONFIDENCE


class TimeBucket(_Result):
    """The groups' summaries over one day or week, for charts of scores over time."""

    start: str  # ISO date of the bucket's first day
    groups: list[GroupSummary]


Bucket = Literal["day", "week"]


def bucket_start(moment: datetime, bucket: Bucket) -> date:
    """The first day of the bucket ``moment`` falls in: its date, or the Monday of its ISO week
    (in the moment's own time zone; the store keeps UTC)."""
    day = moment.date()
    return day if bucket == "day" else day - timedelta(days=day.weekday())


def time_series(
    exposures: Iterable[tuple[datetime, str, int]],
    answers: Iterable[tuple[datetime, str, str, int]],
    bucket: Bucket,
    scales: Scales = DEFAULT_SCALES,
) -> list[TimeBucket]:
    """Each bucket's groups summarized, oldest first, from ``(when, group, count)`` exposures
    and ``(when, group, metric, score)`` answers (an answer counts when it was shown). Buckets
    with nothing in them between the first and the last are kept, empty, so a chart shows the
    gap instead of joining across it."""
    shown: dict[date, dict[str, int]] = {}
    scores: dict[date, dict[str, dict[str, list[int]]]] = {}
    for moment, group, count in exposures:
        day = shown.setdefault(bucket_start(moment, bucket), {})
        day[group] = day.get(group, 0) + count
    for moment, group, metric, score in answers:
        per = scores.setdefault(bucket_start(moment, bucket), {}).setdefault(group, {})
        per.setdefault(metric, []).append(score)
    starts = sorted(set(shown) | set(scores))
    if not starts:
        return []
    step = timedelta(days=1 if bucket == "day" else 7)
    out = []
    start = starts[0]
    while start <= starts[-1]:
        counted, answered = shown.get(start, {}), scores.get(start, {})
        groups = [
            summarize(GroupData(counted.get(g, 0), answered.get(g, {}), key=g), scales)
            for g in sorted(set(counted) | set(answered))
        ]
        out.append(TimeBucket(start=start.isoformat(), groups=groups))
        start += step
    return out


def follow_up_below(scales: Scales) -> dict[str, int]:
    """The highest score per metric that puts an answer with a comment on the agents'
    follow-up list: detractors (NPS 0-6) and a CSAT in the scale's bottom two points."""
    return {"nps": DETRACTOR_UP_TO, "csat": scales.csat.low + 1}


def needs_follow_up(metric: str, score: int, comment: str | None, scales: Scales) -> bool:
    """Whether an answer goes on the agents' follow-up list (``follow_up_below``): a low
    score, and a comment to answer to."""
    if comment is None or not comment.strip():
        return False
    limit = follow_up_below(scales).get(metric)
    return limit is not None and score <= limit


@dataclass(frozen=True)
class FollowUp:
    """An answer for an agent to follow up, and what it was about: a rendered document (its
    receipt) or a block (component, variant, version)."""

    answered: datetime
    metric: str
    score: int
    comment: str
    receipt: str | None = None
    component: str | None = None
    variant: str | None = None
    version: int | None = None
    locale: str | None = None

    @property
    def about(self) -> str:
        if self.receipt:
            return self.receipt
        block = f"{self.component or '?'}/{self.variant or '?'}"
        return f"{block} v{self.version}" if self.version is not None else block


def _answers(group: GroupData, scales: Scales) -> dict[Metric, Ints]:
    """Each metric's answers as an integer array, refused when off the scale or unknown."""
    if isinstance(group.exposures, bool) or not isinstance(group.exposures, int):
        raise FeedbackStatsError("exposures must be an integer")
    if group.exposures < 0:
        raise FeedbackStatsError(f"exposures cannot be negative, got {group.exposures}")
    unknown = sorted(set(group.scores) - set(METRICS))
    if unknown:
        raise FeedbackStatsError(f"unknown metric {unknown[0]!r}: known are {', '.join(METRICS)}")
    out: dict[Metric, Ints] = {}
    for metric in METRICS:
        raw = group.scores.get(metric, ())
        try:
            values = np.asarray(raw)
        except (TypeError, ValueError, OverflowError):
            values = np.asarray([None])  # ragged: refused just below
        if values.size == 0:
            values = values.astype(np.int64)
        # Integers only: a float, a boolean or a string is a caller's bug, not an answer.
        if values.ndim != 1 or values.dtype.kind not in "iu":
            raise FeedbackStatsError(f"{metric} answers must be a flat list of integers")
        scale = scales.of(metric)
        if values.size and (values.min() < scale.low or values.max() > scale.high):
            raise FeedbackStatsError(
                f"{metric} answers must lie in [{scale.low}, {scale.high}]",
                details={"metric": metric, "low": scale.low, "high": scale.high},
            )
        out[metric] = values.astype(np.int64)
    return out


def _clip(low: float, high: float, lo: float, hi: float) -> Interval:
    return Interval(low=max(lo, low), high=min(hi, high))


def _t_quantile(df: float) -> float:
    """Student's t quantile for the two-sided interval (``stats.t.ppf``, without its overhead)."""
    return float(_special().stdtrit(df, 1 - ALPHA / 2))


@functools.cache
def _special() -> Any:
    """``scipy.special``, imported on first use: it costs a second of start-up under load, and
    every CLI command and server imports this module while few compute a report."""
    from scipy import special

    return special


@functools.cache
def _z() -> float:
    """The normal quantile of the two-sided interval: 1.96 for 95 %."""
    return float(_special().ndtri(1 - ALPHA / 2))


def _mean_summary(metric: Metric, values: Ints, scale: Scale) -> MetricSummary:
    n = int(values.size)
    if n == 0:
        return MetricSummary(metric=metric, answers=0, value=None, interval=None, enough_data=False)
    mean = float(values.mean())
    interval = None
    if n >= 2:
        # With no spread (everyone answered alike) the t interval is the point itself; the
        # ``enough_data`` threshold is what keeps a tiny unanimous group from looking certain.
        half = _t_quantile(n - 1) * float(values.std(ddof=1)) / math.sqrt(n)
        interval = _clip(mean - half, mean + half, scale.low, scale.high)
    return MetricSummary(
        metric=metric, answers=n, value=mean, interval=interval, enough_data=n >= MIN_ANSWERS
    )


@dataclass(frozen=True)
class _NpsCounts:
    promoters: int
    passives: int
    detractors: int

    @classmethod
    def of(cls, values: Ints) -> _NpsCounts:
        counts = np.bincount(values, minlength=11)
        detractors = int(counts[: DETRACTOR_UP_TO + 1].sum())
        promoters = int(counts[PROMOTER_FROM:].sum())
        return cls(promoters, int(values.size) - promoters - detractors, detractors)

    @property
    def n(self) -> int:
        return self.promoters + self.passives + self.detractors

    def adjusted(self) -> tuple[float, float]:
        """The adjusted Wald estimate of the net share and its variance (per answer)."""
        n = self.n + _NPS_PSEUDO_N
        p = (self.promoters + _NPS_PSEUDO_EACH) / n
        d = (self.detractors + _NPS_PSEUDO_EACH) / n
        return p - d, (p + d - (p - d) ** 2) / n


def _nps_summary(values: Ints) -> MetricSummary:
    counts = _NpsCounts.of(values)
    n = counts.n
    value = interval = None
    if n:
        value = 100.0 * (counts.promoters - counts.detractors) / n
        center, variance = counts.adjusted()
        half = _z() * math.sqrt(variance)
        # The adjusted centre leans toward 0; on a handful of answers the interval could then
        # miss the observed score, so it is widened to hold it (never narrower, so no less sure).
        low, high = 100 * (center - half), 100 * (center + half)
        interval = _clip(min(low, value), max(high, value), -100.0, 100.0)
    return MetricSummary(
        metric="nps",
        answers=n,
        value=value,
        interval=interval,
        enough_data=n >= MIN_ANSWERS,
        promoters=counts.promoters,
        passives=counts.passives,
        detractors=counts.detractors,
    )


def _summary(group: GroupData, answers: Mapping[Metric, Ints], scales: Scales) -> GroupSummary:
    metrics = {
        m: _nps_summary(v) if m == "nps" else _mean_summary(m, v, scales.of(m))
        for m, v in answers.items()
    }
    total = sum(s.answers for s in metrics.values())
    return GroupSummary(
        key=group.key,
        exposures=group.exposures,
        answers=total,
        response_rate=total / group.exposures if group.exposures else None,
        metrics=dict(metrics),
        enough_data=any(s.enough_data for s in metrics.values()),
    )


def summarize(group: GroupData, scales: Scales = DEFAULT_SCALES) -> GroupSummary:
    """Counts, the three scores and their 95 % intervals for one group."""
    return _summary(group, _answers(group, scales), scales)


@dataclass(frozen=True)
class _Test:
    difference: float
    low: float
    high: float
    p_value: float


def _welch(arm: Ints, first: Ints) -> _Test | None:
    """Welch's t-test of two means (``stats.ttest_ind(equal_var=False)``, computed from the
    moments); None when either side has fewer than two answers."""
    if arm.size < 2 or first.size < 2:
        return None
    diff = float(arm.mean() - first.mean())
    va, vb = float(arm.var(ddof=1)) / arm.size, float(first.var(ddof=1)) / first.size
    if va + vb == 0:
        # No spread on either side: t is 0/0. The data leave no doubt, so the difference is
        # exact; ``enough_data`` still guards small groups.
        return _Test(diff, diff, diff, 1.0 if diff == 0 else 0.0)
    se = math.sqrt(va + vb)
    # Welch-Satterthwaite degrees of freedom.
    df = (va + vb) ** 2 / (va**2 / (arm.size - 1) + vb**2 / (first.size - 1))
    half = _t_quantile(df) * se
    p_value = float(2 * _special().stdtr(df, -abs(diff) / se))
    return _Test(diff, diff - half, diff + half, p_value)


def _nps_test(arm: Ints, first: Ints) -> _Test | None:
    """z-test on the adjusted Wald net shares; None when either side has no answer."""
    a, b = _NpsCounts.of(arm), _NpsCounts.of(first)
    if not a.n or not b.n:
        return None
    (ca, va), (cb, vb) = a.adjusted(), b.adjusted()
    center, se = ca - cb, math.sqrt(va + vb)
    half = _z() * se
    observed = 100.0 * ((a.promoters - a.detractors) / a.n - (b.promoters - b.detractors) / b.n)
    p_value = float(2 * _special().ndtr(-abs(center) / se))
    return _Test(observed, 100 * (center - half), 100 * (center + half), p_value)


def _holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjustment; missing p-values stay missing and do not count."""
    present = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    out: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(present):
        running = max(running, min(1.0, (len(present) - rank) * p))
        out[i] = running
    return out


def _sample_ratio(exposures: Sequence[int], weights: Sequence[float]) -> SampleRatio:
    total_weight = math.fsum(weights)
    expected = [w / total_weight for w in weights]
    total = sum(exposures)
    if total == 0 or len(exposures) < 2:
        return SampleRatio(
            expected_shares=expected,
            observed_shares=[e / total for e in exposures] if total else None,
            chi_square=None,
            p_value=None,
            mismatch=False,
        )
    # Pearson's statistic as ``stats.chisquare`` computes it, its tail from ``special``.
    observed, wanted = np.asarray(exposures, dtype=np.float64), total * np.asarray(expected)
    chi_square = float(((observed - wanted) ** 2 / wanted).sum())
    p_value = float(_special().chdtrc(len(exposures) - 1, chi_square))
    return SampleRatio(
        expected_shares=expected,
        observed_shares=[e / total for e in exposures],
        chi_square=chi_square,
        p_value=p_value,
        mismatch=p_value < SRM_ALPHA,
    )


def _weights(weights: Sequence[float], arms: int) -> list[float]:
    if len(weights) != arms:
        raise FeedbackStatsError(f"{arms} arms need {arms} weights, got {len(weights)}")
    out: list[float] = []
    for w in weights:
        if isinstance(w, bool) or not isinstance(w, int | float):
            raise FeedbackStatsError("weights must be numbers")
        if not math.isfinite(w) or w <= 0:
            raise FeedbackStatsError(f"weights must be positive and finite, got {w!r}")
        out.append(float(w))
    return out


def _winner(
    keys: Sequence[str], diffs: Sequence[ArmDifference], higher_is_better: bool
) -> str | None:
    """The arm significantly best against the first, or the first if it beats every other."""
    sign = 1.0 if higher_is_better else -1.0
    better = [
        (sign * d.difference, key)
        for key, d in zip(keys[1:], diffs, strict=True)
        if d.significant and d.difference is not None and sign * d.difference > 0
    ]
    if better:
        return max(better)[1]
    if diffs and all(d.significant for d in diffs):
        return keys[0]
    return None


def compare_arms(
    arms: Sequence[ArmData],
    weights: Sequence[float],
    scales: Scales = DEFAULT_SCALES,
    *,
    primary: Metric = "nps",
) -> ArmComparison:
    """Each arm against the first per metric, the winners, and the sample-ratio check.

    An arm's key names it; arms without one are named by their position from 1.
    """
    if not arms:
        raise FeedbackStatsError("an experiment needs at least one arm")
    if primary not in METRICS:
        raise FeedbackStatsError(f"unknown metric {primary!r}: known are {', '.join(METRICS)}")
    shares = _weights(weights, len(arms))
    keys = [arm.key or str(i) for i, arm in enumerate(arms, start=1)]
    if len(set(keys)) != len(keys):
        raise FeedbackStatsError("arm keys must be unique")
    answers = [_answers(arm, scales) for arm in arms]
    summaries = [_summary(arm, a, scales) for arm, a in zip(arms, answers, strict=True)]
    per_metric: dict[Metric, list[ArmDifference]] = {}
    winners: dict[str, str | None] = {}
    for metric in METRICS:
        first = answers[0][metric]
        tests = [(_nps_test if metric == "nps" else _welch)(a[metric], first) for a in answers[1:]]
        adjusted = _holm([t.p_value if t else None for t in tests])
        enough = [
            s.metrics[metric].enough_data and summaries[0].metrics[metric].enough_data
            for s in summaries[1:]
        ]
        diffs = [
            ArmDifference(
                metric=metric,
                difference=t.difference if t else None,
                interval=Interval(low=t.low, high=t.high) if t else None,
                p_value=t.p_value if t else None,
                p_adjusted=p,
                significant=bool(ok and p is not None and p < ALPHA),
                enough_data=ok,
            )
            for t, p, ok in zip(tests, adjusted, enough, strict=True)
        ]
        per_metric[metric] = diffs
        winners[metric] = _winner(keys, diffs, scales.of(metric).higher_is_better)
    results = [
        ArmResult(
            key=keys[i],
            weight=shares[i],
            summary=summaries[i].model_copy(update={"key": keys[i]}),
            differences={} if i == 0 else {m: per_metric[m][i - 1] for m in METRICS},
        )
        for i in range(len(arms))
    ]
    return ArmComparison(
        arms=results,
        winners=winners,
        primary=primary,
        winner=winners[primary],
        sample_ratio=_sample_ratio([arm.exposures for arm in arms], shares),
    )
