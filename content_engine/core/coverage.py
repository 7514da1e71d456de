"""Coverage: for which readers a publication's required slots resolve, and where locales fall back.

In: a ``Library`` and a publication. Out: a ``CoverageReport`` with one row for each declared
locale × role × region group; a group is covered when every country in it is, and a cell
whose winner is a stale translation (``drift``) says so. Selection only,
no rendering, so it runs over the whole matrix in milliseconds.
"""

from __future__ import annotations

import itertools

from pydantic import BaseModel

from content_engine.core.assembly import query_matches
from content_engine.core.drift import stale_translations
from content_engine.core.errors import NotFound
from content_engine.core.models import Context, Library, LibrarySettings
from content_engine.core.reader import RegionGroups, make_reader
from content_engine.core.selection import choose


class SlotGap(BaseModel):
    slot: int
    component: str
    regions: list[str]  # the region codes (or "-" for none) where nothing resolves


class SlotFallback(BaseModel):
    component: str
    locale: str  # the locale the winning variant is written in


class SlotStale(BaseModel):
    component: str
    variant: str  # the stale translation the reader gets
    source: str  # the variant it was translated from, which has moved on


class SlotExperiment(BaseModel):
    """A slot whose component is drawn between an experiment's arms for these readers: each
    arm resolves it alike (they tie, so they share the locale), and every arm is listed."""

    component: str
    experiment: str
    arms: list[str]


class CoverageRow(BaseModel):
    locale: str
    role: str | None
    region_group: str | None
    covered: bool
    gaps: list[SlotGap]
    fallbacks: list[SlotFallback]
    # Cells whose winner is a stale translation (CONTRACT 10): covered, but out of date.
    stale: list[SlotStale] = []
    experiments: list[SlotExperiment] = []


class CoverageReport(BaseModel):
    publication: str
    locales: list[str]
    roles: list[str | None]
    region_groups: list[str | None]
    rows: list[CoverageRow]

    @property
    def covered(self) -> bool:
        return all(row.covered for row in self.rows)


def group_codes(groups: RegionGroups, name: str) -> list[str]:
    """The country codes a group stands for, transitively (a code stands for itself)."""
    if name not in groups.groups:
        return [name]
    codes: list[str] = []
    for member in groups.groups[name]:
        codes += [c for c in group_codes(groups, member) if c not in codes]
    return codes


def matrix(settings: LibrarySettings) -> tuple[list[str], list[str | None], list[str | None]]:
    """The axes of coverage: the declared locales, roles and region groups (``None``: none)."""
    locales = list(settings.locales) or [settings.default_locale]
    roles: list[str | None] = list(settings.roles) or [None]
    region_groups: list[str | None] = list(settings.regions) or [None]
    return locales, roles, region_groups


def coverage(library: Library, publication_id: str) -> CoverageReport:
    try:
        publication = library.publications[publication_id]
    except KeyError:
        raise NotFound(f"unknown publication {publication_id!r}") from None
    settings = library.settings
    groups = RegionGroups(settings.regions)
    locales, roles, region_groups = matrix(settings)
    outdated = {(s.component, s.variant): s.source for s in stale_translations(library)}
    rows: list[CoverageRow] = []
    for locale, role, group in itertools.product(locales, roles, region_groups):
        codes: list[str | None] = list(group_codes(groups, group)) if group else [None]
        gaps: dict[tuple[int, str], list[str]] = {}
        fallbacks: dict[str, str] = {}
        stale: dict[str, SlotStale] = {}
        drawn: dict[str, SlotExperiment] = {}
        for code in codes:
            reader = make_reader(Context(locale=locale, role=role, region=code), settings)
            for index, slot in enumerate(publication.slots, 1):
                for cid in query_matches(library, slot):
                    component = library.components.get(cid)
                    winner, assignment = (
                        choose(cid, component.variants.values(), reader)
                        if component
                        else (None, None)
                    )
                    if assignment is not None:
                        arms = [arm.key for arm in assignment.arms]
                        drawn.setdefault(
                            cid,
                            SlotExperiment(
                                component=cid, experiment=assignment.experiment, arms=arms
                            ),
                        )
                    if not winner:
                        if slot.required:
                            gaps.setdefault((index, cid), []).append(code or "-")
                        continue
                    origin = outdated.get((cid, winner.key))
                    if origin is not None:
                        stale.setdefault(
                            cid, SlotStale(component=cid, variant=winner.key, source=origin)
                        )
                    if winner.conditions.locale and winner.conditions.locale != locale:
                        fallbacks.setdefault(cid, winner.conditions.locale)
        rows.append(
            CoverageRow(
                locale=locale,
                role=role,
                region_group=group,
                covered=not gaps,
                gaps=[SlotGap(slot=i, component=c, regions=r) for (i, c), r in gaps.items()],
                fallbacks=[SlotFallback(component=c, locale=lo) for c, lo in fallbacks.items()],
                stale=list(stale.values()),
                experiments=list(drawn.values()),
            )
        )
    return CoverageReport(
        publication=publication_id,
        locales=locales,
        roles=roles,
        region_groups=region_groups,
        rows=rows,
    )
