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
  included;
- the reader's experiment arms (CONTRACT 9): a block whose selection drew an arm (its own or
  an included component's) is stored with the draws it made (``Plan``: experiment and arms
  with weights, the same for every reader of these dimensions), and the key holds the arms
  this reader draws under that plan, so no reader is ever handed another reader's arm;
- a reader's own data (a context with lookup keys or ``data``; after the data sources
  answered): the key also holds ``personal_key``, a digest of every value fetched and of the
  context's ``customer``, ``product``, ``data`` and ``lookup``, so the same customer with the
  same data finds their block again and a reader with any other value never does. These
  entries are bounded apart (``MAX_PERSONAL``), so customers' blocks never crowd out the
  blocks every reader shares.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from threading import Lock
from typing import Any, cast

from content_engine.core.experiments import draw, reader_id_of
from content_engine.core.models import Arm, Block, Component, Context, Library, Variant
from content_engine.core.reader import Reader
from content_engine.core.templates.compile import CompiledBody

# Template names through which a body reads the reader's data rather than its dimensions;
# the last three see all of it.
DATA_NAMES = frozenset({"customer", "product", "context", "at", "now"})
WHOLE_CONTEXT = frozenset({"context", "at", "now"})
MAX_ENTRIES = 20_000
# Entries keyed by a reader's own data: one customer's blocks, rarely asked for twice in a row.
MAX_PERSONAL = 2_000
# What of a context is a reader's own, beside what the data sources fetched.
PERSONAL_FIELDS = frozenset({"customer", "product", "data", "lookup"})

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


def personal_key(context: Context, fetched: Mapping[str, Any] | None) -> str:
    """The digest (SHA-256 of canonical JSON) of a reader's own data: every value the data
    sources gave (``fetched``, by source name) and the context's customer, product, data and
    lookup keys. JSON keeps what Python's equality would blur (``1``, ``1.0`` and ``true``)."""
    own = context.model_dump(mode="json", include=set(PERSONAL_FIELDS))
    own["fetched"] = dict(fetched or {})
    text = json.dumps(own, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def data_read(reader: Reader, names: frozenset[str]) -> str | None:
    """The part of the reader's data that templates reading ``names`` see, as one string."""
    if not names:
        return None
    found = reader.memo.get(names)  # a lookup, then a store: each dumped once per reader
    if found is None:
        ctx = reader.context
        if not WHOLE_CONTEXT.isdisjoint(names):
            found = ctx.model_dump_json()
        else:
            parts = {"customer": ctx.customer, "product": ctx.product}
            found = json.dumps([parts[n] for n in sorted(names)], sort_keys=True, default=str)
        reader.memo[names] = found
    return cast(str, found)


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


# The draws a block's selection made for one set of dimensions: (experiment, arms) each.
Plan = tuple[tuple[str, tuple[Arm, ...]], ...]


def plan_of(block: Block) -> Plan:
    return tuple((a.experiment, a.arms) for a in block.arms)


def arms_drawn(plan: Plan, reader: Reader) -> tuple[str, ...]:
    """The arms ``reader`` draws under ``plan`` (``-`` first: a reader without an id)."""
    reader_id, _ = reader_id_of(reader.context)
    if reader_id is None:
        return ("-", *(arms[0].key for _, arms in plan))
    return tuple(draw(experiment, reader_id, arms) for experiment, arms in plan)


class BlockCache:
    """Blocks by reader dimensions (and ``personal_key``), each with the ``Dependence`` it was
    stored with.

    One entry per key: a block that reads the data keeps the last reader's. Bounded: at
    ``max_entries`` (``max_personal`` for entries with a personal key) the oldest go first.
    """

    def __init__(self, max_entries: int = MAX_ENTRIES, max_personal: int = MAX_PERSONAL) -> None:
        self.max_entries = max_entries
        self.max_personal = max_personal
        self._entries: dict[Key, tuple[Block, Dependence]] = {}
        self._personal: dict[Key, tuple[Block, Dependence]] = {}
        # Per dimensions key: the experiments its block drew between (absent: none).
        self._plans: dict[Key, Plan] = {}
        self._lock = Lock()  # for eviction; reads need none

    def __len__(self) -> int:
        return len(self._entries) + len(self._personal)

    def get(self, component_id: str, reader: Reader, personal: str | None = None) -> Block | None:
        entries = self._entries if personal is None else self._personal
        found = entries.get(self._key(component_id, reader, personal))
        if found is None:
            return None
        block, depends = found
        return block if depends.holds(reader) else None

    def put(
        self,
        component_id: str,
        reader: Reader,
        block: Block,
        depends: Dependence,
        personal: str | None = None,
    ) -> None:
        entries, most = (
            (self._entries, self.max_entries)
            if personal is None
            else (self._personal, self.max_personal)
        )
        with self._lock:
            while len(entries) >= most:
                del entries[next(iter(entries))]
            plan = plan_of(block)
            if plan:
                while len(self._plans) >= self.max_entries + self.max_personal:
                    del self._plans[next(iter(self._plans))]
                self._plans[dimensions(component_id, reader)] = plan
            entries[self._key(component_id, reader, personal)] = (block, depends)

    def _key(self, component_id: str, reader: Reader, personal: str | None) -> Key:
        key = dimensions(component_id, reader)
        plan = self._plans.get(key)
        if plan is not None:
            key = (*key, arms_drawn(plan, reader))
        return key if personal is None else (*key, personal)
