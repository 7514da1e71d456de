"""``sql`` sources against a real SQLite file and, with CONTENT_ENGINE_TEST_PG, real PostgreSQL.

Read-only whatever the query says, the key bound (never spliced), a row limit, and time bounded
by the database itself: SQLite's progress handler, PostgreSQL's ``statement_timeout``.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from content_engine.core.errors import LookupNotFound, SourcesConfigError, SourceUnavailable
from content_engine.sources.config import SourceSpec
from content_engine.sources.rows import Failure
from content_engine.sources.sql import SqlSource, database_url
from tests.sources.conftest import MakeSources, crm_engine, make_crm

ROWS = [
    {"serial": "HP200-0042", "model": "HP200", "customer_id": "C-1"},
    {"serial": "HP200-0043", "model": "HP200", "customer_id": "C-1"},
    {"serial": "HP900-0001", "model": "HP900", "customer_id": "C-2"},
]


@pytest.fixture
def crm(db_url: str) -> str:
    """A database with an ``installations`` table; its URL."""
    return make_crm(db_url, ROWS)


def count_rows(url: str) -> int:
    engine = crm_engine(url)
    with engine.connect() as conn:
        found = conn.execute(sa.text("SELECT count(*) FROM installations")).scalar_one()
    engine.dispose()
    return int(found)


def sql(query: str, **extra: Any) -> str:
    options = {"key": "serial", "required": True, "timeout": 1.0} | extra
    lines = "".join(f"    {k}: {json.dumps(v)}\n" for k, v in options.items())
    return (
        "deadline: 3\n"
        "sources:\n"
        "  installation:\n"
        "    kind: sql\n"
        "    url: ${CRM_DB_URL}\n"
        f"    query: {json.dumps(query)}\n" + lines
    )


SELECT = "SELECT serial, model, customer_id FROM installations WHERE serial = :serial"


def fetch(make_sources: MakeSources, crm: str, text: str, value: str) -> Any:
    sources = make_sources(text, {"CRM_DB_URL": crm})
    return sources.fetch({"serial": value}, {"installation"}).values.get("installation")


def test_one_row_found(make_sources: MakeSources, crm: str) -> None:
    assert fetch(make_sources, crm, sql(SELECT), "HP200-0042") == ROWS[0]


def test_none_found_is_lookup_not_found(make_sources: MakeSources, crm: str) -> None:
    with pytest.raises(LookupNotFound) as caught:
        fetch(make_sources, crm, sql(SELECT), "nope")
    assert caught.value.details == {"source": "installation", "key": "serial"}


def test_many_rows_and_the_row_limit(make_sources: MakeSources, crm: str) -> None:
    query = "SELECT serial FROM installations WHERE customer_id = :serial ORDER BY serial"
    rows = fetch(make_sources, crm, sql(query, many=True), "C-1")
    assert rows == [{"serial": "HP200-0042"}, {"serial": "HP200-0043"}]
    with pytest.raises(SourceUnavailable) as caught:
        fetch(make_sources, crm, sql(query, many=True, max_rows=1), "C-1")
    assert "over 1 rows" in caught.value.details["reason"]


@pytest.mark.parametrize(
    "query",
    [
        "UPDATE installations SET model = 'x' WHERE serial = :serial RETURNING serial",
        "DELETE FROM installations WHERE serial = :serial RETURNING serial",
        "INSERT INTO installations (serial) VALUES (:serial) RETURNING serial",
        "SELECT serial FROM installations WHERE serial = :serial; DROP TABLE installations",
    ],
)
def test_nothing_is_written_whatever_the_query(
    make_sources: MakeSources, crm: str, query: str
) -> None:
    with pytest.raises(SourceUnavailable):
        fetch(make_sources, crm, sql(query), "HP200-0042")
    assert count_rows(crm) == len(ROWS)


@pytest.mark.parametrize(
    "value",
    [
        "' OR '1'='1",
        "x'; DROP TABLE installations; --",
        "%",
        "HP200%",
        "_",
        '"; SELECT 1; --',
        "..",
        "a/b",
        "\\",
    ],
)
def test_metacharacters_are_bound_not_spliced(
    make_sources: MakeSources, crm: str, value: str
) -> None:
    with pytest.raises(LookupNotFound):
        fetch(make_sources, crm, sql(SELECT), value)
    assert count_rows(crm) == len(ROWS)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=60))
def test_any_key_reaches_the_query_as_it_was_sent(
    make_sources: MakeSources, crm: str, value: str
) -> None:
    echoed = fetch(make_sources, crm, sql("SELECT CAST(:serial AS TEXT) AS echoed"), value)
    assert echoed == {"echoed": value}


def _spec(crm: str, query: str, timeout: float) -> SqlSource:
    spec = SourceSpec(
        name="installation",
        kind="sql",
        key="serial",
        depends_on=None,
        from_field=None,
        timeout=timeout,
        cache_ttl=0,
        negative_ttl=0,
        required=True,
        many=False,
        query=query,
        max_rows=10,
        url=crm,
    )
    return SqlSource(spec)


def test_the_database_itself_stops_a_slow_query(crm: str) -> None:
    """Not only does the request stop waiting: the query is interrupted at the moment due, so
    the pool's thread is free again (pg_sleep on PostgreSQL, an endless recursion on SQLite)."""
    if crm.startswith("postgresql"):
        query = "SELECT pg_sleep(5), CAST(:serial AS TEXT) AS s"
    else:
        query = (
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
            "SELECT x FROM c WHERE x < 0 AND CAST(:serial AS TEXT) IS NOT NULL LIMIT 1"
        )
    source = _spec(crm, query, timeout=5)
    try:
        started = time.monotonic()
        with pytest.raises(Failure, match="timed out"):
            source.fetch("HP200-0042", time.monotonic() + 0.3)
        assert time.monotonic() - started < 2.0
        # The connection is still usable afterwards.
        fine = _spec(crm, "SELECT CAST(:serial AS TEXT) AS s", timeout=5)
        assert fine.fetch("ok", time.monotonic() + 2) == {"s": "ok"}
        fine.close()
    finally:
        source.close()


