"""The served library's lazy table: whole components fetched when asked for, few kept."""

from __future__ import annotations

import gc
from collections.abc import Mapping, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from content_engine.core import table
from content_engine.core.changes import LibraryChanges
from content_engine.core.models import Component
from content_engine.core.table import ComponentHead, ComponentTable, head_of, heads_of, replaced
from content_engine.core.working import with_working
from tests.support.factories import component, library, variant


class Store:
    """Whole components by id, counting what each fetch asked for."""

    def __init__(self, components: Sequence[Component]) -> None:
        self.components = {c.id: c for c in components}
        self.fetches: list[list[str]] = []

    def fetch(self, heads: Sequence[ComponentHead]) -> Mapping[str, Component]:
        self.fetches.append([head.id for head in heads])
        return {head.id: self.components[head.id] for head in heads}

    def table(self, keep: int = table.KEEP) -> ComponentTable:
        heads = {cid: head_of(c) for cid, c in self.components.items()}
        return ComponentTable(heads, self.fetch, keep=keep)


def made(n: int) -> list[Component]:
    return [
        component(
            f"c{i:04d}", variant("en"), variant("de", version=2), type="faq" if i % 2 else "a"
        )
        for i in range(n)
    ]


def test_lookups_fetch_one_component_once_and_ids_fetch_nothing() -> None:
    store = Store(made(5))
    components = store.table()
    assert len(components) == 5 and "c0003" in components and "nope" not in components
    assert sorted(components) == [f"c{i:04d}" for i in range(5)]
    assert store.fetches == []
    assert components["c0003"] == store.components["c0003"]
    assert components.get("c0003") is components["c0003"]
    assert store.fetches == [["c0003"]]
    assert components.get("nope") is None
    with pytest.raises(KeyError):
        components["nope"]


def test_only_the_components_fetched_last_are_kept() -> None:
    store = Store(made(4))
    components = store.table(keep=2)
    for cid in ("c0000", "c0001", "c0000", "c0002", "c0000", "c0001", "c0001"):
        components[cid]
    # c0002 pushed out the oldest fetched (c0000), which then pushed out c0001
    assert store.fetches == [["c0000"], ["c0001"], ["c0002"], ["c0000"], ["c0001"]]


