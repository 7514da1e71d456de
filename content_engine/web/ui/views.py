"""What the pages show, shaped from the engine's models: searches, groupings, the matrix.

In: a ``Library``, a ``CoverageReport``, lint ``Problem``s. Out: plain values the templates
lay out. Pure: nothing here reads a request or the repository.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from content_engine.core.assembly import query_matches
from content_engine.core.coverage import CoverageReport, CoverageRow
from content_engine.core.integrity import Problem
from content_engine.core.models import DIMENSIONS, Component, Library, Publication, Slot, Variant
from content_engine.core.search import find_components
from content_engine.core.selection import Selection
from content_engine.core.table import heads_of


def search(library: Library, text: str = "", type: str = "", tag: str = "") -> list[Component]:
    """The library page's filters (empty: any) by the API's rules, bodies searched too; sorted
    by type, then id, for ``by_type``."""
    found = find_components(
        library.components.values(),
        text.strip(),  # a typed field's stray spaces are not part of what is looked for
        type=type or None,
        tag=tag or None,
        in_bodies=True,
    )
    return sorted(found, key=lambda c: c.type)  # stable: id order within a type


def by_type(components: list[Component]) -> list[tuple[str, list[Component]]]:
    """Components grouped by type, in the order given (``search`` sorts by type, then id)."""
    return [(t, list(group)) for t, group in itertools.groupby(components, key=lambda c: c.type)]


def types_and_tags(library: Library) -> tuple[list[str], list[str]]:
    components = list(heads_of(library.components))
    types = sorted({c.type for c in components})
    tags = sorted({t for c in components for t in c.tags})
    return types, tags


def conditions(variant: Variant) -> list[tuple[str, str]]:
    """The dimensions a variant states, as (name, value) pairs; empty: it applies to anyone."""
    stated = []
    if variant.conditions.locale:
        stated.append(("locale", variant.conditions.locale))
    for dimension in DIMENSIONS:
        values = getattr(variant.conditions, dimension)
        if values is not None:
            stated.append((dimension, " ".join(values)))
    return stated


def slot_components(library: Library, slot: Slot) -> list[str]:
    """The components a slot stands for now: the one it names, or its query's matches."""
    return list(query_matches(library, slot))


def publication_components(library: Library, publication: Publication) -> list[str]:
    seen: dict[str, None] = {}
    for slot in publication.slots:
        seen.update(dict.fromkeys(slot_components(library, slot)))
    return list(seen)


def problem_link(problem: Problem) -> str | None:
    """Where to fix a lint problem: the variant's editor, else the component's page."""
    if problem.component and problem.variant:
        return f"/components/{problem.component}/variants/{problem.variant}"
    if problem.component:
        return f"/components/{problem.component}"
    return None


@dataclass(frozen=True)
class CoverageMatrix:
    """A report as one table per locale: a row per role, a column per region group."""

    report: CoverageReport
    cells: dict[tuple[str, str | None, str | None], CoverageRow]

    def cell(self, locale: str, role: str | None, group: str | None) -> CoverageRow:
        return self.cells[locale, role, group]

    @property
    def gaps(self) -> int:
        return sum(not row.covered for row in self.report.rows)

    @property
    def fallbacks(self) -> int:
        return sum(bool(row.fallbacks) for row in self.report.rows)


def coverage_matrix(report: CoverageReport) -> CoverageMatrix:
    return CoverageMatrix(
        report, {(row.locale, row.role, row.region_group): row for row in report.rows}
    )


# Rank elements in order (``selection.rank``): what decided between two candidates.
LOST_ON = ("locale", "conditions", "region", "priority", "key")


@dataclass(frozen=True)
class TraceRow:
    """One variant in an explain trace, in the order a reader would want it."""

    key: str
    version: int
    candidate: bool
    winner: bool
    reasons: list[str]
    place: int | None = None  # 1 for the winner, 2 for the runner-up, ...
    lost_on: str | None = None  # which rank element it lost on (``LOST_ON``)


def trace_rows(selection: Selection) -> list[TraceRow]:
    """The winner, the other candidates best first with what they lost on, then the rest."""
    candidates = sorted(
        (t for t in selection.variants if t.candidate and t.rank is not None),
        key=lambda t: tuple(t.rank or ()),
    )
    best = candidates[0].rank if candidates else None
    rows = []
    for place, trace in enumerate(candidates, 1):
        lost = None
        if place > 1 and best is not None and trace.rank is not None:
            lost = next(
                (
                    LOST_ON[i]
                    for i, (a, b) in enumerate(zip(trace.rank, best, strict=True))
                    if a != b
                ),
                None,
            )
        rows.append(
            TraceRow(
                trace.key,
                trace.version,
                True,
                trace.key == selection.winner,
                trace.reasons,
                place,
                lost,
            )
        )
    rows += [
        TraceRow(t.key, t.version, False, False, t.reasons)
        for t in selection.variants
        if not t.candidate
    ]
    return rows
