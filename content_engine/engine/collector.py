"""The cyclic garbage collector kept out of the way of work that builds a whole library.

A library is millions of objects and no reference cycles (its models hold values, not each
other back). While one is being built, every full collection walks all that exists so far and
finds nothing: over a load or a first import of 10 k components, a sixth of the importing
process's time. Reference counting frees everything all the same; what does form a cycle in
the meantime (an exception's traceback, say) is collected once the collector runs again.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection inside; the collector as it was after (nested pauses: the outer
    one turns it back on)."""
    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if running:
            gc.enable()


@contextmanager
def frozen_after() -> Iterator[None]:
    """Build without the collector, then keep all that exists out of its sight for good.

    ``gc.freeze`` moves what exists then to a generation the collector never walks: every
    full collection afterwards had walked the whole library (pauses of 100-200 ms in the
    middle of requests). A library dropped later is freed by reference counting all the same.
    """
    gc.collect()  # what is garbage now is not frozen with the library (what went before is)
    try:
        with collector_paused():
            yield
    finally:
        gc.freeze()
