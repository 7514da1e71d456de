"""The app's Prometheus registry: requests by route, the fast path, the engine's own metrics.

In: every answered request as (route template, method, status, seconds) from ``observe``,
the fast path's result for the requests it considered, and the engine whose collectors
(``engine.metrics``: block cache, renders, data sources, refresh lag) the app's lifespan
registers. Out: the text ``GET /metrics`` answers (``exposition``), in Prometheus's text
format or OpenMetrics as the scraper's ``Accept`` asks.

One registry per app, never the process-wide default: tests build many apps in one process.
Label values come from bounded sets only: the route template (``/v1/blocks/{component}``,
never the path a client sent), the method when it is one HTTP defines (else ``other``), the
status class; a client's random URLs all count under ``none``. With ``serve --workers N``
each worker counts its own requests and answers with its own.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["NO_ROUTE", "AppMetrics"]

NO_ROUTE = "none"  # an unknown path, or a request refused before routing
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Seconds: the fast path answers in tens of microseconds, a PDF in seconds.
LATENCY_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
_CLASSES = ("1xx", "1xx", "2xx", "3xx", "4xx", "5xx")
MAX_KEYS = 4096
_BUCKETS = len(LATENCY_BUCKETS) + 1  # and +Inf

# count, sum of seconds, then one count per bucket (not cumulative).
Series = list[float]


class AppMetrics:
    """The registry and the request counts.

    Requests are counted in plain Python numbers and turned into Prometheus families when
    scraped (``_RequestStats``): ``observe`` and ``GET /metrics`` both run in the event loop,
    never at once, so no lock is needed, and a request costs about half a microsecond instead
    of a prometheus-client histogram's and counters' locks (several times that, on a fast path
    that answers in tens of microseconds).
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._stats = _RequestStats()
        self._series: dict[tuple[str, str, int], Series] = {}  # as sent -> one of _stats's
        self._watching: dict[int, int] = {}  # id of a collector watched -> how many watch it
        self.registry.register(self._stats)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)

    def answered(self, route: str, method: str, status: int, seconds: float) -> None:
        """One request, counted and timed (in the event loop: no await, no I/O)."""
        series = self._series.get((route, method, status))
        if series is None:
            series = self._new_series(route, method, status)
        series[0] += 1
        series[1] += seconds
        series[2 + bisect_left(LATENCY_BUCKETS, seconds)] += 1

    def _new_series(self, route: str, method: str, status: int) -> Series:
        """The series of a combination seen for the first time: keyed as sent, for the next
        lookup, but an unknown method and status counted as ``other`` and ``5xx``, and past
        ``MAX_KEYS`` combinations (a client's made-up methods) not remembered as sent."""
        shown = (route, method if method in METHODS else "other", min(max(status // 100, 1), 5))
        series = self._stats.series.setdefault(shown, [0.0] * (2 + _BUCKETS))
        if len(self._series) < MAX_KEYS:
            self._series[(route, method, status)] = series
        return series

    def fast_path(self, hit: bool) -> None:
        self._stats.fast[hit] += 1

    def watch(self, collectors: list[Collector]) -> None:
        """Register the engine's collectors: once, however many lifespans of the app run on the
        same engine at a time (a test client and a fuzzer's own, say); the registry refuses a
        collector twice."""
        for collector in collectors:
            count = self._watching.get(id(collector), 0)
            if count == 0:
                self.registry.register(collector)
            self._watching[id(collector)] = count + 1

    def unwatch(self, collectors: list[Collector]) -> None:
        """Unregister them when the last lifespan that watched them ends."""
        for collector in collectors:
            count = self._watching.pop(id(collector), 0) - 1
            if count > 0:
                self._watching[id(collector)] = count
            elif count == 0:
                self.registry.unregister(collector)

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """Every metric as text, and its media type (OpenMetrics when ``accept`` asks)."""
        encoder, media_type = choose_encoder(accept or "")
        return encoder(self.registry), media_type


class _RequestStats(Collector):
    def __init__(self) -> None:
        self.series: dict[tuple[str, str, int], Series] = {}
        self.fast = {True: 0, False: 0}

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "content_engine_http_requests",
            "HTTP requests answered, by route template, method and status class.",
            labels=["route", "method", "status"],
        )
        latency = HistogramMetricFamily(
            "content_engine_http_request_duration_seconds",
            "Seconds from a request's arrival to the end of its answer, by route template "
            "and method.",
            labels=["route", "method"],
        )
        timed: dict[tuple[str, str], Series] = {}
        for (route, method, status_class), series in sorted(self.series.items()):
            requests.add_metric([route, method, _CLASSES[status_class]], series[0])
            both = timed.setdefault((route, method), [0.0] * len(series))
            for i, value in enumerate(series):
                both[i] += value
        for labels, series in timed.items():
            cumulative = list(itertools.accumulate(series[2:]))
            bounds = [*(str(b) for b in LATENCY_BUCKETS), "+Inf"]
            latency.add_metric(list(labels), list(zip(bounds, cumulative, strict=True)), series[1])
        fast = CounterMetricFamily(
            "content_engine_fastpath_lookups",
            "GET block requests the fast path considered, by whether it answered them from a "
            "stored answer (hit) or passed them to the route (miss).",
            labels=["result"],
        )
        fast.add_metric(["hit"], self.fast[True])
        fast.add_metric(["miss"], self.fast[False])
        yield from (requests, latency, fast)
