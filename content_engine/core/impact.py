"""Impact of a change before it goes live: which publications, coverage cells and readers it moves.

In: the library as readers get it now (``before``), the library as it would be (``after``: the
same library with a working copy made live), what a variant includes (a callable, since finding
includes reads the body), and the moment readers read at. Out: an ``Impact``:

- ``publications``: every publication that reaches a changed component, directly, through a
  query slot or through a chain of ``<ce-include>``s, each with the shortest chain from each of
  its slots (a snippet included by several publications names them all);
- ``cells``: the coverage cells (locale × role × region group, built as ``coverage`` builds
  them) where the variant a reader gets changes, with the variant before and after and the
  region codes of the group it changes for;
- ``readers``: how many of those readers get other content, another variant, a block where they
  had none, or none where they had one.

Only changed components are selected again, so the cost is readers × their variants; the
readers are bounded (``MAX_READERS``) and ``capped`` says when not all were asked. Reaching a
publication is decided on the include graph of both states (any variant's include is an edge),
as ``lint`` and the integrity checks decide it. Pure: no I/O.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

from pydantic import BaseModel, ConfigDict, ValidationError

from content_engine.core.assembly import query_matches
from content_engine.core.coverage import group_codes, matrix
from content_engine.core.models import Component, Context, Library, Publication, Variant
from content_engine.core.reader import Reader, RegionGroups, make_reader
from content_engine.core.selection import best_variant
from content_engine.core.table import maybe_changed

# Readers (locale × role × region code) asked at most; cells at most (a cell may hold no new
# reader when region groups overlap, so they are bounded on their own too).
MAX_READERS = 10_000
MAX_CELLS = 20_000
# Routes listed per publication (a query slot over many components could name them all).
MAX_ROUTES = 20

Includes = Callable[[Component, Variant], Iterable[str]]


class VariantRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    version: int
    locale: str | None  # the locale it is written in: another than the cell's is a fallback


class Route(BaseModel):
    """How a publication reaches a changed component: from a slot, through includes."""

    slot: int  # 1-based, as coverage counts slots
    query: bool  # the slot is a query (its matches, not one named component)
    required: bool
    chain: list[str]  # the slot's component first, the changed component last


class PublicationImpact(BaseModel):
    id: str
    title: str
    routes: list[Route]
    routes_omitted: int = 0


class CellChange(BaseModel):
    """One coverage cell where readers of ``regions`` get ``after`` instead of ``before``."""

    component: str
    locale: str
    role: str | None
    region_group: str | None
    regions: list[str]  # the group's codes this change holds for (empty: no region groups)
    before: VariantRef | None
    after: VariantRef | None


class ReaderSummary(BaseModel):
    considered: int = 0  # distinct readers (locale, role, region code) asked
    changed: int = 0  # get other content: another variant or another version of it
    different_variant: int = 0  # get another variant key (or one where none, or none)
    gained: int = 0  # get a block where they had none
    lost: int = 0  # get none where they had one


class Impact(BaseModel):
    changed_components: list[str]
    publications: list[PublicationImpact]
    cells: list[CellChange]
    readers: ReaderSummary
    capped: bool = False  # not every reader was asked: ``limit`` is the bound
    limit: int = MAX_READERS


def changed_components(before: Library, after: Library) -> list[str]:
    """Components whose variants differ between the two states, in id order."""
    ids = maybe_changed(before.components, after.components)
    return sorted(cid for cid in ids if _variants(before, cid) != _variants(after, cid))


def _variants(library: Library, cid: str) -> dict[str, Variant] | None:
    component = library.components.get(cid)
    return None if component is None else component.variants


def impact(
    before: Library,
    after: Library,
    includes: Includes,
    at: datetime,
    *,
    max_readers: int = MAX_READERS,
    max_cells: int = MAX_CELLS,
) -> Impact:
    changed = changed_components(before, after)
    if not changed:
        return Impact(changed_components=[], publications=[], cells=[], readers=ReaderSummary())
    publications = reaching_publications(before, after, changed, includes)
    cells, readers, capped = cell_changes(before, after, changed, at, max_readers, max_cells)
    return Impact(
        changed_components=changed,
        publications=publications,
        cells=cells,
        readers=readers,
        capped=capped,
        limit=max_readers,
    )


# --- publications ----------------------------------------------------------------------------


def _included_by(libraries: Iterable[Library], includes: Includes) -> dict[str, set[str]]:
    """Component → the components that include it in any variant of any of the states."""
    users: dict[str, set[str]] = {}
    seen: set[int] = set()
    for library in libraries:
        for component in library.components.values():
            for variant in component.variants.values():
                if id(variant) in seen:  # the states share most of their variants
                    continue
                seen.add(id(variant))
                for target in includes(component, variant):
                    users.setdefault(target, set()).add(component.id)
    return users


def _next_hops(target: str, users: dict[str, set[str]]) -> dict[str, str]:
    """For every component that reaches ``target``, its next step on a shortest chain there."""
    hops = {target: target}
    frontier = [target]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for user in sorted(users.get(node, ())):
                if user not in hops:
                    hops[user] = node
                    following.append(user)
        frontier = following
    return hops


def _chain(start: str, hops: dict[str, str]) -> list[str]:
    chain = [start]
    while hops[chain[-1]] != chain[-1]:
        chain.append(hops[chain[-1]])
    return chain


def reaching_publications(
    before: Library, after: Library, changed: list[str], includes: Includes
) -> list[PublicationImpact]:
    """Every publication of either state that reaches a changed component, in id order."""
    users = _included_by((before, after), includes)
    hops = {target: _next_hops(target, users) for target in changed}
    found: list[PublicationImpact] = []
    for pid in sorted(before.publications.keys() | after.publications.keys()):
        publication = after.publications.get(pid) or before.publications[pid]
        routes = list(_routes(publication, before, after, hops))
        if routes:
            found.append(
                PublicationImpact(
                    id=pid,
                    title=publication.title,
                    routes=routes[:MAX_ROUTES],
                    routes_omitted=max(0, len(routes) - MAX_ROUTES),
                )
            )
    return found


def _routes(
    publication: Publication, before: Library, after: Library, hops: dict[str, dict[str, str]]
) -> Iterator[Route]:
    for index, slot in enumerate(publication.slots, 1):
        starts = dict.fromkeys([*query_matches(before, slot), *query_matches(after, slot)])
        for reach in hops.values():
            chains = [_chain(start, reach) for start in starts if start in reach]
            for chain in sorted(chains, key=lambda c: (len(c), c)):
                yield Route(
                    slot=index, query=slot.query is not None, required=slot.required, chain=chain
                )


# --- cells and readers -----------------------------------------------------------------------


def _winner(component: Component | None, reader: Reader) -> VariantRef | None:
    variant = None if component is None else best_variant(component.variants.values(), reader)
    if variant is None:
        return None
    return VariantRef(key=variant.key, version=variant.version, locale=variant.conditions.locale)


Reader3 = tuple[str, str | None, str | None]  # locale, role, region code


def cell_changes(
    before: Library,
    after: Library,
    changed: list[str],
    at: datetime,
    max_readers: int = MAX_READERS,
    max_cells: int = MAX_CELLS,
) -> tuple[list[CellChange], ReaderSummary, bool]:
    """The cells of ``after``'s vocabulary where a changed component's winner moves."""
    settings = after.settings
    groups = RegionGroups(settings.regions)
    locales, roles, region_groups = matrix(settings)
    leaves: dict[str | None, list[str | None]] = {
        g: (list(group_codes(groups, g)) if g else [None]) for g in region_groups
    }
    winners: dict[Reader3, list[tuple[VariantRef | None, VariantRef | None]]] = {}
    cells: list[CellChange] = []
    capped = False
    # Each reader selects every changed component twice: the bound is on those selections.
    max_readers = max(1, max_readers // max(1, len(changed)))

    def ask(reader3: Reader3) -> list[tuple[VariantRef | None, VariantRef | None]]:
        locale, role, code = reader3
        try:
            context = Context(locale=locale, role=role, region=code, at=at)
        except ValidationError:  # a name no reader can carry: nobody reads as it
            return []
        reader = make_reader(context, settings, groups=groups)
        pairs = []
        for cid in changed:
            old, new = before.components.get(cid), after.components.get(cid)
            pairs.append((_winner(old, reader), _winner(new, reader)))
        return pairs

    axes = itertools.product(locales, roles, region_groups)
    for count, (locale, role, group) in enumerate(axes, 1):
        if count > max_cells:
            capped = True
            break
        moved: dict[tuple[int, VariantRef | None, VariantRef | None], list[str]] = {}
        for code in leaves[group]:
            reader3 = (locale, role, code)
            if reader3 not in winners:
                if len(winners) >= max_readers:
                    capped = True
                    break
                winners[reader3] = ask(reader3)
            for index, (old, new) in enumerate(winners[reader3]):
                if old != new:
                    moved.setdefault((index, old, new), []).extend([code] if code else [])
        for (index, old, new), codes in moved.items():
            cells.append(
                CellChange(
                    component=changed[index],
                    locale=locale,
                    role=role,
                    region_group=group,
                    regions=codes,
                    before=old,
                    after=new,
                )
            )
        if capped:
            break
    return cells, _summary(winners), capped


def _summary(
    winners: dict[Reader3, list[tuple[VariantRef | None, VariantRef | None]]],
) -> ReaderSummary:
    summary = ReaderSummary(considered=len(winners))
    for pairs in winners.values():
        moved = [(old, new) for old, new in pairs if old != new]
        if not moved:
            continue
        summary.changed += 1
        if any((old and old.key) != (new and new.key) for old, new in moved):
            summary.different_variant += 1
        if any(old is None for old, _ in moved):
            summary.gained += 1
        if any(new is None for _, new in moved):
            summary.lost += 1
    return summary
