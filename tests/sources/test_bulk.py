"""Lookups asked in bulk (``Sources.prefetch``): one query for many keys, answers that only
the holder sees, and nothing lost when the bulk form fails (each request then asks itself)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from content_engine.core.errors import LookupNotFound, SourcesConfigError
from content_engine.sources import Prefetched, SourcesLimits
from tests.sources.conftest import MakeSources, make_crm
from tests.sources.service import Service

SERIALS = [f"HP-{i:04d}" for i in range(300)]
ODD = ["' OR '1'='1", "x'); DROP TABLE installations; --", "%", "a\u2028b", "ü" * 200]


@pytest.fixture
def crm(db_url: str) -> str:
    """A database whose ``installations`` hold SERIALS and the ODD keys (customer C-1 or C-2)."""
    rows = [
        {"serial": s, "model": f"M{n % 7}", "customer_id": f"C-{n % 2 + 1}"}
        for n, s in enumerate([*SERIALS, *ODD])
    ]
    return make_crm(db_url, rows)


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every statement any SQLAlchemy engine of this process runs against ``installations``."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "installations" in statement:
            seen.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", count)
    yield seen
    sa.event.remove(sa.engine.Engine, "before_cursor_execute", count)


SELECT = "SELECT serial, model, customer_id FROM installations WHERE serial = :serial"


def sources_text(*, bulk: bool = True, customer: str = "", **extra: Any) -> str:
    options = {"key": "serial", "query": SELECT, "required": True, "timeout": 2.0} | extra
    if bulk:
        options["bulk_query"] = (
            "SELECT serial, model, customer_id FROM installations WHERE serial IN :serial"
        )
    lines = "".join(f"    {k}: {json.dumps(v)}\n" for k, v in options.items())
    return (
        "deadline: 5\n"
        "sources:\n"
        "  installation:\n"
        "    kind: sql\n"
        "    url: ${CRM_DB_URL}\n" + lines + customer
    )


def lookups(serials: list[str]) -> list[dict[str, str]]:
    return [{"serial": s} for s in serials]


def test_one_query_answers_every_key_and_fetch_asks_no_more(
    make_sources: MakeSources, crm: str, statements: list[str]
) -> None:
    sources = make_sources(sources_text(), {"CRM_DB_URL": crm})
    wanted = [*SERIALS, *ODD, "NOPE-1", SERIALS[0]]  # a key twice is asked once
    known = sources.prefetch(lookups(wanted), {"installation"})
    assert len(statements) == 1 and " IN " in statements[0]
    assert known.answers[("installation", "NOPE-1")] is None  # found nothing, said so
    for n, serial in enumerate([*SERIALS, *ODD]):  # injection attempts are bound, matched exactly
        fetched = sources.fetch({"serial": serial}, {"installation"}, known=known)
        assert fetched.values["installation"]["model"] == f"M{n % 7}"
        assert fetched.asked[0].cache_hit
    with pytest.raises(LookupNotFound):
        sources.fetch({"serial": "NOPE-1"}, {"installation"}, known=known)
    assert len(statements) == 1, "every line was answered from the bulk answer"
    # ttl 0: the bulk answers are the holder's only; a later request asks the database again.
    sources.fetch({"serial": SERIALS[0]}, {"installation"})
    assert len(statements) == 2


def test_the_keys_per_query_are_bounded(
    make_sources: MakeSources, crm: str, statements: list[str]
) -> None:
    limits = SourcesLimits(max_bulk_keys=64)
    sources = make_sources(sources_text(), {"CRM_DB_URL": crm}, limits)
    known = sources.prefetch(lookups(SERIALS), {"installation"})
    assert len(statements) == 5  # 300 keys, 64 a query
    assert len(known.answers) == 300 and all(known.answers.values())


def test_without_a_bulk_query_and_when_it_fails_each_key_is_asked_alone(
    make_sources: MakeSources, crm: str, statements: list[str]
) -> None:
    sources = make_sources(sources_text(bulk=False), {"CRM_DB_URL": crm})
    known = sources.prefetch(lookups(SERIALS[:20]), {"installation"})
    assert len(statements) == 20 and len(known.answers) == 20  # concurrently, on the pool
    statements.clear()
    # Rows over the bound, a missing key column: the bulk query fails, nothing is answered.
    for text, limits in [
        (sources_text(), SourcesLimits(max_bulk_rows=10)),
        (sources_text(bulk_key="serial_no"), SourcesLimits()),
    ]:
        sources = make_sources(text, {"CRM_DB_URL": crm}, limits)
        known = sources.prefetch(lookups(SERIALS[:20]), {"installation"})
        assert known.answers == {}
        fetched = sources.fetch({"serial": SERIALS[3]}, {"installation"}, known=known)
        assert fetched.values["installation"]["serial"] == SERIALS[3]


def test_many_rows_per_key_and_their_bound(
    make_sources: MakeSources, crm: str, statements: list[str]
) -> None:
    by_customer = {
        "query": "SELECT serial FROM installations WHERE customer_id = :serial ORDER BY serial",
        "bulk_query": (
            "SELECT serial, customer_id FROM installations WHERE customer_id IN :serial"
            " ORDER BY serial"
        ),
        "bulk_key": "customer_id",
        "many": True,
    }
    sources = make_sources(sources_text(bulk=False, **by_customer), {"CRM_DB_URL": crm})
    known = sources.prefetch(lookups(["C-1", "C-2", "C-3"]), {"installation"})
    assert len(statements) == 1
    assert [row["serial"] for row in known.answers[("installation", "C-1")]] == sorted(
        [*SERIALS, *ODD][0::2]
    )
    assert known.answers[("installation", "C-3")] == []  # a many source's "found nothing"
    with pytest.raises(LookupNotFound):
        sources.fetch({"serial": "C-3"}, {"installation"}, known=known)
    # Over max_rows for one key: that key is not answered in bulk; its line asks and fails.
    sources = make_sources(
        sources_text(bulk=False, max_rows=10, **by_customer), {"CRM_DB_URL": crm}
    )
    assert set(sources.prefetch(lookups(["C-1", "C-3"]), {"installation"}).answers) == {
        ("installation", "C-3")
    }


def test_chained_sources_are_asked_level_by_level(
    make_sources: MakeSources, crm: str, service: Service, statements: list[str]
) -> None:
    customer = (
        "  customer:\n"
        "    kind: http\n"
        f'    url: "{service.url}/customers/{{customer_id}}"\n'
        "    key: customer_id\n"
        "    from: installation.customer_id\n"
        "    retries: 0\n"
    )
    sources = make_sources(sources_text(customer=customer), {"CRM_DB_URL": crm})
    known = sources.prefetch(lookups(SERIALS[:40]), {"customer"})
    assert len(statements) == 1
    assert service.count("/customers") == 2  # 40 installations, two customers: a call each
    fetched = sources.fetch({"serial": SERIALS[1]}, {"customer"}, known=known)
    assert fetched.values["customer"]["name"] == "Ben Ort"
    assert (len(statements), service.count("/customers")) == (1, 2)


def test_invalid_lookups_are_left_to_their_own_request(
    make_sources: MakeSources, crm: str, statements: list[str]
) -> None:
    sources = make_sources(sources_text(), {"CRM_DB_URL": crm})
    known = sources.prefetch(
        [{"serial": "a\x00b"}, {"serial": 42}, {}, {"serial": "HP-0001"}], {"installation"}
    )
    assert set(known.answers) == {("installation", "HP-0001")}
    assert sources.prefetch([], {"installation"}) == Prefetched()
    assert len(statements) == 1


def test_a_file_source_answers_from_its_index(make_sources: MakeSources, tmp_path: Any) -> None:
    (tmp_path / "contracts.csv").write_text(
        "customer_id,plan\nC-1,gold\nC-1,silver\nC-2,basic\n", encoding="utf-8"
    )
    sources = make_sources(
        "sources:\n  contracts: {kind: file, path: contracts.csv, key: customer_id, many: true}\n"
    )
    known = sources.prefetch(
        lookups([]) + [{"customer_id": c} for c in ("C-1", "C-3")], {"contracts"}
    )
    assert known.answers == {
        ("contracts", "C-1"): [
            {"customer_id": "C-1", "plan": "gold"},
            {"customer_id": "C-1", "plan": "silver"},
        ],
        ("contracts", "C-3"): [],
    }


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"bulk_query": "SELECT * FROM installations WHERE serial IN :serials"},
            "sources.installation.bulk_query: the query binds exactly :serial, its key",
        ),
        (
            {"bulk_query": "SELECT * FROM installations WHERE serial IN (:serial)"},
            "sources.installation.bulk_query: write IN :serial, without parentheses",
        ),
        ({"bulk_key": "serial"}, "sources.installation.bulk_key: there is no bulk_query"),
        ({"bulk_query": "SELECT 1 WHERE ${X} IN :serial"}, "${...} is read only in"),
    ],
)
def test_a_bad_bulk_query_is_refused_at_its_line(
    make_sources: MakeSources, extra: dict[str, str], message: str
) -> None:
    with pytest.raises(SourcesConfigError) as caught:
        make_sources(sources_text(bulk=False, **extra), {"CRM_DB_URL": "sqlite:///crm.db"})
    assert message in str(caught.value) and ":10:5:" in str(caught.value)
