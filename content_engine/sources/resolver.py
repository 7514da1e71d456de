"""Fetch what one request needs from the data sources, concurrently, within one deadline.

In: the sources file (``Sources.load``), then per request the caller's lookup keys, the names
the request reads (a selected body, a segment rule) and its deadline. Out: a ``Fetched`` (the
values by source name, every source asked with its key name, time and cache use, warnings), or
``LookupNotFound`` when a required source finds nothing and ``SourceUnavailable`` when one fails
or runs past its timeout or the deadline. Only the sources needed and those their ``from``
chains read are asked; each starts as soon as the one it reads has answered, independent ones
at once, each source on a bounded pool of threads of its own that every request shares. The
request never waits past its deadline or a source past its timeout: a call still running then
is left to end on its own bounds (timeouts at the database and on the socket) and its answer,
if any, goes to the cache. Many requests at once (a chunk of a batch) are asked in bulk first
(``prefetch``), and each request's ``fetch`` takes the answers found there (``known``) instead
of asking again.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Protocol

from content_engine.core.errors import (
    InvalidContext,
    LookupNotFound,
    SourcesConfigError,
    SourceUnavailable,
)
from content_engine.core.lookups import Asked, Fetched, Outcome, check_lookup, order, value_problem
from content_engine.sources.cache import LookupCache
from content_engine.sources.config import SourcesConfig, SourceSpec, load_config
from content_engine.sources.file import FileSource
from content_engine.sources.http import HttpSource
from content_engine.sources.limits import DEFAULT_LIMITS, SourcesLimits
from content_engine.sources.rows import Failure
from content_engine.sources.sql import SqlSource

__all__ = ["Observer", "Prefetched", "Sources"]


# Told the ``Asked`` records of each request (the engine's metrics).
Observer = Callable[[Sequence[Asked]], None]


class _Kind(Protocol):
    def fetch(self, value: str, due: float) -> Any: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Prefetched:
    """Answers asked in bulk for many requests' lookups (a chunk of a batch), by source name
    and key value; kept only by whoever holds this object, never in the shared cache, so a
    source with ``cache_ttl: 0`` serves no later request from it."""

    answers: Mapping[tuple[str, str], Any] = field(default_factory=dict)


@dataclass
class _Running:
    spec: SourceSpec
    future: Future[Any]
    started: float
    due: float  # this request stops waiting then
    shared: bool


class Sources:
    """The data sources of a deployment: load once, ``fetch`` per request, ``close`` at the end."""

    def __init__(
        self,
        config: SourcesConfig,
        limits: SourcesLimits = DEFAULT_LIMITS,
        observe: Observer | None = None,
    ) -> None:
        self.config = config
        self.limits = limits
        self.observe = observe  # told every request's ``Asked`` records, however it ended
        self._kinds = {
            name: _kind(spec, config.file, limits) for name, spec in config.sources.items()
        }
        self._cache = LookupCache(max_entries=limits.max_cached)
        self._pools = {
            name: ThreadPoolExecutor(limits.workers, thread_name_prefix=f"content-engine-{name}")
            for name in config.sources
        }

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        environ: Mapping[str, str],
        limits: SourcesLimits = DEFAULT_LIMITS,
        observe: Observer | None = None,
    ) -> Sources:
        """The sources of the file at ``path``, ``${NAME}`` read from ``environ``."""
        return cls(load_config(path, environ, limits), limits, observe)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.config.sources)

    @property
    def keys(self) -> frozenset[str]:
        """The lookup keys a request may bring: those of the sources that read no other one."""
        return frozenset(s.key for s in self.config.sources.values() if s.depends_on is None)

    def fetch(
        self,
        lookup: Mapping[str, Any],
        needed: Iterable[str],
        deadline: float | None = None,
        known: Prefetched | None = None,
    ) -> Fetched:
        """Ask the sources ``needed`` names read. ``deadline`` (``time.monotonic()``) bounds the
        request with the file's own ``deadline`` seconds from now, whichever comes first. An
        answer ``known`` holds (asked in bulk) is taken as it is, as a cache hit."""
        keys = check_lookup(lookup)
        request = _Request(self, keys, self._due(deadline), known)
        try:
            return request.run(needed)
        finally:  # a required source's failure raises: what was asked still counts
            if self.observe is not None:
                self.observe(request.asked)

    def prefetch(
        self,
        lookups: Iterable[Mapping[str, Any]],
        needed: Iterable[str],
        deadline: float | None = None,
    ) -> Prefetched:
        """Ask in bulk what ``fetch`` would ask for each of ``lookups``: the sources keyed by a
        lookup key first, then those whose ``from`` reads them, level by level, each source
        once for all the distinct keys (``sql`` with a ``bulk_query``: one query per
        ``max_bulk_keys`` keys; ``file``: one read of its index; ``http`` and ``sql`` without
        one have no bulk form: a call per key, at once on the pool, coalesced and cached as
        ever). Never raises: a lookup that is invalid, a bulk call that fails or runs past the
        deadline (the file's, from now) and a key whose own answer failed are simply not
        answered, and each request asks those on its own, with its own clear failure."""
        due = self._due(deadline)
        keysets: list[dict[str, str]] = []
        for lookup in lookups:
            try:
                keysets.append(check_lookup(lookup))
            except InvalidContext:
                continue
        depends_on = {name: spec.depends_on for name, spec in self.config.sources.items()}
        answers: dict[tuple[str, str], Any] = {}
        asked: dict[str, list[str]] = {}
        for name in order(depends_on, needed):  # a source comes after the one it reads
            spec = self.config.sources[name]
            if spec.depends_on is None:
                found: Iterable[str | None] = (keys.get(spec.key) for keys in keysets)
            else:
                upstream = (answers.get((spec.depends_on, v)) for v in asked[spec.depends_on])
                found = (from_value(spec, row) for row in upstream)
            values = list(dict.fromkeys(v for v in found if v is not None))
            asked[name] = values
            if values and time.monotonic() < due:
                for value, got in self._ask_many(spec, values, due).items():
                    answers[(name, value)] = got
        return Prefetched(answers)

    def _ask_many(self, spec: SourceSpec, values: list[str], due: float) -> dict[str, Any]:
        """The answers one source gives for ``values`` by ``due``; those it could not give are
        left out."""
        due = min(due, time.monotonic() + spec.timeout)
        kind = self._kinds[spec.name]
        if isinstance(kind, FileSource) or (isinstance(kind, SqlSource) and spec.bulk_query):
            future = self._pools[spec.name].submit(kind.fetch_many, values, due)
            wait([future], timeout=max(0.0, due - time.monotonic()))
            if not future.done() or future.exception() is not None:
                return {}
            answers: dict[str, Any] = future.result()
            return answers
        futures = {value: self._start(spec, value, due)[0] for value in values}
        wait(list(futures.values()), timeout=max(0.0, due - time.monotonic()))
        return {
            value: future.result()
            for value, future in futures.items()
            if future.done() and not future.cancelled() and future.exception() is None
        }

    def _due(self, deadline: float | None) -> float:
        due = time.monotonic() + self.config.deadline
        return due if deadline is None else min(due, deadline)

    def _start(self, spec: SourceSpec, value: str, due: float) -> tuple[Future[Any], bool]:
        kind = self._kinds[spec.name]

        def call() -> Any:
            if time.monotonic() >= due:  # waited in the queue past its time
                raise Failure("timed out")
            return kind.fetch(value, due)

        return self._cache.get(
            (spec.name, value),
            lambda: self._pools[spec.name].submit(call),
            ttl=spec.cache_ttl,
            negative_ttl=spec.negative_ttl,
        )

    def close(self) -> None:
        """Stop taking lookups and close every connection pool (calls running end on their own)."""
        for pool in self._pools.values():
            pool.shutdown(wait=False, cancel_futures=True)
        for kind in self._kinds.values():
            kind.close()

    def __enter__(self) -> Sources:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _kind(spec: SourceSpec, file: str, limits: SourcesLimits) -> _Kind:
    if spec.kind == "http":
        return HttpSource(spec, limits)
    if spec.kind == "file":
        return FileSource(spec, limits)
    try:
        return SqlSource(spec, limits)
    except ValueError as exc:
        raise SourcesConfigError(f"sources.{spec.name}.url: {exc}", file=file) from None


def from_value(spec: SourceSpec, upstream_row: Any) -> str | None:
    """The key ``spec`` takes from the row of the source its ``from`` reads, or ``None`` when
    that row has no usable value there (none, not text or a number, not a valid lookup value).
    """
    if not isinstance(upstream_row, dict):
        return None
    found = upstream_row.get(spec.from_field or "")
    if isinstance(found, bool) or not isinstance(found, str | int | float):
        return None
    value = str(found)
    return value if value_problem(value) is None else None


class _Request:
    """One request's lookups: started as their keys become known, awaited until ``due``."""

    def __init__(
        self, sources: Sources, keys: dict[str, str], due: float, known: Prefetched | None
    ) -> None:
        self.sources = sources
        self.known = known.answers if known is not None else {}
        self.specs = sources.config.sources
        self.keys = keys
        self.due = due
        self.values: dict[str, Any] = {}
        self.asked: list[Asked] = []
        self.warnings: list[str] = []
        self.running: dict[str, _Running] = {}
        self.waiting: dict[str, list[str]] = {}  # source -> the sources that read it

    def run(self, needed: Iterable[str]) -> Fetched:
        depends_on = {name: spec.depends_on for name, spec in self.specs.items()}
        for name in order(depends_on, needed):
            upstream = depends_on[name]
            if upstream is None:
                self._begin(self.specs[name], self.keys.get(self.specs[name].key))
            else:
                self.waiting.setdefault(upstream, []).append(name)
        while self.running:
            now = time.monotonic()
            soonest = min(r.due for r in self.running.values())
            if soonest > now:
                futures = [r.future for r in self.running.values()]
                wait(futures, timeout=soonest - now, return_when=FIRST_COMPLETED)
            for name, running in list(self.running.items()):
                if running.future.done():
                    self._finish(name, running)
                elif time.monotonic() >= running.due:
                    del self.running[name]
                    past = "the deadline" if running.due >= self.due else "its timeout"
                    self._failed(running.spec, f"ran past {past}", running)
        return Fetched(values=self.values, asked=self.asked, warnings=self.warnings)

    def _begin(self, spec: SourceSpec, value: str | None, why: str | None = None) -> None:
        """Start ``spec``'s lookup of ``value``, or settle it at once when there is no value."""
        if value is None:
            self._record(spec, 0.0, False, "skipped")
            reason = why or f"has no value for lookup key {spec.key!r}"
            self._nothing(spec, reason)
            return
        started = time.monotonic()
        due = min(self.due, started + spec.timeout)
        if (spec.name, value) in self.known:
            future: Future[Any] = Future()
            future.set_result(self.known[(spec.name, value)])
            shared = True
        else:
            future, shared = self.sources._start(spec, value, due)
        self.running[spec.name] = _Running(spec, future, started, due, shared)

    def _finish(self, name: str, running: _Running) -> None:
        del self.running[name]
        spec = running.spec
        try:
            value = running.future.result()
        except Failure as exc:
            self._failed(spec, exc.reason, running)
            return
        except Exception as exc:  # a driver's own bug must not become a 500
            self._failed(spec, f"failed ({type(exc).__name__})", running)
            return
        if value is None or (spec.required and value == []):
            self._record(spec, self._took(running), running.shared, "not_found")
            self._nothing(spec, "found nothing")
            return
        self._record(spec, self._took(running), running.shared, "found")
        self.values[name] = value
        for reader in self.waiting.pop(name, []):
            self._follow(self.specs[reader], value)

    def _follow(self, spec: SourceSpec, upstream_row: Any) -> None:
        """Start ``spec`` with the field its ``from`` names in the row just found."""
        why = f"found no usable {spec.from_field!r} in {spec.depends_on!r}"
        self._begin(spec, from_value(spec, upstream_row), why)

    def _failed(self, spec: SourceSpec, reason: str, running: _Running) -> None:
        self._record(spec, self._took(running), running.shared, "unavailable")
        if spec.required:
            raise SourceUnavailable(spec.name, reason)
        self.warnings.append(f"data source {spec.name!r} is unavailable: {reason}")
        self._readers_left_without(spec, unavailable=True)

    def _nothing(self, spec: SourceSpec, reason: str) -> None:
        if spec.required:
            raise LookupNotFound(spec.name, spec.key, reason=reason)
        self.warnings.append(f"data source {spec.name!r} {reason}; {spec.name!r} is undefined")
        self._readers_left_without(spec, unavailable=False)

    def _readers_left_without(self, spec: SourceSpec, *, unavailable: bool) -> None:
        """The sources that read ``spec`` have no key now: each settles as found-nothing (or,
        when ``spec`` failed, as unavailable, so a required reader says which it was)."""
        for reader_name in self.waiting.pop(spec.name, []):
            reader = self.specs[reader_name]
            if unavailable:
                self._record(reader, 0.0, False, "skipped")
                reason = f"it reads {spec.name!r}, which is unavailable"
                if reader.required:
                    raise SourceUnavailable(reader.name, reason)
                self.warnings.append(f"data source {reader.name!r} is unavailable: {reason}")
                self._readers_left_without(reader, unavailable=True)
            else:
                self._begin(reader, None, f"has no key: {spec.name!r} found nothing")

    def _record(self, spec: SourceSpec, seconds: float, shared: bool, outcome: Outcome) -> None:
        self.asked.append(Asked(spec.name, spec.key, round(seconds, 6), shared, outcome))

    @staticmethod
    def _took(running: _Running) -> float:
        return time.monotonic() - running.started
