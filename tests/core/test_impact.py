"""Impact before publish (core.impact): publications reached, cells and readers that move.

Tables: each row a library before, the change that makes ``after``, and what must be named.
Includes are given as a table too (the core is handed them; finding them reads bodies).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import pytest

from content_engine.core.impact import Impact, impact
from content_engine.core.models import Component, Library, Publication, Slot, Variant
from tests.support.factories import component, library, variant

AT = datetime(2026, 11, 23, 10, tzinfo=UTC)
INCLUDE = re.compile(r'<ce-include component="([^"]+)"')
SMALL = {"default_locale": "en", "locales": ["en", "de"], "regions": {"DACH": ["DE", "AT"]}}


def includes(component: Component, variant: Variant) -> Iterable[str]:
    return INCLUDE.findall(variant.body)


def inc(*targets: str) -> str:
    return "".join(f'<ce-include component="{t}"></ce-include>' for t in targets) or "<p/>"


def pub(pid: str, *slots: dict[str, Any]) -> Publication:
    return Publication(id=pid, title=pid.title(), slots=tuple(Slot(**s) for s in slots))


def lib(*components: Component, pubs: tuple[Publication, ...] = (), **settings: Any) -> Library:
    built = library(*components, settings={**SMALL, **settings})
    return built.model_copy(update={"publications": {p.id: p for p in pubs}})


def changed(before: Library, cid: str, *variants: Variant) -> Library:
    """``before`` with ``cid``'s variants replaced by ``variants``."""
    old = before.components[cid]
    new = old.model_copy(update={"variants": {v.key: v for v in variants}})
    return before.model_copy(update={"components": {**before.components, cid: new}})


def run(before: Library, after: Library, **kw: Any) -> Impact:
    return impact(before, after, includes, AT, **kw)


# --- publications: direct slots, query slots, include chains --------------------------------

SNIPPET = component("snippet.hotline", variant("default"))
SNIPPET_V2 = variant("default", "<p>new number</p>", version=2)
CHAIN_LIB = lib(
    SNIPPET,
    component("brochure.contact", variant("en", inc("snippet.hotline"), locale="en"), type="b"),
    component("docs.trouble", variant("en", inc("docs.inner")), type="doc"),
    component("docs.inner", variant("en", inc("snippet.hotline")), type="doc"),
    component("legal.terms", variant("en"), type="legal", tags=("terms", "eu")),
    component("product.x", variant("en", inc("brochure.contact")), type="product"),
    pubs=(
        pub("brochure", {"component": "product.x"}, {"component": "brochure.contact"}),
        pub("manual", {"component": "docs.trouble", "required": True}),
        pub("direct", {"component": "snippet.hotline"}),
        pub("legal", {"query": {"type": "legal", "tags": ["eu"]}}),
        pub("unrelated", {"component": "legal.terms"}),
        pub("by-query", {"query": {"type": "snippet"}}),
    ),
)

PUBLICATION_CASES: list[tuple[str, str, Variant, dict[str, list[tuple[int, list[str]]]]]] = [
    (
        "a shared snippet names every publication that reaches it, by every route",
        "snippet.hotline",
        SNIPPET_V2,
        {
            "brochure": [
                (1, ["product.x", "brochure.contact", "snippet.hotline"]),
                (2, ["brochure.contact", "snippet.hotline"]),
            ],
            "by-query": [(1, ["snippet.hotline"])],
            "direct": [(1, ["snippet.hotline"])],
            "manual": [(1, ["docs.trouble", "docs.inner", "snippet.hotline"])],
        },
    ),
    (
        "a query slot reaches what it matches",
        "legal.terms",
        variant("en", "<p>new terms</p>", version=2),
        {"legal": [(1, ["legal.terms"])], "unrelated": [(1, ["legal.terms"])]},
    ),
    (
        "a component nobody includes reaches only its own slots",
        "product.x",
        variant("en", "<p>no include now</p>", version=2),
        {"brochure": [(1, ["product.x"])]},
    ),
    (
        "an include added by the change counts (after's graph)",
        "legal.terms",
        variant("en", inc("snippet.hotline"), version=2),
        {"legal": [(1, ["legal.terms"])], "unrelated": [(1, ["legal.terms"])]},
    ),
]


