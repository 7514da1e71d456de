"""Feedback statistics against seeded simulations: right winner, honest false-positive rate,
intervals that agree with a bootstrap, a sample-ratio check that flags a broken split."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from content_engine.core.feedbackstats import (
    MIN_ANSWERS,
    ArmComparison,
    ArmData,
    Bucket,
    FeedbackStatsError,
    GroupData,
    Scale,
    Scales,
    bucket_start,
    compare_arms,
    needs_follow_up,
    summarize,
    time_series,
)

READERS = 20_000
RESPONSE_RATE = 0.3
# NPS classes' shares (detractor, passive, promoter) of the two simulated arms: NPS 10 and 18.
BASE = (0.30, 0.30, 0.40)
BETTER = (0.26, 0.30, 0.44)
TRUE_DIFFERENCE = 8.0


def _nps_answers(
    rng: np.random.Generator, n: int, shares: Sequence[float]
) -> npt.NDArray[np.int64]:
    """Answers on 0-10 with the given detractor/passive/promoter shares, spread in each class."""
    klass = rng.choice(3, size=n, p=list(shares))
    low = np.array([0, 7, 9])[klass]
    width = np.array([7, 2, 2])[klass]
    return low + rng.integers(0, 1_000_000, size=n) % width


def _experiment(
    seed: int, shares_b: Sequence[float], weights: Sequence[float] = (1, 1)
) -> list[ArmData]:
    """20,000 readers assigned by weight; 30 % answer NPS, CSAT and CES (equal in both arms)."""
    rng = np.random.default_rng(seed)
    p_first = weights[0] / sum(weights)
    in_first = int((rng.random(READERS) < p_first).sum())
    arms = []
    for key, exposures, shares in (("a", in_first, BASE), ("b", READERS - in_first, shares_b)):
        answering = int(rng.binomial(exposures, RESPONSE_RATE))
        arms.append(
            ArmData(
                key=key,
                exposures=exposures,
                scores={
                    "nps": _nps_answers(rng, answering, shares),
                    "csat": rng.integers(1, 6, size=answering),
                    "ces": rng.integers(1, 8, size=answering),
                },
            )
        )
    return arms


def _json(result: ArmComparison | object) -> str:
    dump = result.to_json()  # type: ignore[attr-defined]
    return json.dumps(dump, allow_nan=False)


def test_the_better_arm_is_named_and_its_interval_holds_the_true_difference() -> None:
    result = compare_arms(_experiment(1, BETTER), [1, 1])
    assert result.winner == "b"
    assert result.winners["nps"] == "b"
    diff = result.arms[1].differences["nps"]
    assert diff.interval is not None and diff.p_value is not None
    assert diff.interval.low < TRUE_DIFFERENCE < diff.interval.high
    assert diff.interval.low > 0 and diff.p_value < 1e-4
    assert not result.sample_ratio.mismatch
    _json(result)


def test_difference_intervals_cover_the_true_difference_about_95_percent_of_runs() -> None:
    covered = 0
    for seed in range(200):
        interval = compare_arms(_experiment(seed, BETTER), [1, 1]).arms[1].differences["nps"]
        assert interval.interval is not None
        covered += interval.interval.low <= TRUE_DIFFERENCE <= interval.interval.high
    # Binomial(200, 0.95) lies in [180, 197] with probability > 0.995.
    assert 180 <= covered <= 197


def test_equal_arms_claim_a_winner_in_at_most_5_percent_of_200_runs() -> None:
    claims = {"nps": 0, "csat": 0, "ces": 0}
    for seed in range(1000, 1200):
        result = compare_arms(_experiment(seed, BASE), [1, 1])
        for metric, winner in result.winners.items():
            claims[metric] += winner is not None
        assert result.winner == result.winners["nps"]
    assert claims["nps"] <= 10, claims
    # Nor is the test so timid that it never fires: the rates stay near the nominal 5 %.
    for metric, count in claims.items():
        assert stats.binomtest(count, 200, 0.05).pvalue > 0.001, (metric, claims)


def _bootstrap_nps(
    rng: np.random.Generator, answers: Sequence[int], draws: int = 4000
) -> npt.NDArray[np.float64]:
    """Percentile bootstrap of the NPS: resample the answers' classes, vectorised."""
    values = np.asarray(answers)
    counts = np.array(
        [(values <= 6).sum(), ((values >= 7) & (values <= 8)).sum(), (values >= 9).sum()]
    )
    resampled = rng.multinomial(values.size, counts / values.size, size=draws)
    return 100.0 * (resampled[:, 2] - resampled[:, 0]) / values.size


