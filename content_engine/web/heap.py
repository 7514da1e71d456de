"""The loaded library kept out of the garbage collector's way: the heap frozen after a load.

Python's collector walks every tracked object of its oldest generation now and then; with a
library in memory that walk took 100-180 ms per collection at 1 k components (more with more),
every few seconds under a per-customer load, and it was the p99 of ``POST /v1/blocks``. The
library, its compiled bodies and caches change only when the revision moves, so once loaded
they are frozen (``gc.freeze``: never walked again), and only what requests allocate is
collected. When the revision has moved, the next settling unfreezes, collects once (what the
old state left in reference cycles goes then) and freezes again; at most once every
``SETTLE_EVERY`` seconds, so a stream of publishes costs one collection per period, not one
per publish. Runs in the server's refresher thread (``refresher``), off the request path.
"""

from __future__ import annotations

import gc
from time import monotonic

from content_engine.engine import Engine

SETTLE_EVERY = 30.0


class HeapSettler:
    """Freezes the heap once the engine's library is loaded, again after it moved on."""

    def __init__(self, engine: Engine, every: float = SETTLE_EVERY) -> None:
        self.engine = engine
        self.every = every
        self.frozen_at: int | None = None  # the revision frozen last
        self._last = -every

    def settle(self) -> None:
        """(Blocking: a full collection.) Freeze the heap if the library moved since."""
        revision = self.engine.loaded_revision()
        if revision is None or revision == self.frozen_at:
            return
        if monotonic() - self._last < self.every and self.frozen_at is not None:
            return
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self.frozen_at, self._last = revision, monotonic()
