"""The heap frozen once the library is loaded, again (after one collection) when it moved on."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from typing import Any, cast

import pytest

from content_engine.engine import Engine
from content_engine.web.heap import HeapSettler


class Loaded:
    """What the settler asks of an engine: the revision in memory, if any."""

    def __init__(self) -> None:
        self.revision: int | None = None

    def loaded_revision(self) -> int | None:
        return self.revision


@pytest.fixture
def collections(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Every full collection the settler runs; the heap unfrozen before and after the test
    (every engine's load freezes what it loaded: ``engine.state``)."""
    gc.unfreeze()
    seen: list[int] = []
    collect = gc.collect

    def spy(*args: Any) -> int:
        seen.append(1)
        return collect(*args)

    monkeypatch.setattr(gc, "collect", spy)
    yield seen
    gc.unfreeze()


def test_frozen_after_a_load_and_after_a_move(collections: list[int]) -> None:
    engine = Loaded()
    settler = HeapSettler(cast(Engine, engine), every=3600)
    settler.settle()
    assert collections == [] and gc.get_freeze_count() == 0  # nothing loaded yet
    engine.revision = 1
    settler.settle()
    assert len(collections) == 1 and gc.get_freeze_count() > 0
    kept = [object() for _ in range(10)]
    settler.settle()
    assert len(collections) == 1  # the same revision: nothing to do
    engine.revision = 2
    settler.settle()
    assert len(collections) == 1  # moved, but settled less than ``every`` ago
    settler.every = 0
    settler.settle()
    assert len(collections) == 2 and settler.frozen_at == 2
    assert kept


def test_a_cycle_the_old_state_left_is_collected_when_settling_again(
    collections: list[int],
) -> None:
    engine = Loaded()
    settler = HeapSettler(cast(Engine, engine), every=0)
    engine.revision = 1

    class Node:
        pass

    cycle = Node()
    cycle.me = cycle  # type: ignore[attr-defined]
    alive = weakref.ref(cycle)
    settler.settle()  # frozen with the heap
    del cycle
    gc.collect()
    assert alive() is not None  # frozen: no collection reaches it
    settler.settle()
    assert alive() is not None  # the same revision: left frozen
    engine.revision = 2
    settler.settle()
    assert alive() is None