def test_the_nps_interval_agrees_with_a_bootstrap_on_the_same_data() -> None:
    rng = np.random.default_rng(7)
    arms = _experiment(3, BETTER)
    for arm in arms:
        nps = summarize(arm).metrics["nps"]
        assert nps.interval is not None
        boot = _bootstrap_nps(rng, arm.scores["nps"])
        low, high = np.percentile(boot, [2.5, 97.5])
        assert nps.interval.low == pytest.approx(low, abs=0.5)
        assert nps.interval.high == pytest.approx(high, abs=0.5)
    # The difference too: independent bootstraps of the two arms.
    diff = compare_arms(arms, [1, 1]).arms[1].differences["nps"]
    assert diff.interval is not None
    boot_diff = _bootstrap_nps(rng, arms[1].scores["nps"]) - _bootstrap_nps(
        rng, arms[0].scores["nps"]
    )
    low, high = np.percentile(boot_diff, [2.5, 97.5])
    assert diff.interval.low == pytest.approx(low, abs=0.5)
    assert diff.interval.high == pytest.approx(high, abs=0.5)


def test_means_use_the_t_interval() -> None:
    result = summarize(GroupData(exposures=10, scores={"csat": [1, 2, 3, 4, 5]}))
    csat = result.metrics["csat"]
    assert csat.value == 3.0
    assert csat.interval is not None
    half = stats.t.ppf(0.975, 4) * np.std([1, 2, 3, 4, 5], ddof=1) / np.sqrt(5)
    assert csat.interval.low == pytest.approx(max(1.0, 3 - half))
    assert csat.interval.high == pytest.approx(min(5.0, 3 + half))
    assert result.answers == 5 and result.response_rate == 0.5
    assert not result.enough_data


def test_nps_counts_promoters_and_detractors() -> None:
    nps = summarize(GroupData(exposures=4, scores={"nps": [0, 6, 7, 8, 9, 10, 10]})).metrics["nps"]
    assert (nps.detractors, nps.passives, nps.promoters) == (2, 2, 3)
    assert nps.value == pytest.approx(100 * (3 - 2) / 7)


@pytest.mark.parametrize(
    ("exposures", "weights", "flagged"),
    [
        ((9_000, 11_000), (1, 1), True),  # 45/55 on 20,000
        ((10_000, 10_000), (1, 1), False),
        ((10_080, 9_920), (1, 1), False),  # ordinary noise
        ((16_000, 4_000), (80, 20), False),  # 80/20 honoured in the expectation
        ((10_000, 10_000), (80, 20), True),
        ((15_700, 4_300), (0.8, 0.2), True),
    ],
)
def test_sample_ratio_mismatch(
    exposures: tuple[int, int], weights: tuple[float, float], flagged: bool
) -> None:
    arms = [ArmData(key=k, exposures=e, scores={}) for k, e in zip("ab", exposures, strict=True)]
    srm = compare_arms(arms, weights).sample_ratio
    assert srm.mismatch is flagged
    total_exposures = sum(exposures)
    expected = stats.chisquare(exposures, [total_exposures * w / sum(weights) for w in weights])
    assert srm.p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
    total = sum(weights)
    assert srm.expected_shares == pytest.approx([w / total for w in weights])
    assert srm.observed_shares == pytest.approx([e / sum(exposures) for e in exposures])


def test_sample_ratio_rarely_flags_a_fair_split() -> None:
    rng = np.random.default_rng(11)
    flagged = 0
    for _ in range(200):
        first = int(rng.binomial(READERS, 0.8))
        arms = [
            ArmData(key="a", exposures=first, scores={}),
            ArmData(key="b", exposures=READERS - first, scores={}),
        ]
        flagged += compare_arms(arms, [80, 20]).sample_ratio.mismatch
    assert flagged <= 2  # expected 0.2 at alpha 0.001


def test_ces_where_lower_is_better() -> None:
    effort = Scales(ces=Scale(1, 7, higher_is_better=False))
    arms = [
        ArmData(100, {"ces": [5, 6] * 40}, key="a"),
        ArmData(100, {"ces": [2, 3] * 40}, key="b"),
    ]
    assert compare_arms(arms, [1, 1], effort).winners["ces"] == "b"
    assert compare_arms(arms, [1, 1]).winners["ces"] == "a"


def test_the_first_arm_wins_only_when_every_other_is_worse() -> None:
    good, bad = [5, 4] * 40, [1, 2] * 40
    arms = [ArmData(90, {"csat": good}, key="a"), ArmData(90, {"csat": bad}, key="b")]
    assert compare_arms(arms, [1, 1]).winners["csat"] == "a"
    arms.append(ArmData(90, {"csat": good}, key="c"))
    assert compare_arms(arms, [1, 1, 1]).winners["csat"] is None


