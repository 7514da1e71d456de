"""The app's Prometheus registry: requests by route, the fast path, the engine's own metrics.

In: every answered request as (route template, method, status, seconds) from ``observe``,
the fast path's result for the requests it considered, and the engine whose collectors
(``engine.metrics``: block cache, renders, data sources, refresh lag) the app's lifespan
registers. Out: the text ``GET /metrics`` answers (``exposition``), in Prometheus's text
format or OpenMetrics as the scraper's ``Accept`` asks.

One registry per app, never the process-wide default: tests build many apps in one process.
Label values come from bounded sets only: the route template (``/v1/blocks/{component}``,
never the path a client sent), the method when it is one HTTP defines (else ``other``), the
status class; a client's random URLs all count under ``none``. The labelled children are made
once per combination, so a request costs a dict lookup, a counter's and a histogram's lock.
With ``serve --workers N`` each worker counts its own requests and answers with its own.
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.exposition import choose_encoder
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

Children = tuple[Counter, Histogram]


class AppMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "content_engine_http_requests",
            "HTTP requests answered, by route template, method and status class.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "content_engine_http_request_duration_seconds",
            "Seconds from a request's arrival to the end of its answer, by route template "
            "and method.",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        fast = Counter(
            "content_engine_fastpath_lookups",
            "GET block requests the fast path considered, by whether it answered them from a "
            "stored answer (hit) or passed them to the route (miss).",
            ["result"],
            registry=self.registry,
        )
        self._fast = {True: fast.labels("hit"), False: fast.labels("miss")}
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self._children: dict[tuple[str, str, int], Children] = {}

    def answered(self, route: str, method: str, status: int, seconds: float) -> None:
        """One request, counted and timed (in the event loop: no await, no I/O)."""
        key = (route, method, status // 100)
        children = self._children.get(key)
        if children is None:
            children = self._children_of(*key)
        children[0].inc()
        children[1].observe(seconds)

    def _children_of(self, route: str, method: str, status_class: int) -> Children:
        named = method if method in METHODS else "other"
        shown = _CLASSES[status_class] if 0 <= status_class < len(_CLASSES) else "5xx"
        children = (self.requests.labels(route, named, shown), self.latency.labels(route, named))
        # Keyed by the method as sent: bounded, because unknown methods are few before
        # uvicorn refuses them and every distinct one costs one entry (at most 4096).
        if len(self._children) < 4096:
            self._children[(route, method, status_class)] = children
        return children

    def fast_path(self, hit: bool) -> None:
        self._fast[hit].inc()

    def watch(self, collectors: list[Collector]) -> None:
        for collector in collectors:
            self.registry.register(collector)

    def unwatch(self, collectors: list[Collector]) -> None:
        for collector in collectors:
            self.registry.unregister(collector)

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """Every metric as text, and its media type (OpenMetrics when ``accept`` asks)."""
        encoder, media_type = choose_encoder(accept or "")
        return encoder(self.registry), media_type
