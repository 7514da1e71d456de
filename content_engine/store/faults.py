"""Database faults as domain errors: the one map from what a driver raises to what callers see.

In: an exception met while using the database (sqlite3's, psycopg's, SQLAlchemy's wrappers of
them, or the OS's). Out: ``RepositoryBusy`` (another writer held the lock too long),
``DatabaseUnavailable`` (unreachable, dropped, full, read-only, deleted, damaged),
``Unavailable`` (an OS error: a file or the disk), or ``None``: anything else is a bug and
must surface as one. The CLI turns both into exit 1, the web layer
into 503; neither needs to know a driver.

Also the guard of a SQLite file against being deleted or replaced under a running process: its
open connections would go on writing into the unlinked file (a write answered 201 that nobody
can ever read), and the next new connection would create an empty database at the path.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from content_engine.core.errors import (
    ContentEngineError,
    DatabaseUnavailable,
    InputError,
    RepositoryBusy,
    Unavailable,
)

__all__ = ["SqliteFileGuard", "fault_of", "first_line", "is_psycopg", "translated"]

# SQLite's primary result codes (sqlite3.h) that say the database cannot be used as it is.
_SQLITE_BUSY = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED: the busy timeout ran out
_SQLITE_FAULTS = {
    3: "access to the database file is denied",  # SQLITE_PERM
    8: "the database is read-only",  # SQLITE_READONLY
    10: "the database file cannot be read or written (disk I/O error)",  # SQLITE_IOERR
    11: "the database file is damaged",  # SQLITE_CORRUPT
    13: "the disk holding the database is full",  # SQLITE_FULL
    14: "the database file cannot be opened",  # SQLITE_CANTOPEN
    15: "the database file's locks are broken",  # SQLITE_PROTOCOL
    22: "the database file is too large for this system",  # SQLITE_NOLFS
    26: "the file is not a database",  # SQLITE_NOTADB
}
# PostgreSQL SQLSTATE classes and codes that mean "not now", not "your statement is wrong":
# connection exceptions, invalid catalog (the database was dropped or renamed), insufficient
# resources (disk full), operator intervention (terminated, shutting down), system errors,
# a read-only transaction (a standby), and a table of ours missing (the database was dropped
# and created again empty: the schema the engine opened is gone).
# Less free space than this beside a SQLite file: its "disk I/O error" is a full disk (SQLite
# reports a full disk as SQLITE_FULL only for some writes, not for its WAL index).
_NEARLY_FULL_BYTES = 256 * 1024
_PG_FAULT_CLASSES = ("08", "3D", "53", "57", "58")
_PG_FAULT_CODES = {"25006", "42P01"}


def fault_of(exc: BaseException, *, busy_wait: float | None = None) -> ContentEngineError | None:
    """The domain error ``exc`` stands for if it is a fault of the database, else ``None``.

    ``busy_wait``: the seconds a SQLite writer waited, reported with ``RepositoryBusy``.
    """
    if isinstance(exc, ContentEngineError):
        return None
    original: BaseException = exc
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        original = exc.orig
    if isinstance(original, sqlite3.Error):
        return _sqlite_fault(original, busy_wait)
    if _is_psycopg_fault(original):
        return DatabaseUnavailable(f"the database is unavailable: {first_line(original)}")
    if (
        is_psycopg(original)
        and type(original).__name__ == "ProgrammingError"
        and getattr(original, "sqlstate", None) is None  # psycopg's own: the URL's options
    ):
        return InputError(f"the database URL is not valid: {first_line(original)}")
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return DatabaseUnavailable(f"the database connection was lost: {first_line(original)}")
    if isinstance(original, OSError):
        # Not the database's own error (sqlite3 and psycopg report theirs): a file or the
        # disk. No path in the message: it goes to clients; the server's log has the rest.
        reason = original.strerror or type(original).__name__
        return Unavailable(f"a file the server needs cannot be used now: {reason}")
    return None


@contextmanager
def translated(*, busy_wait: float | None = None) -> Iterator[None]:
    """Raise the domain error of a fault met inside, for code that bypasses SQLAlchemy's
    error events (raw DBAPI connections)."""
    try:
        yield
    except Exception as exc:
        fault = fault_of(exc, busy_wait=busy_wait)
        if fault is None:
            raise
        raise fault from exc


def _sqlite_fault(exc: sqlite3.Error, busy_wait: float | None) -> ContentEngineError | None:
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in _SQLITE_BUSY or str(exc) in ("database is locked", "database table is locked"):
        return RepositoryBusy(
            "the database is locked by another writer; try again",
            details={"waited_seconds": busy_wait},
        )
    reason = _SQLITE_FAULTS.get(primary) if primary is not None else None
    if reason is None:
        return None
    said = str(exc)
    return DatabaseUnavailable(
        reason if said in reason else f"{reason} ({said})",
        details={"sqlite_error": getattr(exc, "sqlite_errorname", None)},
    )


def is_psycopg(exc: BaseException) -> bool:
    module = type(exc).__module__
    return module == "psycopg" or module.startswith("psycopg.")


def _is_psycopg_fault(exc: BaseException) -> bool:
    if not is_psycopg(exc):
        return False
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate.startswith(_PG_FAULT_CLASSES) or sqlstate in _PG_FAULT_CODES
    # No SQLSTATE: the client library's own failures (cannot connect, connection closed).
    return type(exc).__name__ in ("OperationalError", "InterfaceError")


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line.removeprefix("connection failed: ").replace("FATAL:  ", "")


class SqliteFileGuard:
    """Refuses to go on with a SQLite file that is no longer the one first opened.

    The file's device and inode are recorded at the first connection; every transaction (and
    every new connection) checks them first, one ``stat`` each. A file deleted or replaced
    stays refused until the process is restarted: its connections hold the old file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path.absolute()
        self._identity: tuple[int, int] | None = None

    @property
    def opened(self) -> bool:
        return self._identity is not None

    def record(self) -> None:
        """Remember the file as it is now (after the first connection created or opened it)."""
        if self._identity is None:
            found = os.stat(self.path)
            self._identity = (found.st_dev, found.st_ino)

    def why_unusable(self) -> str | None:
        """Why SQLite cannot write the file, if the file system says so (for a clearer error
        than SQLite's "unable to open database file")."""
        folder = self.path.parent
        try:
            found = os.statvfs(folder)
        except OSError:
            return None
        if found.f_flag & os.ST_RDONLY:
            return "is on a read-only file system"
        if found.f_bavail * found.f_frsize < _NEARLY_FULL_BYTES:
            return "is on a full disk"
        if self.path.exists() and not os.access(self.path, os.W_OK):
            return "is read-only"
        if not os.access(folder, os.W_OK):
            # SQLite keeps its -wal and -shm files beside the database.
            return "is in a folder the engine cannot write to"
        return None

    def check(self) -> None:
        """``DatabaseUnavailable`` if the file at the path is gone or another one."""
        if self._identity is None:
            return
        try:
            found = os.stat(self.path)
        except FileNotFoundError:
            raise DatabaseUnavailable(
                f"the database file {self.path} was deleted while in use; "
                "restore it and restart the server",
                details={"path": str(self.path)},
            ) from None
        except OSError as exc:
            raise DatabaseUnavailable(
                f"the database file {self.path} cannot be reached: {exc.strerror}",
                details={"path": str(self.path)},
            ) from None
        if (found.st_dev, found.st_ino) != self._identity:
            raise DatabaseUnavailable(
                f"the database file {self.path} was replaced while in use; "
                "restart the server to use the new one",
                details={"path": str(self.path)},
            )
