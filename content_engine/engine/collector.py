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


# The frozen heap may grow by this factor over what lived at the last give-back before a build
# gives everything back again: a give-back costs one full collection over all of it, so made
# at every build it walked a large process's whole heap each time (a test process's, building
# thousands of engines, ran half again as long), while growth by a factor costs a few in all.
_GROWTH = 1.5
_live_frozen = 0  # objects frozen by the last build that began with a give-back


@contextmanager
def frozen_after() -> Iterator[None]:
    """Build without the collector, then keep all that exists out of its sight.

    ``gc.freeze`` moves what exists then to a generation the collector never walks: every
    full collection afterwards had walked the whole library (pauses of 100-200 ms in the
    middle of requests). A library dropped later is freed by reference counting all the same;
    but what else was frozen with it and holds a cycle (a compiled body: a Jinja template's
    functions and their globals refer to each other) stays when it is dropped, superseded or
    evicted: +7 MiB at every whole reload that had 2,000 compiled bodies superseded since the
    last. So once the frozen heap has grown by half over what lived at the last give-back, a
    build first gives it all back and collects it once (45-83 ms over 100 k components, in a
    2 s build): frozen garbage stays below half of what lives.
    """
    global _live_frozen
    give_back = gc.get_freeze_count() > _GROWTH * _live_frozen
    if give_back:
        gc.unfreeze()
    gc.collect()  # what is garbage now is not frozen with the library
    try:
        with collector_paused():
            yield
    finally:
        gc.freeze()
        if give_back:
            _live_frozen = gc.get_freeze_count()
