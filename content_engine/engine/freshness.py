"""When a cache built from the database must ask the database again.

In: the repository a cache was built from and a bound on staleness (seconds). Out: stamps, and
whether a stamp is still fresh: yes until ``interval`` seconds have passed, no at once after
any write committed through this process's repository. So writes made here are seen by the
very next read, and writes from other processes (other server workers, the CLI) within
``interval`` seconds. With ``interval`` 0 every read asks. No I/O here: the counter is
in-process.
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

    def stamp(self) -> Stamp:
        """Take this before reading the database, so a write during the read is not missed."""
        return Stamp(monotonic(), self.source.local_writes)

    def is_fresh(self, stamp: Stamp) -> bool:
        return (
            stamp.writes == self.source.local_writes and monotonic() - stamp.taken < self.interval
        )