def test_too_few_answers_name_no_winner() -> None:
    arms = [
        ArmData(40, {"nps": [0] * (MIN_ANSWERS - 1)}, key="a"),
        ArmData(40, {"nps": [10] * (MIN_ANSWERS - 1)}, key="b"),
    ]
    result = compare_arms(arms, [1, 1])
    diff = result.arms[1].differences["nps"]
    assert diff.p_value is not None and diff.p_value < 1e-6
    assert not diff.enough_data and not diff.significant and result.winner is None


@pytest.mark.parametrize(
    ("group", "message"),
    [
        (GroupData(5, {"csat": [0, 3]}), "csat answers must lie in [1, 5]"),
        (GroupData(5, {"nps": [11]}), "nps answers must lie in [0, 10]"),
        (GroupData(5, {"ces": [8]}), "ces answers must lie in [1, 7]"),
        (GroupData(5, {"ces": [2.5]}), "flat list of integers"),  # type: ignore[list-item]
        (GroupData(5, {"ces": ["3"]}), "flat list of integers"),  # type: ignore[list-item]
        (GroupData(5, {"ces": [True]}), "flat list of integers"),
        (GroupData(5, {"ces": [[1, 2], [3]]}), "flat list of integers"),  # type: ignore[list-item]
        (GroupData(5, {"mood": [1]}), "unknown metric 'mood'"),
        (GroupData(-1, {}), "exposures cannot be negative"),
    ],
)
def test_bad_answers_are_refused(group: GroupData, message: str) -> None:
    with pytest.raises(FeedbackStatsError, match=message.replace("[", r"\[").replace("]", r"\]")):
        summarize(group)


@pytest.mark.parametrize(
    ("weights", "message"),
    [((1,), "2 arms need 2 weights"), ((1, 0), "positive"), ((1, float("nan")), "positive")],
)
def test_bad_weights_are_refused(weights: tuple[float, ...], message: str) -> None:
    arms = [ArmData(1, {}, key="a"), ArmData(1, {}, key="b")]
    with pytest.raises(FeedbackStatsError, match=message):
        compare_arms(arms, weights)


def test_bad_scales_and_arms_are_refused() -> None:
    with pytest.raises(FeedbackStatsError, match="low < high"):
        Scale(5, 1)
    with pytest.raises(FeedbackStatsError, match="fixed at 0-10"):
        Scales(nps=Scale(1, 10))
    with pytest.raises(FeedbackStatsError, match="at least one arm"):
        compare_arms([], [])
    with pytest.raises(FeedbackStatsError, match="unique"):
        compare_arms([ArmData(1, {}, key="a"), ArmData(1, {}, key="a")], [1, 1])


_METRIC_RANGES = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}


@st.composite
def _groups(draw: st.DrawFn, key: str = "") -> ArmData:
    """Small groups, often degenerate: no answers, one answer, everyone alike."""
    scores: dict[str, list[int]] = {}
    for metric, (low, high) in _METRIC_RANGES.items():
        values = st.integers(low, high)
        scores[metric] = draw(
            st.one_of(
                st.lists(values, max_size=40),
                st.builds(lambda v, n: [v] * n, values, st.integers(0, 60)),
            )
        )
    return ArmData(key=key, exposures=draw(st.integers(0, 10_000)), scores=scores)


@settings(max_examples=40, deadline=None)
@given(_groups())
def test_any_group_summarizes_to_json_with_the_point_inside_its_interval(group: ArmData) -> None:
    result = summarize(group)
    json.dumps(result.to_json(), allow_nan=False)
    for metric, summary in result.metrics.items():
        low, high = _METRIC_RANGES[metric] if metric != "nps" else (-100, 100)
        assert summary.answers == len(group.scores[metric])
        assert summary.enough_data is (summary.answers >= MIN_ANSWERS)
        if summary.value is None:
            assert summary.answers == 0 and summary.interval is None
            continue
        assert low <= summary.value <= high
        if summary.interval is not None:
            assert low <= summary.interval.low <= summary.value <= summary.interval.high <= high