def test_on_postgresql_the_deadline_cancels_the_statement_at_the_server(
    make_sources: MakeSources, crm: str
) -> None:
    """The request's deadline (0.5 s), sooner than the source's timeout, becomes the
    statement's ``statement_timeout``: the server itself cancels it, so no 30 s query keeps a
    backend and a pool thread busy after the request gave up."""
    if not crm.startswith("postgresql"):
        pytest.skip("statement_timeout is PostgreSQL's")
    text = sql("SELECT pg_sleep(30), CAST(:serial AS TEXT) AS s", timeout=10)
    sources = make_sources(text.replace("deadline: 3", "deadline: 0.5"), {"CRM_DB_URL": crm})
    started = time.monotonic()
    with pytest.raises(SourceUnavailable):
        sources.fetch({"serial": "HP200-0042"}, {"installation"})
    assert time.monotonic() - started < 1.5
    engine = crm_engine(crm)
    running = sa.text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND state = 'active' AND query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()"
    )
    try:
        end = time.monotonic() + 3
        with engine.connect() as conn:
            while (busy := conn.execute(running).scalar_one()) and time.monotonic() < end:
                time.sleep(0.05)
    finally:
        engine.dispose()
    assert busy == 0


def test_values_become_plain_data(crm: str) -> None:
    if crm.startswith("postgresql"):
        query = (
            "SELECT DATE '2026-01-02' AS d, TIMESTAMP '2026-01-02 03:04:05' AS t,"
            " CAST(1.50 AS NUMERIC) AS n, CAST(2 AS NUMERIC) AS i, CAST(:serial AS TEXT) AS s"
        )
        expected = {"d": "2026-01-02", "t": "2026-01-02T03:04:05", "n": 1.5, "i": 2, "s": "x"}
    else:
        query = "SELECT 1.5 AS n, 2 AS i, NULL AS z, CAST(:serial AS TEXT) AS s"
        expected = {"n": 1.5, "i": 2, "z": None, "s": "x"}
    source = _spec(crm, query, timeout=2)
    try:
        assert source.fetch("x", time.monotonic() + 2) == expected
    finally:
        source.close()


def test_bytes_cannot_be_kept(crm: str) -> None:
    query = "SELECT CAST(:serial AS BLOB) AS b"
    if crm.startswith("postgresql"):
        query = "SELECT CAST(:serial AS BYTEA) AS b"
    source = _spec(crm, query, timeout=2)
    try:
        with pytest.raises(Failure, match="type bytes"):
            source.fetch("x", time.monotonic() + 2)
    finally:
        source.close()


def test_an_unreachable_database_names_no_password(make_sources: MakeSources) -> None:
    url = "postgresql://ce:hunter2secret@127.0.0.1:9/crm"
    with pytest.raises(SourceUnavailable) as caught:
        fetch(make_sources, url, sql(SELECT), "HP200-0042")
    shown = f"{caught.value} {caught.value.details}"
    assert "hunter2secret" not in shown and "127.0.0.1" not in shown


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("sqlite://", "is a file"),
        ("sqlite:///:memory:", "is a file"),
        ("postgresql://u:p@host:notaport/x", "not a database URL"),
        ("postgresql+nodriver://u:p@host/x", "no driver 'postgresql\\+nodriver'"),
    ],
)
def test_database_urls_that_cannot_be_used(url: str, words: str) -> None:
    with pytest.raises(ValueError, match=words) as caught:
        database_url(url)
    assert "p@" not in str(caught.value)


def test_sqlite_opens_read_only() -> None:
    url = database_url("sqlite:////srv/crm.db")
    assert url.database == "file:/srv/crm.db"
    assert dict(url.query) == {"mode": "ro", "uri": "true"}


def test_an_unusable_url_is_a_config_error(make_sources: MakeSources) -> None:
    with pytest.raises(SourcesConfigError, match=r"sources\.installation\.url: .*is a file"):
        make_sources(sql(SELECT), {"CRM_DB_URL": "sqlite://"})
