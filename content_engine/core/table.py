"""A library's components as a lazy table: a small head per component, whole ones on demand.

In: each component's head (its metadata and which version of each variant it holds, no body)
and a way to fetch whole components for heads (the store's: it reads exactly those versions,
which never change once written). Out: a ``Mapping`` of component ids to ``Component`` models,
as a library of dicts is, that holds only the heads and the components fetched last.

Why: a served library of 100 k components is 800 k variants and a gigabyte of body text, of
which a server uses a small part; held as models it was 1.8 GB per process and most of a
minute to load. Heads are a few hundred bytes each; what serving needs beyond them (the
variants' conditions and bodies) comes in with the component, one read for all its variants,
and stays while it is among the ``keep`` fetched last. Walking the whole table (``values``,
``items``: lint, search, impact) fetches in batches and keeps nothing it walked.

Pure: fetching is the caller's function. ``heads_of`` and ``replaced`` serve a plain dict of
components and a table alike, so the code above never asks which one it has.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, ItemsView, Iterable, Iterator, Mapping, Sequence, ValuesView
from dataclasses import dataclass
from threading import RLock
from typing import Protocol, TypeVar

from content_engine.core.models import Component

__all__ = [
    "BATCH",
    "KEEP",
    "ComponentHead",
    "ComponentTable",
    "Fetch",
    "Head",
    "all_variant_versions",
    "among",
    "head_of",
    "heads_of",
    "holds",
    "maybe_changed",
    "merged",
    "replaced",
    "variant_versions",
]

T = TypeVar("T")

KEEP = 4_096  # whole components a table keeps, the ones fetched last
BATCH = 500  # heads per fetch when the whole table is walked


class Head(Protocol):
    """What both a ``Component`` and a ``ComponentHead`` tell without a body being read."""

    @property
    def id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def tags(self) -> tuple[str, ...]: ...
    @property
    def version(self) -> int: ...


@dataclass(frozen=True, slots=True, weakref_slot=True)
class ComponentHead:
    """One component's metadata and the version of each of its variants the library holds."""

    id: str
    type: str
    title: str
    tags: tuple[str, ...]
    folder: str
    version: int
    keys: tuple[str, ...]  # variant keys in order
    versions: tuple[int, ...]  # the version of each key the library holds

    def variant_versions(self) -> Iterator[tuple[str, int]]:
        return zip(self.keys, self.versions, strict=True)


def head_of(component: Component) -> ComponentHead:
    """The head of a whole component (one a write or a change brought in)."""
    keys = tuple(component.variants)
    return ComponentHead(
        component.id,
        component.type,
        component.title,
        component.tags,
        component.folder,
        component.version,
        keys,
        tuple(component.variants[key].version for key in keys),
    )


Fetch = Callable[[Sequence[ComponentHead]], Mapping[str, Component]]


