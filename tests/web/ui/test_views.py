"""What the pages show, shaped from the engine's models."""

from __future__ import annotations

import pytest

from content_engine.core.coverage import CoverageReport, CoverageRow, SlotGap
from content_engine.core.integrity import Problem
from content_engine.core.models import Component, Conditions, Context, Library, Variant
from content_engine.core.selection import Selection, VariantTrace
from content_engine.web.ui import views


def component(cid: str, type: str, tags: tuple[str, ...] = (), body: str = "") -> Component:
    variant = Variant(key="en", body=body)
    return Component(id=cid, type=type, title=cid.title(), tags=tags, variants={"en": variant})


LIBRARY = Library(
    components={
        c.id: c
        for c in (
            component("b.two", "brochure", ("x",), "<p>Heat pump</p>"),
            component("a.one", "snippet", ("x", "y"), "<p>Hotline</p>"),
            component("b.one", "brochure", ("y",), "<p>Subsidies</p>"),
        )
    }
)


@pytest.mark.parametrize(
    ("text", "type", "tag", "expected"),
    [
        ("", "", "", ["b.one", "b.two", "a.one"]),  # by type, then id
        ("HEAT", "", "", ["b.two"]),
        ("one", "", "", ["b.one", "a.one"]),
        ("", "brochure", "", ["b.one", "b.two"]),
        ("", "", "y", ["b.one", "a.one"]),
        ("", "brochure", "x", ["b.two"]),
        ("nothing", "", "", []),
    ],
)
def test_search(text: str, type: str, tag: str, expected: list[str]) -> None:
    assert [c.id for c in views.search(LIBRARY, text, type, tag)] == expected


def test_by_type_and_the_filters_choices() -> None:
    groups = views.by_type(views.search(LIBRARY))
    assert [(t, [c.id for c in cs]) for t, cs in groups] == [
        ("brochure", ["b.one", "b.two"]),
        ("snippet", ["a.one"]),
    ]
    assert views.types_and_tags(LIBRARY) == (["brochure", "snippet"], ["x", "y"])


def test_conditions_lists_what_is_stated_in_order() -> None:
    variant = Variant(
        key="k", conditions=Conditions(locale="de", regions=("AT", "CH"), roles=("buyer",))
    )
    assert views.conditions(variant) == [("locale", "de"), ("roles", "buyer"), ("regions", "AT CH")]
    assert views.conditions(Variant(key="k")) == []


@pytest.mark.parametrize(
    ("component", "variant", "link"),
    [
        ("c", "v", "/components/c/variants/v"),
        ("c", None, "/components/c"),
        (None, None, None),
    ],
)
def test_problem_link(component: str | None, variant: str | None, link: str | None) -> None:
    problem = Problem(code="x", message="m", component=component, variant=variant)
    assert views.problem_link(problem) == link


def trace(key: str, rank: list[int | str] | None, reasons: list[str] = ()) -> VariantTrace:
    return VariantTrace(
        key=key, version=1, candidate=rank is not None, reasons=list(reasons), rank=rank
    )


def test_trace_rows_put_the_winner_first_and_say_what_the_others_lost_on() -> None:
    selection = Selection(
        component="c",
        context=Context(locale="de-AT"),
        chain=["de-AT", "de", "en"],
        segments=[],
        winner="de-AT",
        variants=[
            trace("de", [1, -1, 1000, -5, "de"]),
            trace("de-AT", [0, -1, 1000, -5, "de-AT"]),
            trace("de-AT-low", [0, -1, 1000, 0, "de-AT-low"]),
            trace("de-AT-plain", [0, 0, 1000, -5, "de-AT-plain"]),
            trace("fr", None, ["locale fr is not in the chain"]),
        ],
    )
    rows = views.trace_rows(selection)
    assert [(r.key, r.winner, r.place, r.lost_on) for r in rows] == [
        ("de-AT", True, 1, None),
        ("de-AT-low", False, 2, "priority"),
        ("de-AT-plain", False, 3, "conditions"),
        ("de", False, 4, "locale"),
        ("fr", False, None, None),
    ]
    assert rows[-1].reasons == ["locale fr is not in the chain"]


def test_coverage_matrix_finds_each_cell_and_counts_gaps() -> None:
    def row(locale: str, role: str | None, covered: bool) -> CoverageRow:
        gaps = [] if covered else [SlotGap(slot=1, component="c", regions=["AT"])]
        return CoverageRow(
            locale=locale, role=role, region_group="EU", covered=covered, gaps=gaps, fallbacks=[]
        )

    report = CoverageReport(
        publication="p",
        locales=["en", "de"],
        roles=["buyer", None],
        region_groups=["EU"],
        rows=[
            row("en", "buyer", True),
            row("en", None, True),
            row("de", "buyer", False),
            row("de", None, True),
        ],
    )
    matrix = views.coverage_matrix(report)
    assert matrix.cell("de", "buyer", "EU").covered is False
    assert matrix.cell("en", None, "EU").covered is True
    assert (matrix.gaps, matrix.fallbacks) == (1, 0)
