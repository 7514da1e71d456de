"""The pure part of lookups (``core/lookups.py``): order, cycles, variables, lookup values.

Kept beside the adapter's tests: together they are the data-sources feature.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from content_engine.core.errors import InvalidContext
from content_engine.core.lookups import (
    MissingVariable,
    check_lookup,
    find_cycle,
    order,
    substitute,
    variables,
)

DEPENDS = {"installation": None, "customer": "installation", "contracts": "customer", "x": None}


def test_order_reads_dependencies_first_and_only_what_is_needed() -> None:
    assert order(DEPENDS, {"contracts"}) == ["installation", "customer", "contracts"]
    assert order(DEPENDS, {"customer", "locale", "product"}) == ["installation", "customer"]
    assert order(DEPENDS, set()) == []
    assert order(DEPENDS, ["x", "contracts", "customer"]) == [
        "installation",
        "customer",
        "contracts",
        "x",
    ]


@given(st.dictionaries(st.sampled_from("abcdefg"), st.none() | st.sampled_from("abcdefg")))
def test_order_is_a_topological_order_when_there_is_no_cycle(
    depends: dict[str, str | None],
) -> None:
    if find_cycle(depends) is not None:
        return
    placed = order(depends, depends)
    assert sorted(placed) == sorted(depends)
    for name in placed:
        upstream = depends[name]
        if upstream in depends:
            assert placed.index(upstream) < placed.index(name)


def test_cycles() -> None:
    assert find_cycle(DEPENDS) is None
    assert find_cycle({"a": "b", "b": "c", "c": "a"}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": "a"}) == ["a", "a"]
    assert find_cycle({"z": "a", "a": "b", "b": "a"}) == ["a", "b", "a"]
    assert find_cycle({"a": "elsewhere"}) is None


def test_variables_are_filled_in_once() -> None:
    env = {"A": "x${B}", "B": "never"}
    assert substitute("<${A}>", env) == "<x${B}>"
    assert variables("${A}:${B}") == ["A", "B"]
    with pytest.raises(MissingVariable) as caught:
        substitute("${NOPE}", env)
    assert caught.value.name == "NOPE"
    with pytest.raises(MissingVariable):
        substitute("${1BAD}", {"1BAD": "x"})
    assert substitute("no $ {vars} here", {}) == "no $ {vars} here"


def test_lookup_values() -> None:
    assert check_lookup({"serial": "HP200/../0042 %' OR 1"}) == {"serial": "HP200/../0042 %' OR 1"}
    for bad in ({"serial": "a\x00"}, {"serial": 1}, {"bad name": "x"}, {"serial": "é" * 257}):
        with pytest.raises(InvalidContext):
            check_lookup(bad)
