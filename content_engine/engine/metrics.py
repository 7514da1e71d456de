"""What the engine counts for operators: block-cache use, renders, data-source calls, freshness.

In: the engine's events as they happen (a block found in or missing from the block cache, a
render finished, the data sources a request asked) and, at scrape time, how long ago the
library in memory was last confirmed current. Out: Prometheus collectors, registered in no
registry: the web layer registers them in its app's own (tests build many apps on one
engine, and a process-wide registry would refuse the second). Every label value comes from a
bounded set (a result, a renderer's format, a source name of the deployment's sources file),
never from a request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from time import monotonic

from prometheus_client import Counter, Histogram
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from content_engine.core.lookups import Asked

__all__ = ["EngineMetrics", "Loaded"]

# Seconds: from a block assembled in a few milliseconds to a PDF of many pages.
RENDER_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Seconds: a cache answer, a local query, a remote service near its timeout.
SOURCE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

# The revision in memory and the monotonic time it was last confirmed current, or ``None``
# before the library was first loaded.
Loaded = Callable[[], tuple[int, float] | None]


class EngineMetrics:
    """The engine's counters and histograms, and the gauges read when scraped.

    Counting costs a lock and an addition (the labelled children are made once): the block
    cache is asked on every block request, the fast path's included.
    """

    def __init__(self, loaded: Loaded) -> None:
        self.block_cache = Counter(
            "content_engine_block_cache_lookups",
            "Blocks asked of the block cache for a request, by whether it held them.",
            ["result"],
            registry=None,
        )
        self._hit = self.block_cache.labels("hit")
        self._miss = self.block_cache.labels("miss")
        self.renders = Histogram(
            "content_engine_render_seconds",
            "Renders (and replays) of publications that succeeded, by format: seconds from "
            "assembly to the stored receipt.",
            ["format"],
            buckets=RENDER_BUCKETS,
            registry=None,
        )
        self.source_calls = Counter(
            "content_engine_source_calls",
            "Data sources asked for a request, by source, outcome (found, not_found, "
            "unavailable, skipped) and whether the cache (or an identical call in flight) "
            "answered.",
            ["source", "outcome", "cache"],
            registry=None,
        )
        self.source_seconds = Histogram(
            "content_engine_source_seconds",
            "Seconds a request waited for a data source (skipped ones left out), by source.",
            ["source"],
            buckets=SOURCE_BUCKETS,
            registry=None,
        )
        self._gauges = _LibraryGauges(loaded)  # one object: registering it again is refused

    def collectors(self) -> list[Collector]:
        return [
            self.block_cache,
            self.renders,
            self.source_calls,
            self.source_seconds,
            self._gauges,
        ]

    def block_looked_up(self, found: bool) -> None:
        (self._hit if found else self._miss).inc()

    def rendered(self, format: str, seconds: float) -> None:
        self.renders.labels(format).observe(seconds)

    def sources_asked(self, asked: Sequence[Asked]) -> None:
        """Every source one request asked (the ``Asked`` records), however the request ended."""
        for one in asked:
            cache = "hit" if one.cache_hit else "miss"
            self.source_calls.labels(one.source, one.outcome, cache).inc()
            if one.outcome != "skipped":
                self.source_seconds.labels(one.source).observe(one.seconds)


class _LibraryGauges(Collector):
    """Read at scrape time from memory: no query, so a scrape never waits on the database."""

    def __init__(self, loaded: Loaded) -> None:
        self.loaded = loaded

    def describe(self) -> Iterable[Metric]:
        return list(self._families())  # known without the library: names and help only

    def collect(self) -> Iterator[Metric]:
        found = self.loaded()
        revision, age = self._families()
        if found is not None:
            revision.add_metric([], found[0])
            age.add_metric([], max(0.0, monotonic() - found[1]))
        yield revision
        yield age

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily(
                "content_engine_library_revision",
                "The repository revision of the library served from memory.",
            ),
            GaugeMetricFamily(
                "content_engine_library_checked_age_seconds",
                "Seconds since the library in memory was last confirmed current against the "
                "database (the refresh lag: a change made elsewhere is served at most this "
                "late).",
            ),
        )
