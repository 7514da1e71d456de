"""When a cache built from the database must ask the database again.

In: the repository a cache was built from, a bound on staleness (seconds), and word of writes
made elsewhere (``changed()``: PostgreSQL's notifications, ``engine.listening``). Out: stamps,
and whether a stamp is still fresh: yes until ``interval`` seconds have passed, no at once
after any write committed through this process's repository or announced by another process.
So writes made here are seen by the very next read, writes from other processes as soon as
they are announced, and within ``interval`` seconds in any case (SQLite, a listener that is
down, a notification lost). With ``interval`` 0 every read asks. No I/O here: the counters
are in-process.
"""

from __future__ import annotations

from dataclasses import dataclass
from time import monotonic
from typing import Protocol


class Writes(Protocol):
    """What a freshness check reads: how many writes this process has committed."""

    @property
    def local_writes(self) -> int: ...


@dataclass(frozen=True)
class Stamp:
    taken: float  # monotonic seconds
    writes: int


class Freshness:
    def __init__(self, source: Writes, interval: float) -> None:
        self.source = source
        self.interval = interval
        self.announced = 0  # writes other processes announced (or may have: a reconnection)

    def changed(self) -> None:
        """Another process may have written: every stamp taken so far is stale at once.

        Called from the listener's thread; it alone writes the counter.
        """
        self.announced += 1

    def stamp(self) -> Stamp:
        """Take this before reading the database, so a write during the read is not missed."""
        return Stamp(monotonic(), self._writes())

    def is_fresh(self, stamp: Stamp) -> bool:
        return stamp.writes == self._writes() and monotonic() - stamp.taken < self.interval

    def _writes(self) -> int:
        # Both counters only grow, so their sum moves exactly when either does.
        return self.source.local_writes + self.announced
