"""The server's background refresher: the library's revision check, keys and heap, in a thread.

In: the freshness interval and the blocking calls to run (``Engine.refresh``,
``VerifiedKeys.reverify``, ``HeapSettler.settle``). Out: each called twice per interval in a
thread of its own, so that requests find the library and the keys fresh in memory and never
wait on the database.

A thread of its own, not a task of the event loop that hops to the thread pool: under load the
loop runs every request ready before it comes back to a timer or to a finished thread, and a
cycle of three hops took 500 ms at 1,000 requests/s, the whole 0.5 s interval. The library
then went stale every cycle, and all 32 requests in flight of a loaded server went to the thread
pool together to refresh it (``blockspost``): the p99 of ``POST /v1/blocks``. The thread
needs only the GIL, which it gets within a switch interval (5 ms).

Stopping waits for the refresh under way (``stop``): the engine must not close its connections
while a refresh still reads through them. A refresh that fails (the database away a while) is
logged once until one succeeds again; the thread goes on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger("content_engine.web")


class Refresher:
    """Calls ``refreshers`` in order every ``interval / 2`` seconds in a daemon thread."""

    def __init__(self, interval: float, *refreshers: Callable[[], object]) -> None:
        self.interval = interval
        self.refreshers = refreshers
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="refresher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """(Blocking.) Ask the thread to end and wait for the refresh under way."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        failing = False
        while not self._stop.wait(self.interval / 2):
            try:
                for refresh in self.refreshers:
                    refresh()
            except Exception as exc:  # the database may be away a while; requests report it
                if not failing:
                    logger.warning("cannot refresh the library: %s", exc)
                failing = True
            else:
                failing = False
