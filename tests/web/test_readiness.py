"""``GET /readyz`` (CONTRACT 12): 200 once the database answers and the library is loaded,
503 ``not_ready`` with the reason before; never much longer than a second, however long the
database or the load takes, and one check at a time however many probes come."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from content_engine.engine.facade import Engine
from content_engine.settings import Settings
from content_engine.web.operations import READY_WITHIN
from tests.support.apps import Api, app_client
from tests.support.engine_factory import ROOT, SAMPLE
from tests.web.test_touchpoints import assert_error


@pytest.fixture
def quiet(tmp_path: Path) -> Iterator[Api]:
    """The sample library on a SQLite file, the app with no refresher (``refresh`` 0): the
    library is loaded only when something asks for it."""
    settings = Settings(db_url=f"sqlite:///{tmp_path / 'ready.db'}", home=ROOT, refresh=0)
    with Engine(settings) as importer:
        importer.import_library(SAMPLE)
    with Engine(settings) as engine, app_client(engine) as api:  # a server starting
        yield api


def test_ready_when_the_database_answers_and_the_library_is_loaded(quiet: Api) -> None:
    response = quiet.client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"ready": True}
    assert quiet.engine.loaded() is not None  # loaded at start or by the probe


def test_not_ready_while_the_library_loads_then_ready(
    quiet: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    library = quiet.engine.library

    def slow_load() -> Any:
        release.wait(10)
        return library()

    monkeypatch.setattr(quiet.engine, "library", slow_load)
    started = time.monotonic()
    error = assert_error(quiet.client.get("/readyz"), 503, "not_ready")
    assert time.monotonic() - started < READY_WITHIN + 1.0
    assert error["details"] == {"reason": "loading"}
    assert "loaded" in error["message"]
    release.set()
    deadline = time.monotonic() + 10
    while quiet.client.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, "never ready after the load"
        time.sleep(0.05)


def test_a_database_that_hangs_is_not_ready_within_the_bound_and_asked_once(
    quiet: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    asked: list[float] = []
    revision = quiet.engine.revision

    def hanging() -> int:
        asked.append(time.monotonic())
        release.wait(10)
        return revision()

    monkeypatch.setattr(quiet.engine, "revision", hanging)
    try:
        for _ in range(2):
            started = time.monotonic()
            response = quiet.client.get("/readyz")
            assert time.monotonic() - started < READY_WITHIN + 1.0
            error = assert_error(response, 503, "not_ready")
            assert error["details"] == {"reason": "database"}
            assert response.headers["retry-after"] == "1"
        assert len(asked) == 1  # the later probes waited for the first one's check
    finally:
        release.set()


def test_a_database_file_gone_is_not_ready_until_it_is_back(quiet: Api, tmp_path: Path) -> None:
    assert quiet.client.get("/readyz").status_code == 200
    path = tmp_path / "ready.db"
    away = tmp_path / "away.db"
    path.rename(away)
    try:
        error = assert_error(quiet.client.get("/readyz"), 503, "not_ready")
        assert error["details"] == {"reason": "database"}
        assert "ready.db" in error["message"]
        assert quiet.client.get("/healthz").status_code == 503  # the same check, the same view
    finally:
        away.rename(path)
    assert quiet.client.get("/readyz").status_code == 200  # the same file again: ready
