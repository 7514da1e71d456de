"""The server's background refresher: it runs in a thread of its own, keeps its pace while the
event loop is saturated, survives failing refreshes, and stopping waits for the refresh under
way before the engine may close its connections."""

from __future__ import annotations

import itertools
import threading
import time

from content_engine.web.refresher import Refresher


def test_stopping_waits_for_the_refresh_under_way() -> None:
    started, finished = threading.Event(), threading.Event()

    def slow_refresh() -> None:
        started.set()
        time.sleep(0.3)
        finished.set()

    refresher = Refresher(0.02, slow_refresh)
    refresher.start()
    assert started.wait(5)
    refresher.stop()
    assert finished.is_set(), "stop returned while a refresh still ran"


def test_a_failing_refresh_does_not_stop_the_refresher() -> None:
    calls: list[int] = []
    enough = threading.Event()

    def flaky() -> None:
        calls.append(1)
        if len(calls) >= 4:
            enough.set()
        if len(calls) < 3:
            raise OSError("database away")

    refresher = Refresher(0.02, flaky)
    refresher.start()
    try:
        assert enough.wait(5), f"only {len(calls)} refreshes after failures"
    finally:
        refresher.stop()


def test_it_keeps_its_pace_while_another_thread_computes_without_pause() -> None:
    """What a loaded event loop does: Python code in another thread, never waiting. The
    refresher's calls still come twice per interval (the GIL is handed over every 5 ms), where
    a task of that loop would wait for every request ready before it."""
    stamps: list[float] = []
    refresher = Refresher(0.1, lambda: stamps.append(time.monotonic()))
    refresher.start()
    try:
        end = time.monotonic() + 1.0
        n = 0
        while time.monotonic() < end:  # busy: the main thread holds the GIL but for switches
            n += sum(range(200))
    finally:
        refresher.stop()
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert len(stamps) >= 12, stamps
    assert max(gaps) < 0.1, f"a refresh came {max(gaps):.3f} s after the one before"
