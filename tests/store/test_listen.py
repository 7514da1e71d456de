"""store/listen: writes announced on PostgreSQL at commit, and a listener that hears them,
comes back after its connection is killed, and stops cleanly. Real PostgreSQL only (skipped
without ``CONTENT_ENGINE_TEST_PG``), except what SQLite must not do."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import psycopg
import pytest

from content_engine.core.errors import ConflictError
from content_engine.engine import Engine
from content_engine.settings import Settings
from content_engine.store import Repository
from content_engine.store.listen import CHANGES_CHANNEL, MIN_GAP, ChangeListener
from tests.support.engine_factory import ROOT, write_files

LIBRARY = {
    "library.yaml": "default_locale: en\nlocales: [en]\n",
    "c/note/component.yaml": "id: note\ntype: snippet\n",
    "c/note/any.html": "<p>first</p>\n",
}


def raw(url: str) -> psycopg.Connection[Any]:
    return psycopg.connect(url, autocommit=True)


def heard(listening: psycopg.Connection[Any], wait: float = 0.5) -> list[str]:
    """The payloads of the notifications ``listening`` got within ``wait`` seconds."""
    return [n.payload for n in listening.notifies(timeout=wait) if n.channel == CHANGES_CHANNEL]


def within(seconds: float, probe: Callable[[], bool]) -> None:
    deadline = time.monotonic() + seconds
    while not probe():
        assert time.monotonic() < deadline, f"not within {seconds} s"
        time.sleep(0.01)


def settle(calls: list[float], quiet: float = 0.3) -> None:
    """Wait until no call came for ``quiet`` seconds (bounded)."""
    deadline = time.monotonic() + 10
    count = -1
    while count != len(calls):
        assert time.monotonic() < deadline, "the calls never stopped"
        count = len(calls)
        time.sleep(quiet)


def listener_pids(url: str) -> list[int]:
    with raw(url) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND application_name LIKE 'content-engine listener %'"
        ).fetchall()
    return [row[0] for row in rows]


@pytest.fixture
def engine(pg_db_url: str, tmp_path: Path) -> Iterator[Engine]:
    with Engine(Settings(db_url=pg_db_url, home=ROOT, refresh=30)) as built:
        built.import_library(write_files(tmp_path / "lib", LIBRARY))
        yield built


def test_a_write_is_announced_at_commit_and_a_refused_one_never(
    engine: Engine, pg_db_url: str
) -> None:
    repo = engine.repository
    with raw(pg_db_url) as listening:
        listening.execute(f"LISTEN {CHANGES_CHANNEL}")
        variant = engine.library().components["note"].variants["any"]
        variant = variant.model_copy(update={"body": "<p>second</p>"})
        saved = repo.save_variant("note", variant, expected_version=variant.version)
        # The hint: the new revision, and whose write it was.
        assert heard(listening) == [f"{engine.revision()} {repo.origin}"]
        with pytest.raises(ConflictError):
            repo.save_variant("note", variant, expected_version=variant.version)  # stale
        assert heard(listening, 0.3) == []  # rolled back: nothing to hear
        info, _ = repo.create_key("reader")
        assert heard(listening, 0.3) == []  # a new key changes nothing served
        repo.revoke_key(info.id)
        assert heard(listening) == [f" {repo.origin}"]  # a revoked key: dropped everywhere
        assert saved.version > variant.version


def test_the_listener_hears_comes_back_after_its_connection_is_killed_and_stops_clean(
    engine: Engine, pg_db_url: str
) -> None:
    calls: list[float] = []
    listener = engine.repository.listener(lambda: calls.append(time.monotonic()))
    assert isinstance(listener, ChangeListener)
    listener.start()
    try:
        within(5, lambda: listener.up)
        time.sleep(0.1)
        assert len(calls) == 1, calls  # connected: one resync
        with raw(pg_db_url) as conn:
            sent = time.monotonic()
            conn.execute(f"NOTIFY {CHANGES_CHANNEL}")
            within(2, lambda: len(calls) == 2)
            assert calls[1] - sent < 0.5
            # A hostile database user: a flood of notifications, coalesced, and the calls
            # never closer together than MIN_GAP.
            with conn.transaction():
                for n in range(2000):
                    conn.execute("SELECT pg_notify(%s, %s)", (CHANGES_CHANNEL, "x" * n))
            within(2, lambda: len(calls) >= 3)
            settle(calls)
            flood = calls[2:]
            assert len(flood) < 100
            assert all(b - a >= MIN_GAP * 0.9 for a, b in pairwise(flood))
            # What this process's repository writes, its caches know already: skipped. What
            # another process writes is heard.
            before = len(calls)
            variant = engine.library().components["note"].variants["any"]
            edited = variant.model_copy(update={"body": "<p>mine</p>"})
            engine.repository.save_variant("note", edited, expected_version=variant.version)
            settle(calls)
            assert len(calls) == before
            with Repository(pg_db_url) as elsewhere:
                elsewhere.revoke_key(elsewhere.create_key("reader")[0].id)
            within(2, lambda: len(calls) == before + 1)
            [pid] = listener_pids(pg_db_url)
            before = len(calls)
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
            # Back at once, and a resync: whatever was written meanwhile went unheard.
            within(5, lambda: listener.connections == 2 and listener.up)
            within(1, lambda: len(calls) > before)
            assert listener_pids(pg_db_url) not in ([], [pid])
    finally:
        listener.close()
    assert not [t for t in threading.enumerate() if t.name == "content-engine listener"]
    within(2, lambda: listener_pids(pg_db_url) == [])
    assert not listener.up


def test_an_engine_listens_only_on_postgresql_and_only_when_it_caches(
    engine: Engine, pg_db_url: str, tmp_path: Path
) -> None:
    assert engine.listen()
    within(5, lambda: engine.listening.up)
    engine.close()
    assert listener_pids(pg_db_url) == []
    with Engine(Settings(db_url=pg_db_url, home=ROOT, refresh=0)) as polling:
        assert not polling.listen()  # every read asks the database anyway


def test_sqlite_has_no_listener(tmp_path: Path) -> None:
    with Repository(f"sqlite:///{tmp_path / 'ce.db'}") as repo:
        assert repo.listener(lambda: None) is None
    with Engine(Settings(db_url=f"sqlite:///{tmp_path / 'e.db'}", home=ROOT)) as engine:
        assert not engine.listen()
        assert not engine.listening.up
