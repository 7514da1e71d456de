"""The server's purge of receipts past their retention: it waits for the library (whose
``library.yaml`` states part of the retention) instead of loading it at start, so a start stays
lazy and readiness reports the load; an idle server still purges once the wait is over."""

from __future__ import annotations

import asyncio
import time

from content_engine.web.app import purge_on_schedule


def run_schedule(loaded_after: float | None, first_within: float, stop_after: float) -> list[float]:
    """When ``purge`` ran (seconds from start), the library loaded after ``loaded_after``."""
    ran: list[float] = []
    started = time.monotonic()

    def purge() -> int:
        ran.append(time.monotonic() - started)
        return 0

    def loaded() -> bool:
        return loaded_after is not None and time.monotonic() - started >= loaded_after

    async def main() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(
            purge_on_schedule(stop, purge, loaded, interval=60, first_within=first_within)
        )
        await asyncio.sleep(stop_after)
        stop.set()
        await asyncio.wait_for(task, 2)

    asyncio.run(main())
    return ran


def test_the_first_purge_waits_for_the_library_to_be_loaded() -> None:
    ran = run_schedule(loaded_after=1.0, first_within=30, stop_after=2.5)
    assert len(ran) == 1
    assert 1.0 <= ran[0] < 2.0


def test_an_idle_server_purges_once_the_wait_is_over() -> None:
    ran = run_schedule(loaded_after=None, first_within=1.0, stop_after=2.5)
    assert len(ran) == 1
    assert 1.0 <= ran[0] < 2.0


def test_a_server_stopped_before_the_library_loads_never_purges() -> None:
    assert run_schedule(loaded_after=None, first_within=30, stop_after=0.6) == []