@pytest.mark.parametrize(
    ("name", "cid", "new", "expected"), PUBLICATION_CASES, ids=[c[0] for c in PUBLICATION_CASES]
)
def test_publications_reached(
    name: str, cid: str, new: Variant, expected: dict[str, list[tuple[int, list[str]]]]
) -> None:
    found = run(CHAIN_LIB, changed(CHAIN_LIB, cid, new))
    assert found.changed_components == [cid]
    got = {p.id: [(r.slot, r.chain) for r in p.routes] for p in found.publications}
    assert got == expected


def test_a_route_says_whether_its_slot_is_required_or_a_query() -> None:
    found = run(CHAIN_LIB, changed(CHAIN_LIB, "snippet.hotline", SNIPPET_V2))
    routes = {p.id: p.routes[0] for p in found.publications}
    assert routes["manual"].required and not routes["manual"].query
    assert routes["by-query"].query and not routes["by-query"].required


def test_no_change_no_impact() -> None:
    found = run(CHAIN_LIB, CHAIN_LIB)
    assert found.changed_components == [] and found.publications == [] and found.cells == []
    assert found.readers.considered == 0 and not found.capped


# --- cells and readers -----------------------------------------------------------------------

ROWS = [
    # (name, before variants, after variants, changed cells (locale, group, before, after, codes),
    #  readers summary: changed, different_variant, gained, lost)
    (
        "a new version of the same variant: every reader of it, same key",
        [variant("en", locale="en")],
        [variant("en", "<p>v2</p>", version=2, locale="en")],
        [
            ("en", "DACH", "en@1", "en@2", ["DE", "AT"]),
            ("de", "DACH", "en@1", "en@2", ["DE", "AT"]),
        ],
        (4, 0, 0, 0),
    ),
    (
        "a working copy that narrows its locale: German readers fall to nothing",
        [variant("any")],
        [variant("any", version=2, locale="en")],
        [
            ("en", "DACH", "any@1", "any@2", ["DE", "AT"]),
            ("de", "DACH", "any@1", "any@2", ["DE", "AT"]),
        ],
        (4, 0, 0, 0),
    ),
    (
        "a region-bound variant going live takes Austria only",
        [variant("de", locale="de"), variant("at", status="draft", locale="de", regions=["AT"])],
        [variant("de", locale="de"), variant("at", version=2, locale="de", regions=["AT"])],
        [("de", "DACH", "de@1", "at@2", ["AT"])],
        (1, 1, 0, 0),
    ),
    (
        "a first variant in German: German readers gain a block",
        [variant("en", locale="en")],
        [variant("en", locale="en"), variant("de", version=1, locale="de")],
        [("de", "DACH", "en@1", "de@1", ["DE", "AT"])],
        (2, 2, 0, 0),
    ),
    (
        "the only variant taken offline: its readers lose the block",
        [variant("en", locale="en")],
        [],
        [
            ("en", "DACH", "en@1", None, ["DE", "AT"]),
            ("de", "DACH", "en@1", None, ["DE", "AT"]),
        ],
        (4, 4, 0, 4),
    ),
    (
        "a component that had nothing for German gets it",
        [variant("fr", locale="fr")],
        [variant("fr", locale="fr"), variant("de", locale="de")],
        [("de", "DACH", None, "de@1", ["DE", "AT"])],
        (2, 2, 2, 0),
    ),
    (
        "a change no declared reader sees changes no cell",
        [variant("en", locale="en"), variant("ch", locale="de", regions=["CH"])],
        [variant("en", locale="en"), variant("ch", version=2, locale="de", regions=["CH"])],
        [],
        (0, 0, 0, 0),
    ),
]


