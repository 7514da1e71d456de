"""The open database: schema upgrade on open, transactions, and the library's revision.

In: a database URL (and SQLite's busy timeout). Out: a ``Database`` whose schema is at head,
with read and write transactions for the parts of ``Repository`` to run their statements in,
and the ``revision`` number that caches compare.

Every library write is one transaction that first takes the write lock (SQLite ``BEGIN
IMMEDIATE``, PostgreSQL ``SELECT ... FOR UPDATE`` on the ``library_state`` row), so a write
never decides on a stale read. Reads run in one snapshot (``REPEATABLE READ`` on PostgreSQL),
so a read of the whole library never mixes two revisions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

from sqlalchemy import URL, Connection, func, inspect, select, text, update

from content_engine.core.errors import DatabaseUnavailable
from content_engine.store.connect import SQLITE_BUSY_TIMEOUT, connect, normalize_url, sqlite_file
from content_engine.store.faults import translated
from content_engine.store.listen import ChangeListener, announce, new_origin
from content_engine.store.tables import LibraryState

__all__ = ["HEAD_REVISION", "MIGRATIONS", "Database", "bump_revision", "current_revision"]

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration's revision id; a test checks it against Alembic's own idea of head.
HEAD_REVISION = "0012"
# Plain SQL valid on every backend (no parameters: placeholder styles differ).
_REVISION_SQL = "SELECT revision FROM library_state WHERE id = 1"
# Any constant: serialises concurrent migrations of one PostgreSQL database.
_PG_MIGRATION_LOCK = 0x636F6E74656E74


class Database:
    """One database, opened and brought up to date; the base every part of ``Repository`` shares.

    Opening migrates (Alembic, in-process) so that no front end has a setup step to forget.
    """

    def __init__(self, url: str | URL, *, sqlite_timeout: float = SQLITE_BUSY_TIMEOUT) -> None:
        self.url = normalize_url(url)
        self._guard = sqlite_file(self.url)
        self.closed = False
        self._busy_wait = sqlite_timeout
        self.engine = connect(self.url, sqlite_timeout, self._guard)
        self._is_sqlite = self.engine.dialect.name == "sqlite"
        # Whole-library reads need one snapshot; PostgreSQL's default READ COMMITTED gives each
        # statement its own.
        self._reader = (
            self.engine
            if self._is_sqlite
            else self.engine.execution_options(isolation_level="REPEATABLE READ")
        )
        # ``origin`` names this repository's announcements, so that its own listener skips
        # them: ``local_writes`` has made its caches stale already.
        self.origin = new_origin()
        self._writer = self.engine.execution_options(
            content_engine_write=True, content_engine_origin=self.origin
        )
        # Write transactions ended through this object, committed or not: caches built from
        # this repository re-check at once when it moves (``freshness``).
        self.local_writes = 0
        try:
            self._migrate()
        except DatabaseUnavailable as exc:
            self.engine.dispose()
            guard = self._guard
            reason = guard.why_unusable() if guard is not None else None
            if guard is None or reason is None:
                raise
            # On the command line and in serve's one line at start: name the file.
            raise DatabaseUnavailable(
                f"the database file {guard.path} {reason}", details=exc.details
            ) from exc
        except BaseException:
            self.engine.dispose()
            raise

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url.render_as_string(hide_password=True)!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release every pooled connection."""
        self.closed = True
        self.engine.dispose()

    def revision(self) -> int:
        """The library's revision: a cache built at revision N is stale once this differs.

        Caches ask before every request, so this bypasses SQLAlchemy's statement and
        transaction layers: one indexed single-row SELECT on a pooled DBAPI connection costs
        ~11 µs on SQLite instead of ~60-200 µs. A lone SELECT needs no explicit transaction.
        """
        self.check_file()
        with translated(busy_wait=self._busy_wait):
            connection = self.engine.raw_connection()
            try:
                cursor = connection.cursor()
                try:
                    cursor.execute(_REVISION_SQL)
                    row = cursor.fetchone()
                finally:
                    cursor.close()
            finally:
                connection.close()  # back to the pool, which rolls back whatever psycopg began
        assert row is not None, "library_state row missing: the migrations insert it"
        return int(row[0])

    def listener(self, on_change: Callable[[], None]) -> ChangeListener | None:
        """A listener (not started) that calls ``on_change`` when another process commits a
        write (``listen``); ``None`` on SQLite, which has no notifications: caches poll."""
        if self._is_sqlite:
            return None
        return ChangeListener(self.engine, on_change, origin=self.origin)

    def check_file(self) -> None:
        """``DatabaseUnavailable`` if a SQLite database file was deleted or replaced since it
        was opened (a no-op for PostgreSQL and in-memory databases)."""
        if self._guard is not None:
            self._guard.check()

    # --- schema -----------------------------------------------------------------------------

    def _at_head(self) -> bool:
        """Whether the schema is already current: a cheap read that spares importing Alembic."""
        with self.engine.connect() as conn:
            # Asked first, not found out by an error: a missing table of ours is a fault
            # (``faults``) once the schema exists, but not in a database never migrated.
            if not inspect(conn).has_table("alembic_version"):
                return False
            found = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
            return list(found) == [HEAD_REVISION]

    def _migrate(self) -> None:
        if self._at_head():
            return
        from alembic import command  # importing Alembic costs ~0.4 s; most opens skip it
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("path_separator", "os")
        with self._writer.begin() as conn:
            if not self._is_sqlite:
                # Two processes opening a fresh database at once must not both create tables.
                conn.execute(select(func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    # --- transactions -----------------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._reader.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction holding the library's write lock from its first statement."""
        with self._written(), self._writer.begin() as conn:
            conn.execute(
                select(LibraryState.revision).where(LibraryState.id == 1).with_for_update()
            )
            yield conn

    @contextmanager
    def _written(self) -> Iterator[None]:
        try:
            yield
        finally:
            self.local_writes += 1


def current_revision(conn: Connection) -> int:
    """The revision as the transaction under way sees it."""
    return conn.execute(select(LibraryState.revision).where(LibraryState.id == 1)).scalar_one()


def bump_revision(conn: Connection) -> int:
    """Move the revision on by one, inside a write: caches everywhere see the library changed."""
    revision: int = conn.execute(
        update(LibraryState)
        .where(LibraryState.id == 1)
        .values(revision=LibraryState.revision + 1)
        .returning(LibraryState.revision)
    ).scalar_one()
    announce(conn, str(revision))
    return revision
