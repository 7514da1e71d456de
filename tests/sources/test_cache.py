"""The lookup cache on a clock turned by hand: TTLs, found-nothing, failures, sharing, size."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from content_engine.sources.cache import LookupCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Calls:
    """Starts calls whose futures the test settles by hand."""

    def __init__(self) -> None:
        self.started: list[Future[Any]] = []

    def __call__(self) -> Future[Any]:
        future: Future[Any] = Future()
        self.started.append(future)
        return future


def test_in_flight_calls_are_shared_then_kept_for_the_ttl() -> None:
    clock, calls = Clock(), Calls()
    cache = LookupCache(clock=clock)
    first, shared = cache.get(("s", "k"), calls, ttl=10, negative_ttl=1)
    again, shared_again = cache.get(("s", "k"), calls, ttl=10, negative_ttl=1)
    assert (shared, shared_again) == (False, True) and again is first
    first.set_result({"a": 1})
    clock.now += 9.9
    assert cache.get(("s", "k"), calls, ttl=10, negative_ttl=1) == (first, True)
    clock.now += 0.2
    fresh, shared = cache.get(("s", "k"), calls, ttl=10, negative_ttl=1)
    assert fresh is not first and not shared and len(calls.started) == 2


def test_found_nothing_is_kept_for_the_negative_ttl() -> None:
    clock, calls = Clock(), Calls()
    cache = LookupCache(clock=clock)
    for nothing in (None, []):
        future, _ = cache.get(("s", repr(nothing)), calls, ttl=60, negative_ttl=2)
        future.set_result(nothing)
        assert cache.get(("s", repr(nothing)), calls, ttl=60, negative_ttl=2)[1] is True
    clock.now += 2.5
    assert cache.get(("s", "None"), calls, ttl=60, negative_ttl=2)[1] is False


def test_failures_and_ttl_zero_are_not_kept() -> None:
    calls = Calls()
    cache = LookupCache(clock=Clock())
    failing, _ = cache.get(("s", "k"), calls, ttl=60, negative_ttl=5)
    failing.set_exception(RuntimeError("down"))
    assert cache.get(("s", "k"), calls, ttl=60, negative_ttl=5)[1] is False
    uncached, _ = cache.get(("t", "k"), calls, ttl=0, negative_ttl=0)
    assert cache.get(("t", "k"), calls, ttl=0, negative_ttl=0)[1] is True  # still in flight
    uncached.set_result({"a": 1})
    assert cache.get(("t", "k"), calls, ttl=0, negative_ttl=0)[1] is False


class LateCallbacks(Calls):
    """Futures whose done-callbacks run only when the test says: ``concurrent.futures`` wakes
    a waiter before it runs the callbacks, so a request can come back in between."""

    def __init__(self) -> None:
        super().__init__()
        self.pending: list[tuple[Future[Any], Any]] = []

    def __call__(self) -> Future[Any]:
        future = super().__call__()
        future.add_done_callback = lambda fn: self.pending.append((future, fn))  # type: ignore[method-assign]
        return future

    def run_callbacks(self) -> None:
        for future, fn in self.pending:
            fn(future)
        self.pending.clear()


def test_a_settled_call_counts_before_its_callback_runs() -> None:
    clock, calls = Clock(), LateCallbacks()
    cache = LookupCache(clock=clock)
    failing, _ = cache.get(("s", "k"), calls, ttl=60, negative_ttl=5)
    failing.set_exception(RuntimeError("down"))
    retried, shared = cache.get(("s", "k"), calls, ttl=60, negative_ttl=5)
    assert shared is False and retried is not failing  # a failure is never shared
    retried.set_result({"a": 1})
    assert cache.get(("s", "k"), calls, ttl=60, negative_ttl=5) == (retried, True)
    clock.now += 59
    calls.run_callbacks()  # late: neither drops the fresh answer nor extends its life
    assert cache.get(("s", "k"), calls, ttl=60, negative_ttl=5) == (retried, True)
    clock.now += 2
    assert cache.get(("s", "k"), calls, ttl=60, negative_ttl=5)[1] is False


def test_the_oldest_entries_go_first() -> None:
    calls = Calls()
    cache = LookupCache(max_entries=3, clock=Clock())
    for key in "abcde":
        future, _ = cache.get(("s", key), calls, ttl=60, negative_ttl=5)
        future.set_result({"k": key})
    assert len(cache) == 3
    assert cache.get(("s", "a"), calls, ttl=60, negative_ttl=5)[1] is False
    assert cache.get(("s", "e"), calls, ttl=60, negative_ttl=5)[1] is True
