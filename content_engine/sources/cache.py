"""Answers of data sources, kept for a while and shared: one call per key however many ask.

In: a lookup (source name, key value), its time to live and that of "found nothing", and how
to start the call. Out: a future of the answer and whether it was shared (cached, or joined
while another request's identical call was running). A found answer is kept ``ttl`` seconds,
"found nothing" (``None`` or no rows) ``negative_ttl`` seconds, a failure not at all (the next
request asks again). Concurrent identical lookups are coalesced into the one call in flight
whatever the TTL, so a burst of requests for one serial number costs the system of record one
query. At most ``max_entries`` answers are kept; the oldest go first.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

__all__ = ["LookupCache"]

_Key = tuple[str, str]


class LookupCache:
    """Thread-safe; ``clock`` is the monotonic clock (tests turn it by hand)."""

    def __init__(
        self, *, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._max = max_entries
        self._lock = threading.Lock()
        # key -> (future, expires); expires is None while the call is in flight.
        self._entries: OrderedDict[_Key, tuple[Future[Any], float | None]] = OrderedDict()

    def get(
        self,
        key: _Key,
        start: Callable[[], Future[Any]],
        *,
        ttl: float,
        negative_ttl: float,
    ) -> tuple[Future[Any], bool]:
        """The answer's future for ``key``, and whether it was shared rather than started."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[1] is None and entry[0].done():
                # Settled, but its done-callback has not run yet: a waiter wakes before the
                # callbacks do, so the next request could otherwise share a failure.
                self._record(key, entry[0], ttl, negative_ttl)
                entry = self._entries.get(key)
            if entry is not None:
                future, expires = entry
                if expires is None or self._clock() < expires:
                    return future, True
                del self._entries[key]
            future = start()
            self._entries[key] = (future, None)
            self._trim()
        future.add_done_callback(lambda done: self._settle(key, done, ttl, negative_ttl))
        return future, False

    def _settle(self, key: _Key, done: Future[Any], ttl: float, negative_ttl: float) -> None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] is done and entry[1] is None:
                self._record(key, done, ttl, negative_ttl)

    def _record(self, key: _Key, done: Future[Any], ttl: float, negative_ttl: float) -> None:
        """Keep ``done``'s outcome for as long as its kind is kept (under the lock)."""
        if done.cancelled() or done.exception() is not None:
            keep = 0.0
        else:
            keep = ttl if done.result() not in (None, []) else negative_ttl
        if keep <= 0:
            del self._entries[key]
        else:
            self._entries[key] = (done, self._clock() + keep)

    def _trim(self) -> None:
        while len(self._entries) > self._max:
            oldest = next(iter(self._entries))
            self._entries.pop(oldest)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
