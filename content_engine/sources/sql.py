"""Ask a database: one read-only query, the lookup key bound as its one parameter.

In: an ``sql`` source (a SQLite or PostgreSQL URL, a query binding ``:key``, a row limit), the
key's value and the moment the answer is due. Out: the row (or rows) found, as plain data, or
``Failure`` in a few words that name no URL and quote no database message (they may hold the
key's value or a secret). Read-only at the mechanism, whatever the query says: SQLite opens the
file ``mode=ro`` with ``PRAGMA query_only``; PostgreSQL runs every transaction
``default_transaction_read_only`` and rolls it back. Time is bounded by the database itself:
``statement_timeout`` (PostgreSQL, set per query to what is left) and an interrupt from SQLite's
progress handler when the moment passes; the resolver never waits longer in any case. Asked in
bulk (a batch, ``bulk_query``), the keys are bound as one expanding list: one query for up to
``max_bulk_keys`` keys, never a value spliced into the SQL text.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import TextClause, bindparam, create_engine, event, make_url, text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from content_engine.sources.config import SourceSpec
from content_engine.sources.limits import DEFAULT_LIMITS, SourcesLimits
from content_engine.sources.rows import Failure, answer, as_text

__all__ = ["SqlSource", "database_url"]

# How often (in SQLite virtual machine steps) the progress handler looks at the clock.
_STEPS = 1000
_TIMEOUT_WORDS = ("statement timeout", "canceling statement", "interrupted")


def database_url(raw: str) -> URL:
    """The SQLAlchemy URL of an ``sql`` source, read-only where the URL can say so; a
    ``ValueError`` without the URL (it may hold a password) when it is none."""
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):
        raise ValueError("not a database URL") from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:"):
            raise ValueError("an sql source's SQLite database is a file")
        if url.database.startswith("file:"):
            raise ValueError("an sql source's SQLite database is a plain file path")
        query = {**url.query, "mode": "ro", "uri": "true"}
        return url.set(database=f"file:{url.database}", query=query)
    if url.get_backend_name() != "postgresql":
        raise ValueError("an sql source's database is SQLite or PostgreSQL")
    try:
        url.get_dialect()
    except (ArgumentError, ImportError):  # NoSuchModuleError is an ArgumentError
        raise ValueError(f"no driver {url.drivername!r} is installed") from None
    return url


class SqlSource:
    """One ``sql`` source and its connection pool (opened on first use, kept for the process)."""

    def __init__(self, spec: SourceSpec, limits: SourcesLimits = DEFAULT_LIMITS) -> None:
        self.spec = spec
        self.limits = limits
        self._url = database_url(spec.url)
        self._sqlite = self._url.get_backend_name() == "sqlite"
        self._engine: Engine | None = None

    def _connect(self) -> Engine:
        if self._engine is not None:
            return self._engine
        timeout = self.spec.timeout
        if self._sqlite:
            engine = create_engine(self._url, connect_args={"timeout": timeout})

            @event.listens_for(engine, "connect")
            def _read_only(dbapi_connection: Any, _record: Any) -> None:
                dbapi_connection.execute("PRAGMA query_only = ON")

        else:
            options = "-c default_transaction_read_only=on"
            connect_args = {"options": options, "connect_timeout": max(2, math.ceil(timeout))}
            engine = create_engine(
                self._url, connect_args=connect_args, pool_pre_ping=True, pool_size=4
            )
        self._engine = engine
        return engine

    def fetch(self, value: str, due: float) -> Any:
        """The row(s) whose key is ``value``, ``None`` when none, or ``Failure``."""
        spec = self.spec
        limit = spec.max_rows + 1 if spec.many else 1
        rows = self._rows(text(spec.query), {spec.key: value}, due, limit)
        if len(rows) > spec.max_rows:
            raise Failure(f"the query found over {spec.max_rows} rows")
        return answer(rows, many=spec.many)

    def fetch_many(self, values: Sequence[str], due: float) -> dict[str, Any]:
        """Asked in bulk: ``bulk_query`` with the keys bound as one expanding list (at most
        ``max_bulk_keys`` per query), its rows grouped by the text of their ``bulk_key`` column.
        The answer for each of ``values``: found nothing when no row holds it; a value whose own
        answer is a failure (too many rows, unstorable) is left out. ``Failure`` for the whole
        when a query fails or reads over ``max_bulk_rows`` rows."""
        spec, most = self.spec, self.limits.max_bulk_keys
        statement = text(spec.bulk_query).bindparams(bindparam(spec.key, expanding=True))
        found: dict[str, list[dict[str, Any]]] = {}
        for start in range(0, len(values), most):
            part = list(values[start : start + most])
            rows = self._rows(statement, {spec.key: part}, due, self.limits.max_bulk_rows + 1)
            if len(rows) > self.limits.max_bulk_rows:
                raise Failure(f"the bulk query found over {self.limits.max_bulk_rows} rows")
            for row in rows:
                if spec.bulk_key not in row:
                    raise Failure(f"the bulk query's rows have no column {spec.bulk_key!r}")
                if row[spec.bulk_key] is not None:
                    found.setdefault(as_text(row[spec.bulk_key]), []).append(row)
        answers: dict[str, Any] = {}
        for value in values:
            rows = found.get(value, [])
            if spec.many and len(rows) > spec.max_rows:
                continue  # that line asks on its own and meets the failure there
            try:
                answers[value] = answer(rows if spec.many else rows[:1], many=spec.many)
            except Failure:
                continue
        return answers

    def _rows(
        self, statement: TextClause, params: dict[str, Any], due: float, limit: int
    ) -> list[dict[str, Any]]:
        """At most ``limit`` rows of ``statement``, read-only, interrupted at ``due``."""
        try:
            with self._connect().connect() as conn:
                left = due - time.monotonic()
                if left <= 0:
                    raise Failure("timed out")
                raw: Any = None
                if self._sqlite:
                    raw = conn.connection.dbapi_connection
                    assert raw is not None
                    raw.set_progress_handler(lambda: time.monotonic() > due, _STEPS)
                else:
                    ms = str(max(1, int(left * 1000)))
                    conn.execute(
                        text("SELECT set_config('statement_timeout', :ms, true)"), {"ms": ms}
                    )
                try:
                    result = conn.execute(statement, params)
                    if not result.returns_rows:
                        raise Failure("the query returns no rows")
                    rows = result.mappings().fetchmany(limit)
                finally:
                    if self._sqlite and raw is not None:
                        raw.set_progress_handler(None, _STEPS)
                    conn.rollback()
        except DBAPIError as exc:
            raise Failure(_reason(exc)) from None
        except SQLAlchemyError as exc:
            raise Failure(f"database error ({type(exc).__name__})") from None
        return [dict(row) for row in rows]

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def _reason(exc: DBAPIError) -> str:
    message = str(exc.orig).lower()
    if any(words in message for words in _TIMEOUT_WORDS):
        return "timed out"
    if "read-only" in message or "readonly" in message or "read only" in message:
        return "the query tried to write (sources are read-only)"
    if exc.connection_invalidated or "connect" in message:
        return "cannot connect to the database"
    return f"the database refused the query ({type(exc.orig).__name__})"
