"""Every cache sees a publish made by any process: at once when it went through this process's
repository, within ``refresh`` seconds when another process made it (CLI, another worker)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx2
import pytest

from content_engine.engine.facade import Engine
from content_engine.settings import Settings
from tests.support.engine_factory import ROOT, write_files
from tests.support.factories import context
from tests.support.servers import cli, serve

LIBRARY = {
    "library.yaml": "default_locale: en\nlocales: [en]\n",
    "c/note/component.yaml": "id: note\ntype: snippet\n",
    "c/note/any.html": "<p>first</p>\n",
}


def library(tmp_path: Path, text: str) -> Path:
    files = LIBRARY | {"c/note/any.html": f"<p>{text}</p>\n"}
    return write_files(tmp_path / text, files)


def publish_elsewhere(db_url: str, tmp_path: Path, text: str) -> None:
    """Import a library where ``note`` says ``text``, from another process (the CLI)."""
    cli("import", str(library(tmp_path, text)), "--db", db_url, cwd=tmp_path)


def engine_with(db_url: str, refresh: float) -> Engine:
    return Engine(Settings(db_url=db_url, home=ROOT, refresh=refresh))


def within(seconds: float, probe: Callable[[], bool]) -> float:
    """How long until ``probe()`` held; fails after ``seconds``."""
    start = time.monotonic()
    while not probe():
        if time.monotonic() - start > seconds:
            pytest.fail(f"not within {seconds} s")
        time.sleep(0.02)
    return time.monotonic() - start


def test_a_publish_elsewhere_is_seen_within_refresh(db_url: str, tmp_path: Path) -> None:
    publish_elsewhere(db_url, tmp_path, "first")
    with engine_with(db_url, refresh=0.3) as engine:
        assert engine.block("note", context()).html == "<p>first</p>\n"
        publish_elsewhere(db_url, tmp_path, "second")
        waited = within(5, lambda: engine.block("note", context()).html == "<p>second</p>\n")
        assert waited <= 0.3 + 0.5


def test_between_checks_the_engine_answers_from_memory(db_url: str, tmp_path: Path) -> None:
    publish_elsewhere(db_url, tmp_path, "first")
    with engine_with(db_url, refresh=3600) as engine:
        cached = engine.block("note", context())
        publish_elsewhere(db_url, tmp_path, "second")
        assert engine.is_fresh()
        assert engine.block("note", context()) is cached, "no database read was due"
        engine.refresh()
        assert engine.block("note", context()).html == "<p>second</p>\n"


def test_refresh_zero_asks_on_every_call(db_url: str, tmp_path: Path) -> None:
    publish_elsewhere(db_url, tmp_path, "first")
    with engine_with(db_url, refresh=0) as engine:
        assert not engine.is_fresh()
        engine.block("note", context())
        publish_elsewhere(db_url, tmp_path, "second")
        assert engine.block("note", context()).html == "<p>second</p>\n"


def test_writes_through_this_process_are_seen_at_once(db_url: str, tmp_path: Path) -> None:
    with engine_with(db_url, refresh=3600) as engine:
        engine.import_library(library(tmp_path, "first"))
        assert engine.block("note", context()).html == "<p>first</p>\n"
        engine.import_library(library(tmp_path, "second"))
        assert engine.block("note", context()).html == "<p>second</p>\n"


def test_a_server_serves_a_publish_and_a_revocation_from_elsewhere(
    db_url: str, tmp_path: Path
) -> None:
    publish_elsewhere(db_url, tmp_path, "first")
    key = cli("keys", "create", "--role", "reader", "--db", db_url, cwd=tmp_path).stdout.strip()
    key_id = key.split("_")[1]
    headers = {"Authorization": f"Bearer {key}"}
    with (
        serve(db_url, tmp_path, "--workers", "2", "--refresh", "0.3") as server,
        httpx2.Client(base_url=server.url, headers=headers) as http,
    ):

        def note() -> httpx2.Response:
            return http.get("/v1/blocks/note", params={"locale": "en"})

        for _ in range(8):  # both workers, and their fast paths, hold the first text
            assert note().text == "<p>first</p>\n"
        publish_elsewhere(db_url, tmp_path, "second")
        within(3, lambda: all(note().text == "<p>second</p>\n" for _ in range(8)))
        cli("keys", "revoke", key_id, "--db", db_url, cwd=tmp_path)
        within(3, lambda: all(note().status_code == 401 for _ in range(8)))


def test_word_of_a_write_elsewhere_makes_every_stamp_stale_at_once(
    db_url: str, tmp_path: Path
) -> None:
    """``Freshness.changed`` (what a PostgreSQL notification calls): stale now, not in an hour."""
    publish_elsewhere(db_url, tmp_path, "first")
    with engine_with(db_url, refresh=3600) as engine:
        assert engine.block("note", context()).html == "<p>first</p>\n"
        stamp = engine.freshness.stamp()
        publish_elsewhere(db_url, tmp_path, "second")
        assert engine.freshness.is_fresh(stamp) and engine.is_fresh()
        engine.freshness.changed()
        assert not engine.freshness.is_fresh(stamp) and not engine.is_fresh()
        assert engine.block("note", context()).html == "<p>second</p>\n"
        assert engine.is_fresh()
