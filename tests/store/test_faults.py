"""store/faults: one map from what a driver raises to ``DatabaseUnavailable``/``RepositoryBusy``
or nothing (a bug), tried on real SQLite failures and PostgreSQL's SQLSTATE classes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from content_engine import DatabaseUnavailable, InputError, RepositoryBusy
from content_engine.store import normalize_url
from content_engine.store.connect import BACKENDS, connect
from content_engine.store.faults import fault_of


def _sqlite_error(tmp_path: Path, what: str) -> sqlite3.Error:
    """A real error of SQLite's, made to happen."""
    path = tmp_path / "x.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.commit()
    try:
        if what == "read-only":
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            conn.execute("INSERT INTO t VALUES (1)")
        elif what == "not a database":
            (tmp_path / "junk").write_bytes(b"junk" * 1000)
            sqlite3.connect(tmp_path / "junk").execute("SELECT * FROM t")
        elif what == "cannot open":
            sqlite3.connect(tmp_path / "missing" / "x.db")
        elif what == "full":
            conn = sqlite3.connect(path)
            conn.execute(
                f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0]}"
            )
            conn.execute("INSERT INTO t VALUES (randomblob(100000))")
        elif what == "locked":
            holder = sqlite3.connect(path, isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")
            sqlite3.connect(path, timeout=0).execute("INSERT INTO t VALUES (1)")
        elif what == "no such table":
            sqlite3.connect(path).execute("SELECT * FROM nowhere")
        elif what == "syntax":
            sqlite3.connect(path).execute("SELEC 1")
        elif what == "constraint":
            conn = sqlite3.connect(path)
            conn.execute("CREATE TABLE u (x UNIQUE)")
            conn.execute("INSERT INTO u VALUES (1), (1)")
    except sqlite3.Error as exc:
        return exc
    raise AssertionError(f"no error for {what}")


@pytest.mark.parametrize(
    ("what", "kind", "fragment"),
    [
        ("read-only", DatabaseUnavailable, "read-only"),
        ("not a database", DatabaseUnavailable, "not a database"),
        ("cannot open", DatabaseUnavailable, "cannot be opened"),
        ("full", DatabaseUnavailable, "full"),
        ("locked", RepositoryBusy, "locked"),
        ("no such table", None, ""),  # a bug of ours, not a fault: it must surface
        ("syntax", None, ""),
        ("constraint", None, ""),
    ],
)
def test_sqlite_errors(tmp_path: Path, what: str, kind: type | None, fragment: str) -> None:
    fault = fault_of(_sqlite_error(tmp_path, what))
    if kind is None:
        assert fault is None
    else:
        assert isinstance(fault, kind) and fragment in fault.message
        assert "\n" not in fault.message


@pytest.mark.parametrize(
    ("sqlstate", "is_fault"),
    [
        ("08006", True),  # connection failure
        ("3D000", True),  # the database does not exist (dropped, renamed)
        ("53100", True),  # disk full
        ("57P01", True),  # terminated by the administrator
        ("57P03", True),  # cannot connect now (starting up)
        ("58030", True),  # I/O error
        ("25006", True),  # read-only transaction (a standby)
        ("42P01", True),  # our table is gone: the database was dropped and made again
        ("42601", False),  # syntax error: a bug
        ("23505", False),  # unique violation: a conflict, handled where it happens
        ("22P02", False),  # invalid text representation: bad input reached SQL, a bug
    ],
)
def test_postgresql_sqlstates(sqlstate: str, is_fault: bool) -> None:
    errors = pytest.importorskip("psycopg.errors")
    error = errors.lookup(sqlstate)("server says no\nDETAIL: more")
    fault = fault_of(error)
    assert (fault is not None) == is_fault
    if fault is not None:
        assert isinstance(fault, DatabaseUnavailable) and "\n" not in fault.message


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60) | st.from_regex(r"[a-z+]{1,12}://[^ ]{0,30}", fullmatch=True))
def test_any_database_url_is_a_url_or_one_clear_error(text: str) -> None:
    error: InputError | None = None
    try:
        url = normalize_url(text)
    except InputError as exc:
        error = exc
    if error is not None:
        assert "\n" not in error.message
    else:
        assert url.get_backend_name() in BACKENDS


@pytest.mark.parametrize("stop", [SystemExit(-(256 - 15)), KeyboardInterrupt()])
def test_a_stop_met_inside_a_statement_stays_a_stop(
    db_url: str, monkeypatch: pytest.MonkeyPatch, stop: BaseException
) -> None:
    """A queue worker's render process raises ``SystemExit(-241)`` on SIGTERM (billiard), often
    inside a receipt's INSERT: SQLAlchemy counts it a disconnect, and made a database fault it
    had been a line's failure with the stop swallowed. A real disconnect is still a fault."""
    engine = connect(normalize_url(db_url))
    try:

        def stopped(*_: object) -> None:
            raise stop

        with engine.connect() as conn, monkeypatch.context() as patch:
            patch.setattr(engine.dialect, "do_execute", stopped)
            with pytest.raises(type(stop)):
                conn.execute(text("SELECT 1"))
        with engine.connect() as conn:
            conn.connection.dbapi_connection.close()  # type: ignore[union-attr]
            with pytest.raises(DatabaseUnavailable):
                conn.execute(text("SELECT 1"))
    finally:
        engine.dispose()
