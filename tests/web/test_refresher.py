"""The server's background refresher: it runs off the request path and, when the app stops,
finishes the refresh under way before the engine may close its connections."""

from __future__ import annotations

import asyncio
import threading
import time

from content_engine.web.app import keep_fresh


def test_stopping_waits_for_the_refresh_under_way() -> None:
    started, finished = threading.Event(), threading.Event()

    def slow_refresh() -> None:
        started.set()
        time.sleep(0.3)
        finished.set()

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(keep_fresh(stop, 0.02, slow_refresh))
        while not started.is_set():
            await asyncio.sleep(0.005)
        stop.set()
        await asyncio.wait_for(task, 5)
        assert finished.is_set(), "the app went on stopping while a refresh still ran"

    asyncio.run(scenario())


def test_a_failing_refresh_does_not_stop_the_refresher() -> None:
    calls: list[int] = []

    def flaky() -> None:
        calls.append(1)
        if len(calls) < 3:
            raise OSError("database away")

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(keep_fresh(stop, 0.02, flaky))
        while len(calls) < 4:
            await asyncio.sleep(0.005)
        stop.set()
        await asyncio.wait_for(task, 5)

    asyncio.run(scenario())
    assert len(calls) >= 4
