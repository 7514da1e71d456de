"""The cyclic collector is paused while a whole library is built and runs again after, in the
importing process and in the pool processes it forks meanwhile."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from content_engine.core.templates.sandbox import Limits
from content_engine.engine import parallel
from content_engine.engine.collector import collector_paused
from tests.support.engine_factory import copy_sample, make_engine


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def fail_while_building() -> None:
    with collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("while the library is built")


def test_paused_inside_and_running_after_even_after_an_error() -> None:
    with pytest.raises(RuntimeError):
        fail_while_building()
    assert gc.isenabled()


def test_a_nested_pause_leaves_the_collector_to_the_outer_one() -> None:
    with collector_paused():
        with collector_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_an_import_builds_without_the_collector_and_leaves_it_running(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    load = parallel.FolderImport.read

    def watched(self: parallel.FolderImport, *args: object) -> object:
        seen.append(gc.isenabled())
        return load(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(parallel.FolderImport, "read", watched)
    with make_engine(db_url) as engine:
        engine.import_library(copy_sample(tmp_path))
    assert seen == [False]
    assert gc.isenabled()


def collector_running() -> bool:
    return gc.isenabled()


def test_a_pool_process_forked_during_the_pause_collects() -> None:
    with collector_paused():
        pool = ProcessPoolExecutor(
            max_workers=1, initializer=parallel._start_worker, initargs=(Limits(),)
        )
        with pool:
            assert pool.submit(collector_running).result(timeout=60)