class _Kept:
    """The whole components fetched last, shared by the tables of one library's revisions.

    Keyed by the head itself (its identity: a table's unchanged heads are the same objects in
    the next revision's table), so a lookup hashes nothing and takes no lock. An entry goes
    when its head does (a superseded revision's table dropped), else the oldest fetched goes
    first: a component still in use is fetched again then, once.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._found: dict[int, tuple[weakref.ref[ComponentHead], Component]] = {}
        self._lock = RLock()  # a head can die, and call ``_gone``, while ``put`` holds it

    def get(self, head: ComponentHead) -> Component | None:
        found = self._found.get(id(head))
        return found[1] if found is not None and found[0]() is head else None

    def put(self, head: ComponentHead, component: Component) -> None:
        key = id(head)
        with self._lock:
            self._found.pop(key, None)
            self._found[key] = (weakref.ref(head, lambda _: self._gone(key)), component)
            while len(self._found) > self.size:
                del self._found[next(iter(self._found))]

    def _gone(self, key: int) -> None:
        with self._lock:
            found = self._found.get(key)
            if found is not None and found[0]() is None:
                del self._found[key]

    def __len__(self) -> int:
        return len(self._found)


class ComponentTable(Mapping[str, Component]):
    """Components by id, held as heads; each whole one fetched when it is asked for."""

    def __init__(
        self,
        heads: Mapping[str, ComponentHead],
        fetch: Fetch,
        *,
        keep: int = KEEP,
        _kept: _Kept | None = None,
    ) -> None:
        self.heads = heads
        self._fetch = fetch
        self._kept = _kept or _Kept(keep)

    def __getitem__(self, component_id: str) -> Component:
        head = self.heads[component_id]
        found = self._kept.get(head)
        if found is None:
            found = self._fetch([head])[component_id]
            self._kept.put(head, found)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self.heads)

    def __len__(self) -> int:
        return len(self.heads)

    def __contains__(self, component_id: object) -> bool:
        return component_id in self.heads

    def values(self) -> ValuesView[Component]:
        return _Values(self)

    def items(self) -> ItemsView[str, Component]:
        return _Items(self)

    def walk(self, ids: Iterable[str] | None = None) -> Iterator[tuple[str, Component]]:
        """Every component (or those of ``ids`` that are here), fetched ``BATCH`` at a time;
        what was kept is not fetched again."""
        if ids is None:
            heads = list(self.heads.values())
        else:
            heads = [head for cid in dict.fromkeys(ids) if (head := self.heads.get(cid))]
        for start in range(0, len(heads), BATCH):
            part = heads[start : start + BATCH]
            kept = {head.id: self._kept.get(head) for head in part}
            missing = [head for head in part if kept[head.id] is None]
            fetched = self._fetch(missing) if missing else {}
            for head in part:
                yield head.id, kept[head.id] or fetched[head.id]

    def replaced(self, changes: Mapping[str, Component | None]) -> ComponentTable:
        """This table with ``changes`` (``None``: gone); the components kept stay kept."""
        heads: dict[str, ComponentHead | None] = dict.fromkeys(changes)
        for component_id, component in changes.items():
            if component is not None:
                heads[component_id] = head = head_of(component)
                self._kept.put(head, component)
        return ComponentTable(merged(self.heads, heads), self._fetch, _kept=self._kept)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ComponentTable) and other.heads == self.heads:
            return True
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]  # a Mapping is not hashable


class _Values(ValuesView[Component]):
    def __init__(self, table: ComponentTable) -> None:
        super().__init__(table)
        self._table = table

    def __iter__(self) -> Iterator[Component]:
        return (component for _, component in self._table.walk())


class _Items(ItemsView[str, Component]):
    def __init__(self, table: ComponentTable) -> None:
        super().__init__(table)
        self._table = table

    def __iter__(self) -> Iterator[tuple[str, Component]]:
        return self._table.walk()


def among(components: Mapping[str, Component], ids: Iterable[str]) -> dict[str, Component]:
    """The components of ``ids`` that are there, by id: a table fetches them in batches."""
    if isinstance(components, ComponentTable):
        return dict(components.walk(ids))
    return {cid: found for cid in ids if (found := components.get(cid)) is not None}


def holds(
    components: Mapping[str, Component], component_id: str, component: Component | None
) -> bool:
    """Whether ``components`` holds exactly ``component`` (``None``: nothing) as
    ``component_id``: a table tells by heads (equal heads name the same stored versions)."""
    if isinstance(components, ComponentTable):
        head = components.heads.get(component_id)
        return head == (None if component is None else head_of(component))
    return components.get(component_id) == component


def maybe_changed(before: Mapping[str, Component], after: Mapping[str, Component]) -> set[str]:
    """The ids whose components may differ between two states: for two tables, those whose
    heads differ (equal heads name the same stored versions); else every id of either."""
    ids = before.keys() | after.keys()
    if isinstance(before, ComponentTable) and isinstance(after, ComponentTable):
        return {cid for cid in ids if before.heads.get(cid) != after.heads.get(cid)}
    return ids


def heads_of(components: Mapping[str, Component]) -> Iterable[Head]:
    """Every component's head, no body read: a table's heads, a dict's components."""
    if isinstance(components, ComponentTable):
        return components.heads.values()
    return components.values()


def variant_versions(
    components: Mapping[str, Component], component_id: str
) -> list[tuple[str, int]]:
    """The (key, version) of each variant of one component (none if it is not there)."""
    if isinstance(components, ComponentTable):
        head = components.heads.get(component_id)
        return [] if head is None else list(head.variant_versions())
    component = components.get(component_id)
    return [] if component is None else list(head_of(component).variant_versions())


def all_variant_versions(components: Mapping[str, Component]) -> Iterator[tuple[str, str, int]]:
    """(component, key, version) of every variant, no body read."""
    if isinstance(components, ComponentTable):
        heads: Iterable[ComponentHead] = components.heads.values()
    else:
        heads = map(head_of, components.values())
    for head in heads:
        for key, version in head.variant_versions():
            yield head.id, key, version


def replaced(
    components: Mapping[str, Component], changes: Mapping[str, Component | None]
) -> Mapping[str, Component]:
    """``components`` with ``changes`` (``None``: gone), of the same kind; neither is modified."""
    if isinstance(components, ComponentTable):
        return components.replaced(changes)
    return merged(components, changes)


def merged(current: Mapping[str, T], changes: Mapping[str, T | None]) -> dict[str, T]:
    """``current`` with ``changes`` as a new dict (``None``: gone)."""
    found = dict(current)
    for key, value in changes.items():
        if value is None:
            found.pop(key, None)
        else:
            found[key] = value
    return found
