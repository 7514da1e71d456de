"""``provenance``: every source asked and the fields it supplied, by the rule that fills the
context (the context's own keys win; a list is unused where one row is needed)."""

from __future__ import annotations

from typing import Any

import pytest

from content_engine.core.lookups import Asked, Fetched, Outcome
from content_engine.core.models import Context
from content_engine.engine import provenance


def asked(source: str, outcome: Outcome = "found") -> Asked:
    return Asked(source, "serial", 0.002, False, outcome)


@pytest.mark.parametrize(
    ("own", "source", "value", "fields", "rows"),
    [
        ({}, "installation", {"serial": "A", "model": "HP200"}, ("serial", "model"), None),
        ({"customer": {"name": "B."}}, "customer", {"id": "C-1", "name": "Anna"}, ("id",), None),
        ({}, "customer", [{"id": "C-1"}], (), None),  # a list cannot fill one customer
        ({}, "contracts", [{"id": 1}, {"id": 2, "ends": "2027"}], ("id", "ends"), 2),
        ({}, "contracts", [], (), 0),
        ({"data": {"installation": {"model": "own"}}}, "installation", {"model": "x"}, (), None),
        ({}, "lookup", {"x": 1}, (), None),  # a name of the engine's own: unused
    ],
)
def test_fields_supplied(
    own: dict[str, Any], source: str, value: Any, fields: tuple[str, ...], rows: int | None
) -> None:
    context = Context.model_validate({"locale": "en", **own})
    fetched = Fetched(values={source: value}, asked=[asked(source)])
    [row] = provenance(context, fetched)
    assert (row.source, row.key, row.outcome) == (source, "serial", "found")
    assert (row.fields, row.rows) == (fields, rows)


def test_sources_that_gave_nothing_supplied_nothing() -> None:
    fetched = Fetched(asked=[asked("installation", "not_found"), asked("customer", "skipped")])
    rows = provenance(Context(locale="en"), fetched)
    assert [(r.source, r.outcome, r.fields) for r in rows] == [
        ("installation", "not_found", ()),
        ("customer", "skipped", ()),
    ]
    assert provenance(Context(locale="en"), None) == []