@given(n=st.integers(0, 1_300), keep=st.integers(1, 50))
def test_a_walk_fetches_in_batches_and_yields_every_component(n: int, keep: int) -> None:
    store = Store(made(n))
    components = store.table(keep=keep)
    assert dict(components.items()) == store.components
    assert list(components.values()) == list(store.components.values())
    assert all(len(ids) <= table.BATCH for ids in store.fetches)
    assert len(store.fetches) == 2 * -(-n // table.BATCH)


def test_a_walk_does_not_fetch_what_is_kept() -> None:
    store = Store(made(3))
    components = store.table()
    components["c0001"]
    list(components.values())
    assert store.fetches == [["c0001"], ["c0000", "c0002"]]


def test_changes_make_a_table_that_keeps_what_was_kept_and_serves_the_changes() -> None:
    store = Store(made(3))
    components = store.table()
    components["c0000"]
    edited = component("c0001", variant("en", "<p>new</p>", version=3))
    added = component("c0009", variant("en"))
    moved = replaced(components, {"c0001": edited, "c0002": None, "c0009": added})
    assert isinstance(moved, ComponentTable)
    assert sorted(moved) == ["c0000", "c0001", "c0009"]
    assert moved["c0001"] is edited and moved["c0009"] is added
    assert moved["c0000"] == store.components["c0000"]
    assert store.fetches == [["c0000"]]  # nothing fetched for the changes or the kept one
    assert sorted(components) == ["c0000", "c0001", "c0002"]  # the old table is unchanged
    assert components["c0001"] == store.components["c0001"]


def test_a_library_over_a_table_applies_changes_and_working_copies_without_a_walk() -> None:
    store = Store(made(600))
    served = library().model_copy(update={"components": store.table()})
    edited = component("c0001", variant("en", "<p>new</p>", version=3), type="how-to")
    moved = LibraryChanges(revision=2, components={"c0001": edited}).apply(served)
    assert isinstance(moved.components, ComponentTable)
    copy = variant("en", "<p>draft</p>", version=4, status="draft")
    preview = with_working(moved, {"c0001": {"en": copy}})
    assert preview.components["c0001"].variants["en"] is copy
    assert moved.components["c0001"].variants["en"].body == "<p>new</p>"
    assert store.fetches == []
    faqs = sorted(h.id for h in heads_of(preview.components) if h.type == "faq")
    assert faqs[:2] == ["c0003", "c0005"]  # the edit's type, not the type it had
    assert [h.id for h in heads_of(preview.components) if h.type == "how-to"] == ["c0001"]


def test_a_table_and_a_dict_of_the_same_components_are_equal() -> None:
    store = Store(made(3))
    assert store.table() == store.components
    assert store.components == store.table()
    assert store.table() != {
        **store.components,
        "c0000": made(1)[0].model_copy(update={"title": "x"}),
    }


def test_heads_tell_what_the_components_hold() -> None:
    store = Store(made(3))
    components = store.table()
    assert [(h.id, h.type, h.version) for h in heads_of(components)] == [
        (c.id, c.type, c.version) for c in heads_of(store.components)
    ]
    assert table.variant_versions(components, "c0002") == [("en", 1), ("de", 2)]
    assert table.variant_versions(store.components, "c0002") == [("en", 1), ("de", 2)]
    assert table.variant_versions(components, "nope") == []
    assert store.fetches == []


def test_a_library_over_a_table_dumps_as_one_of_dicts() -> None:
    store = Store(made(2))
    served = library().model_copy(update={"components": store.table()})
    plain = library(*store.components.values())
    assert served.model_dump() == plain.model_dump()
    assert served.model_dump_json() == plain.model_dump_json()


def test_among_fetches_the_ids_asked_for_in_batches_once_each() -> None:
    store = Store(made(1_200))
    wanted = [f"c{i:04d}" for i in range(0, 1_200, 2)] * 2 + ["nope"]
    found = table.among(store.table(), wanted)
    assert found == {cid: store.components[cid] for cid in wanted if cid != "nope"}
    assert sorted(cid for ids in store.fetches for cid in ids) == sorted(found)
    assert len(store.fetches) == 2
    assert table.among(store.components, wanted) == found


def test_two_tables_tell_which_components_may_differ_by_their_heads_alone() -> None:
    store = Store(made(4))
    before = store.table()
    edited = component("c0001", variant("en", "<p>new</p>", version=3))
    after = before.replaced({"c0001": edited, "c0003": None})
    assert table.maybe_changed(before, after) == {"c0001", "c0003"}
    assert table.maybe_changed(before, store.components) == set(store.components)
    assert store.fetches == []


def test_what_a_superseded_revision_kept_goes_with_it() -> None:
    store = Store(made(3))
    components = store.table()
    for cid in ("c0000", "c0001"):
        components[cid]
    kept = components._kept
    assert len(kept) == 2
    edited = component("c0001", variant("en", "<p>new</p>", version=3))
    moved = components.replaced({"c0001": edited})
    assert len(kept) == 3  # the edit, kept beside the old revision's, which is still held
    del components
    gc.collect()
    assert len(kept) == 2  # c0001's old version went with the table that held its head
    assert moved["c0001"] is edited and moved["c0000"] == store.components["c0000"]
    assert store.fetches == [["c0000"], ["c0001"]]


def test_whether_a_component_is_held_is_told_alike_by_a_table_by_heads_and_by_a_dict() -> None:
    store = Store(made(3))
    components = store.table()
    edited = store.components["c0001"].model_copy(update={"version": 5})
    asked = [
        ("c0001", store.components["c0001"]),
        ("c0001", edited),
        ("c0001", None),
        ("nope", None),
        ("nope", edited),
    ]
    answers = [table.holds(components, cid, found) for cid, found in asked]
    assert answers == [True, False, False, True, False]
    assert answers == [table.holds(store.components, cid, found) for cid, found in asked]
    assert store.fetches == []
