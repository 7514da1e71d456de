"""From a database URL to a SQLAlchemy ``Engine`` the repository can trust.

In: a URL (``sqlite:///FILE``, ``sqlite://`` in memory, ``postgresql://...``) and SQLite's busy
timeout. Out: the normalised ``URL``, the ``SqliteFileGuard`` of a database file, and an
``Engine`` whose driver faults arrive as domain errors and whose SQLite connections are set up
for WAL, foreign keys and ``BEGIN IMMEDIATE`` writers.

Everything a URL can get wrong (not a URL, an unsupported backend, a missing driver, a bad
option, a folder that is not there) is an ``InputError`` here, before any connection is made.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SAWarning
from sqlalchemy.pool import StaticPool

from content_engine.core.errors import DatabaseUnavailable, InputError
from content_engine.store.faults import SqliteFileGuard, fault_of

__all__ = ["BACKENDS", "SQLITE_BUSY_TIMEOUT", "connect", "normalize_url", "sqlite_file"]

# Seconds a SQLite writer waits for another one before giving up with "database is locked"
# (``Settings.sqlite_timeout`` overrides it).
SQLITE_BUSY_TIMEOUT = 30.0
# The backends the engine is written and tested for.
BACKENDS = ("sqlite", "postgresql")
_URL_HINT = "use sqlite:///FILE or postgresql://USER@HOST/DATABASE"


def normalize_url(url: str | URL) -> URL:
    """The SQLAlchemy URL to use: plain ``postgresql://`` (or ``postgres://``) means psycopg 3.

    ``InputError`` for what is not a URL of a supported backend (the string is not repeated:
    it may hold a password).
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise InputError(f"the database URL is not a URL: {_URL_HINT}") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend not in BACKENDS:
        raise InputError(
            f"unsupported database {backend!r}: {_URL_HINT}",
            details={"backend": backend, "supported": list(BACKENDS)},
        )
    return parsed


def sqlite_file(url: URL) -> SqliteFileGuard | None:
    """The guard of a SQLite database file, after checking that the file can be one."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if url.database.startswith("file:") or url.query.get("uri"):
        return None  # a URI filename: SQLite's own options decide (e.g. mode=ro)
    path = Path(url.database)
    if not path.parent.is_dir():
        what = "is not a folder" if path.parent.exists() else "does not exist"
        raise InputError(
            f"folder {path.parent} {what} (for the database file {path.name})",
            details={"path": str(path)},
        )
    if path.exists() and not path.is_file():
        raise InputError(f"{path} is not a database file", details={"path": str(path)})
    return SqliteFileGuard(path)


def connect(
    url: URL, sqlite_timeout: float = SQLITE_BUSY_TIMEOUT, guard: SqliteFileGuard | None = None
) -> Engine:
    """The engine for ``url``; no connection is opened yet."""
    try:
        with warnings.catch_warnings():
            # An option the driver ignores (``?foo=bar``) is a typo to report, not to skip.
            warnings.simplefilter("error", SAWarning)
            engine = _new_engine(url, sqlite_timeout)
    except SAWarning as exc:
        raise InputError(
            f"the database URL is not valid: {str(exc).split(' (Background')[0]}"
        ) from None
    except (ImportError, NoSuchModuleError) as exc:
        raise InputError(
            f"the driver for {url.drivername} is not installed ({exc}); "
            "PostgreSQL needs: pip install 'content-engine[pg]'"
        ) from None
    except (ArgumentError, ValueError, TypeError) as exc:  # e.g. ?timeout=abc
        raise InputError(f"the database URL has an option that is not valid: {exc}") from None

    @event.listens_for(engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        # The one place a driver's fault becomes a domain error, whichever statement (BEGIN
        # IMMEDIATE, an INSERT, COMMIT, connecting) of whichever read or write met it.
        if not isinstance(context.original_exception, Exception):
            # SystemExit, KeyboardInterrupt: the process is being stopped (a queue worker's
            # render process raises SystemExit on SIGTERM), not the database. SQLAlchemy
            # counts these as disconnects; made DatabaseUnavailable they were a line's
            # "failure" and the stop was swallowed, where the task must go back to the queue.
            return
        fault = fault_of(context.original_exception, busy_wait=sqlite_timeout)
        if fault is None and context.is_disconnect:
            lost = str(context.original_exception).strip().splitlines() or ["no reason given"]
            fault = DatabaseUnavailable(f"the database connection was lost: {lost[0]}")
        if isinstance(fault, DatabaseUnavailable) and guard is not None:
            why = guard.why_unusable()  # "disk I/O error" says less than "a full disk"
            if why is not None:
                fault = DatabaseUnavailable(f"the database file {why}", details=fault.details)
        if fault is not None:
            raise fault from context.original_exception

    if url.get_backend_name() == "sqlite":
        _sqlite_events(engine, url, sqlite_timeout, guard)
    return engine


def _new_engine(url: URL, sqlite_timeout: float) -> Engine:
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if url.database in (None, "", ":memory:"):
        # One shared connection, or every pooled connection would see its own empty database.
        return create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    return create_engine(url, connect_args={"timeout": sqlite_timeout})


def _sqlite_events(
    engine: Engine, url: URL, sqlite_timeout: float, guard: SqliteFileGuard | None
) -> None:
    memory = url.database in (None, "", ":memory:")

    @event.listens_for(engine, "do_connect")
    def _on_do_connect(_dialect: Any, _record: Any, cargs: list[Any], cparams: Any) -> None:
        if guard is None or not guard.opened:
            return
        guard.check()
        # Once the file exists, never let a new connection create an empty one in its place.
        cargs[0] = guard.path.as_uri() + "?mode=rw"
        cparams["uri"] = True

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # sqlite3's own transaction handling does not BEGIN before SELECT or DDL; take it over
        # (the recipe of SQLAlchemy's SQLite documentation) so transactions mean what they say.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if not memory:
                # Readers never block the writer, nor the writer readers.
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={round(sqlite_timeout * 1000)}")
        finally:
            cursor.close()
        if guard is not None:
            guard.record()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if guard is not None:
            guard.check()  # before anything is written into a file nobody will read again
        # A writer takes the write lock at BEGIN: a deferred transaction that reads first and
        # writes later can fail with "database is locked" instead of waiting its turn.
        immediate = conn.get_execution_options().get("content_engine_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