@settings(max_examples=40, deadline=None)
@given(st.lists(_groups(), min_size=1, max_size=4), st.data())
def test_any_arms_compare_to_json_and_winners_are_significant(
    groups: list[ArmData], data: st.DataObject
) -> None:
    arms = [ArmData(g.exposures, g.scores, key=str(i)) for i, g in enumerate(groups)]
    weights = data.draw(st.lists(st.floats(0.01, 100), min_size=len(arms), max_size=len(arms)))
    result = compare_arms(arms, weights)
    json.dumps(result.to_json(), allow_nan=False)
    assert [a.key for a in result.arms] == [a.key for a in arms]
    assert result.arms[0].differences == {}
    for metric, winner in result.winners.items():
        diffs = [a.differences[metric] for a in result.arms[1:]]
        for d in diffs:
            assert d.significant <= d.enough_data
            for p in (d.p_value, d.p_adjusted):
                assert p is None or 0 <= p <= 1
            if d.p_value is not None and d.p_adjusted is not None:
                assert d.p_adjusted >= d.p_value
        if winner is not None:
            assert any(d.significant for d in diffs)
    if len(arms) == 1:
        assert result.winner is None and result.sample_ratio.p_value is None


def test_unanimous_equal_arms_differ_by_nothing() -> None:
    arms = [ArmData(50, {"csat": [4] * 40}, key="a"), ArmData(50, {"csat": [4] * 40}, key="b")]
    diff = compare_arms(arms, [1, 1]).arms[1].differences["csat"]
    assert diff.difference == 0 and diff.p_value == 1.0 and not diff.significant


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_welch_agrees_with_scipys_t_test(seed: int) -> None:
    rng = np.random.default_rng(seed)
    first, other = rng.integers(1, 6, size=40), rng.integers(2, 6, size=65)
    arms = [ArmData(50, {"csat": first}, key="a"), ArmData(80, {"csat": other}, key="b")]
    diff = compare_arms(arms, [1, 1]).arms[1].differences["csat"]
    expected = stats.ttest_ind(other, first, equal_var=False)
    ci = expected.confidence_interval(0.95)
    assert diff.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    assert diff.interval is not None
    assert (diff.interval.low, diff.interval.high) == pytest.approx((ci.low, ci.high), rel=1e-9)


@pytest.mark.parametrize(
    ("moment", "bucket", "start"),
    [
        ("2026-12-02T23:59:00+00:00", "day", "2026-12-02"),
        ("2026-12-02T10:00:00+00:00", "week", "2026-11-30"),  # a Wednesday: its Monday
        ("2026-11-30T00:00:00+00:00", "week", "2026-11-30"),
        ("2027-01-03T12:00:00+00:00", "week", "2026-12-28"),  # across the year's end
    ],
)
def test_buckets_start_on_the_day_or_the_monday(moment: str, bucket: Bucket, start: str) -> None:
    assert bucket_start(datetime.fromisoformat(moment), bucket).isoformat() == start


@pytest.mark.parametrize(
    ("metric", "score", "comment", "scales", "listed"),
    [
        ("nps", 6, "too slow", Scales(), True),
        ("nps", 0, "never again", Scales(), True),
        ("nps", 7, "meh", Scales(), False),  # a passive
        ("nps", 3, None, Scales(), False),  # nothing to answer to
        ("nps", 3, "   ", Scales(), False),
        ("csat", 2, "rude", Scales(), True),
        ("csat", 3, "ok", Scales(), False),
        ("csat", 3, "on a 2-7 scale", Scales(csat=Scale(2, 7)), True),
        ("ces", 1, "hard", Scales(), False),
    ],
)
def test_who_needs_a_follow_up(
    metric: str, score: int, comment: str | None, scales: Scales, listed: bool
) -> None:
    assert needs_follow_up(metric, score, comment, scales) is listed


def test_a_time_series_per_week_keeps_empty_weeks_for_the_gap() -> None:
    monday = datetime.fromisoformat("2026-11-02T08:00:00+00:00")
    week = timedelta(days=7)
    exposures = [
        (monday, "a", 10),
        (monday + timedelta(days=2), "a", 5),
        (monday + 2 * week, "b", 4),
    ]
    answers = [
        (monday + timedelta(days=1), "a", "csat", 4),
        (monday + timedelta(days=6), "a", "csat", 2),
        (monday + 2 * week, "b", "nps", 10),
    ]
    series = time_series(exposures, answers, "week")
    assert [b.start for b in series] == ["2026-11-02", "2026-11-09", "2026-11-16"]
    first, gap, last = series
    assert [(g.key, g.exposures, g.metrics["csat"].value) for g in first.groups] == [("a", 15, 3.0)]
    assert gap.groups == []
    assert [(g.key, g.metrics["nps"].value) for g in last.groups] == [("b", 100.0)]
    assert time_series([], [], "day") == []
