"""Assembled blocks kept for the next reader who would get the very same bytes.

In: a component id, a ``Reader``, and a ``Block`` just assembled for them together with what it
depended on (``Dependence``). Out: that ``Block`` again for a later reader who differs only in
what the block did not depend on. Pure: no I/O. One cache belongs to one library state, so a
new revision starts with an empty one and nothing here is ever invalidated piecemeal.

What a block can depend on, and how the key covers it:
- the reader's dimensions (locale, segments after the library's segment rules, role, region,
  channel, preview): selection and inline conditions read nothing else, so they are the key;
- the time ``at`` through the variants' schedules only: an entry holds between the schedule
  boundaries on either side of the ``at`` it was assembled for, taken over every component it
  consulted (the ones used and every include target of a used variant);
- the reader's data when one of its templates names it: ``customer`` and ``product`` make the
  entry match those values too; ``context``, ``at`` or ``now`` the whole context, ``at``
  included.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from threading import Lock

from content_engine.core.models import Block, Component, Library, Variant
from content_engine.core.reader import Reader
from content_engine.core.templates.compile import CompiledBody

# Template names through which a body reads the reader's data rather than its dimensions;
# the last three see all of it.
DATA_NAMES = frozenset({"customer", "product", "context", "at", "now"})
WHOLE_CONTEXT = frozenset({"context", "at", "now"})
MAX_ENTRIES = 20_000

Key = tuple[object, ...]


@dataclass(frozen=True)
class Dependence:
    """Beyond the reader's dimensions: the ``at`` window it holds for, and the data if any."""

    since: datetime | None  # inclusive; None: since ever
    until: datetime | None  # exclusive; None: for ever
    reads: frozenset[str]  # of DATA_NAMES
    data: str | None  # what of the context ``reads`` sees, as JSON; None if nothing

    def holds(self, reader: Reader) -> bool:
        at = reader.context.at
        if self.since is not None and at < self.since:
            return False
        if self.until is not None and at >= self.until:
            return False
        return self.data is None or self.data == data_read(reader, self.reads)


def dimensions(component_id: str, reader: Reader) -> Key:
    ctx = reader.context
    return (
        component_id,
        reader.preview,
        ctx.locale,
        reader.segments,
        ctx.role,
        ctx.region,
        ctx.channel,
    )


def data_read(reader: Reader, names: frozenset[str]) -> str | None:
    """The part of the reader's data that templates reading ``names`` see, as one string."""
    if not names:
        return None
    ctx = reader.context
    if not WHOLE_CONTEXT.isdisjoint(names):
        return ctx.model_dump_json()
    parts = {"customer": ctx.customer, "product": ctx.product}
    return json.dumps([parts[name] for name in sorted(names)], sort_keys=True, default=str)


def dependence(
    block: Block,
    reader: Reader,
    library: Library,
    compiled: Callable[[Component, Variant], CompiledBody],
) -> Dependence:
    """What ``block`` (assembled from ``library`` for ``reader``) depends on besides dimensions."""
    consulted: set[str] = set()
    reads: frozenset[str] = frozenset()
    for used in block.used:
        component = library.components[used.component]
        body = compiled(component, component.variants[used.variant])
        consulted.add(used.component)
        consulted.update(body.includes)
        reads |= DATA_NAMES & body.names
    at = reader.context.at
    since: datetime | None = None
    until: datetime | None = None
    for moment in _boundaries(library, consulted):
        if moment <= at:
            since = moment if since is None else max(since, moment)
        else:
            until = moment if until is None else min(until, moment)
    return Dependence(since, until, reads, data_read(reader, reads))


def _boundaries(library: Library, component_ids: Iterable[str]) -> Iterator[datetime]:
    for component_id in component_ids:
        component = library.components.get(component_id)
        if component is None:
            continue
        for variant in component.variants.values():
            if variant.valid_from is not None:
                yield variant.valid_from
            if variant.valid_until is not None:
                yield variant.valid_until


class BlockCache:
    """Blocks by reader dimensions, each with the ``Dependence`` it was stored with.

    One entry per dimensions: a block that reads the data keeps the last reader's. Bounded:
    at ``MAX_ENTRIES`` the oldest entries go first.
    """

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: dict[Key, tuple[Block, Dependence]] = {}
        self._lock = Lock()  # for eviction; reads need none

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, component_id: str, reader: Reader) -> Block | None:
        found = self._entries.get(dimensions(component_id, reader))
        if found is None:
            return None
        block, depends = found
        return block if depends.holds(reader) else None

    def put(self, component_id: str, reader: Reader, block: Block, depends: Dependence) -> None:
        with self._lock:
            entries = self._entries
            while len(entries) >= self.max_entries:
                del entries[next(iter(entries))]
            entries[dimensions(component_id, reader)] = (block, depends)