def _ref(text: str | None) -> tuple[str, int] | None:
    if text is None:
        return None
    key, _, version = text.partition("@")
    return key, int(version)


@pytest.mark.parametrize(("name", "old", "new", "cells", "summary"), ROWS, ids=[r[0] for r in ROWS])
def test_cells_and_readers(
    name: str,
    old: list[Variant],
    new: list[Variant],
    cells: list[tuple[str, str, str | None, str | None, list[str]]],
    summary: tuple[int, int, int, int],
) -> None:
    before = lib(component("c", *old))
    found = run(before, changed(before, "c", *new))
    got = [
        (
            c.locale,
            c.region_group,
            c.before and (c.before.key, c.before.version),
            c.after and (c.after.key, c.after.version),
            c.regions,
        )
        for c in found.cells
    ]
    assert got == [(lo, g, _ref(b), _ref(a), codes) for lo, g, b, a, codes in cells]
    r = found.readers
    assert r.considered == 4  # en, de × DE, AT
    assert (r.changed, r.different_variant, r.gained, r.lost) == summary


def test_cells_follow_roles_and_say_the_locale_written_in() -> None:
    before = lib(component("c", variant("en", locale="en")), roles=["buyer", "technician"])
    after = changed(
        before, "c", variant("en", locale="en"), variant("t", locale="en", roles=["technician"])
    )
    found = run(before, after)
    assert {(c.locale, c.role) for c in found.cells} == {("en", "technician"), ("de", "technician")}
    fallback = next(c for c in found.cells if c.locale == "de")
    assert fallback.before is not None and fallback.before.locale == "en"  # a fallback before
    assert fallback.after is not None and fallback.after.key == "t"


def test_without_region_groups_one_cell_per_locale_and_role() -> None:
    before = lib(component("c", variant("en", locale="en")), regions={})
    found = run(before, changed(before, "c", variant("en", version=2, locale="en")))
    assert [(c.locale, c.region_group, c.regions) for c in found.cells] == [
        ("en", None, []),
        ("de", None, []),
    ]


def test_nested_and_overlapping_groups_count_each_reader_once() -> None:
    regions = {"EU": ["DACH", "FR"], "DACH": ["DE", "AT"]}
    before = lib(component("c", variant("en")), regions=regions, locales=["en"])
    found = run(before, changed(before, "c", variant("en", version=2)))
    assert [(c.region_group, c.regions) for c in found.cells] == [
        ("EU", ["DE", "AT", "FR"]),
        ("DACH", ["DE", "AT"]),
    ]
    assert found.readers.considered == 3 and found.readers.changed == 3


def test_schedules_are_read_at_the_moment_given() -> None:
    before = lib(component("c", variant("en")), locales=["en"])
    later = variant("en", version=2, valid_from="2027-01-01")
    found = run(before, changed(before, "c", later))
    assert found.readers.lost == 2  # not valid yet at AT
    found = impact(before, changed(before, "c", later), includes, datetime(2027, 6, 1, tzinfo=UTC))
    assert found.readers.lost == 0 and found.readers.changed == 2


@pytest.mark.parametrize(
    ("max_readers", "max_cells", "considered", "capped"),
    [(10_000, 20_000, 4, False), (3, 20_000, 3, True), (4, 20_000, 4, False), (10_000, 1, 2, True)],
)
def test_the_work_is_bounded_and_says_so(
    max_readers: int, max_cells: int, considered: int, capped: bool
) -> None:
    before = lib(component("c", variant("en")))
    found = run(
        before,
        changed(before, "c", variant("en", version=2)),
        max_readers=max_readers,
        max_cells=max_cells,
    )
    assert found.readers.considered == considered
    assert found.capped is capped and found.limit == max_readers


def test_a_region_name_no_reader_can_carry_is_skipped_not_fatal() -> None:
    before = lib(component("c", variant("en")), locales=["en"], regions={"G": ["DE", "bad code!"]})
    found = run(before, changed(before, "c", variant("en", version=2)))
    assert [c.regions for c in found.cells] == [["DE"]]
