"""A context's lookup keys filled in from the data sources, before anything is assembled.

In: the deployment's sources file (``settings.sources``; none configured: nothing is asked), then
per request a ``Context`` with a ``lookup`` (``{"serial": "HP200-0042"}``), the library and the
components (or publication) about to be assembled. Out: the context with what the sources gave
(a source named ``customer`` or ``product`` fills the keys the context lacks there; any other
becomes ``context.data[name]``, a template variable and segment-rule field of that name; values
the context gives itself always win) and the ``Fetched`` record (every source asked, warnings)
for ``explain`` and the block's warnings. The filled context is what a receipt keeps, so a
replay reads the same values without asking any source. Many contexts at once (a chunk of a
batch, ``bulk``): the sources are asked once for all their keys first, and each ``fill`` inside
takes those answers.

Which sources are asked: those whose names a segment rule reads, or a body of **any** variant
of the components concerned and of every component they may include (a publication: every
component its slots may stand for). Not only the selected variant's: which one is selected can
itself depend on a segment rule over fetched data, so it is known only after fetching. This
may ask a source that the variant finally chosen does not read; it never misses one.

The ``Engine``'s own lookup methods (``fill``, ``bulk_lookups``, ``lookup_keys``) live here too,
as ``LookupMethods``, with what turns fetched data into a block's warnings and its personal key
in the block cache: the facade keeps assembling and rendering.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from content_engine.core.assembly import query_matches
from content_engine.core.models import (
    RESERVED_DATA_NAMES,
    AllOf,
    AnyOf,
    Block,
    Component,
    Condition,
    Context,
    Leaf,
    Library,
    NotOf,
    Publication,
    Variant,
    parse_context,
)
from content_engine.core.selection import SourceAsked
from content_engine.core.templates.compile import CompiledBody
from content_engine.engine.blockcache import personal_key
from content_engine.engine.bodycache import BodyCache
from content_engine.engine.state import CurrentLibrary
from content_engine.sources import Fetched, Observer, Prefetched, Sources

__all__ = [
    "LookupMethods",
    "Lookups",
    "Provenance",
    "asked_of",
    "personal_entry",
    "provenance",
    "warned",
]

Compiler = Callable[[Component, Variant], CompiledBody]
# These fill the context's own keys; every other source becomes ``context.data[name]``.
FILLS_KEYS = ("customer", "product")
# Answers asked in bulk for the contexts being rendered now (a chunk of a batch), seen only
# by the code running inside ``Lookups.bulk``: never another thread's request, never later.
_KNOWN: ContextVar[Prefetched | None] = ContextVar("content_engine_known", default=None)


class Lookups:
    """The deployment's data sources (or none), loaded once and closed with the engine."""

    def __init__(
        self,
        path: str,
        environ: Mapping[str, str] | None = None,
        observe: Observer | None = None,
    ) -> None:
        # A bad file is a ``SourcesConfigError`` here: at start, before any request.
        env = os.environ if environ is None else environ
        self.sources = Sources.load(path, env, observe=observe) if path else None

    @property
    def keys(self) -> tuple[str, ...]:
        """The lookup key names the sources take from the caller (a ``from`` source takes its
        own from another source's answer), sorted; none without sources."""
        if self.sources is None:
            return ()
        return tuple(sorted(self.sources.keys))

    @property
    def concurrency(self) -> int:
        """How many lookups of one source may run at once (0 without sources): a server holding a
        thread per waiting request needs room for that many besides its own."""
        return 0 if self.sources is None else self.sources.limits.workers

    def close(self) -> None:
        if self.sources is not None:
            self.sources.close()

    def fill(
        self,
        context: Context,
        library: Library,
        component_ids: Iterable[str],
        compile: Compiler,
    ) -> tuple[Context, Fetched | None]:
        """``context`` with what its lookup finds; ``(context, None)`` when nothing is asked."""
        if not context.lookup:
            return context, None
        if self.sources is None:
            warning = "the context has lookup keys, but no data sources are configured"
            return context, Fetched(warnings=[warning])
        names = needed_names(library, component_ids, compile) & self.sources.names
        fetched = self.sources.fetch(context.lookup, names, known=_KNOWN.get())
        return with_values(context, fetched), fetched

    def bulk(
        self,
        contexts: Sequence[Context],
        library: Library,
        component_ids: Iterable[str],
        compile: Compiler,
    ) -> AbstractContextManager[None]:
        """Ask the sources at once for every context's lookup (what ``fill`` would ask for
        each, in bulk where the kind allows); inside the ``with``, ``fill`` takes those answers.
        Never raises for a source: what the bulk could not answer, each ``fill`` asks itself."""
        lookups = [context.lookup for context in contexts if context.lookup]
        known = None
        if self.sources is not None and lookups:
            names = needed_names(library, component_ids, compile) & self.sources.names
            known = self.sources.prefetch(lookups, names)
        return _using(known)


@contextmanager
def _using(known: Prefetched | None) -> Iterator[None]:
    token = _KNOWN.set(known)
    try:
        yield
    finally:
        _KNOWN.reset(token)


def publication_components(library: Library, publication: Publication) -> list[str]:
    """Every component a publication's slots may stand for."""
    return [c for slot in publication.slots for c in query_matches(library, slot)]


def needed_names(library: Library, component_ids: Iterable[str], compile: Compiler) -> set[str]:
    """The names segment rules read and the bodies of every variant of ``component_ids`` and
    of every component they include (transitively) read."""
    names = {
        leaf.attr.split(".")[0] for r in library.settings.segment_rules for leaf in _leaves(r.when)
    }
    seen: set[str] = set()
    todo = [c for c in component_ids if c in library.components]
    while todo:
        component_id = todo.pop()
        if component_id in seen:
            continue
        seen.add(component_id)
        component = library.components[component_id]
        for variant in component.variants.values():
            body = compile(component, variant)
            names |= body.names
            todo.extend(c for c in body.includes if c in library.components and c not in seen)
    return names


def _leaves(condition: Condition) -> Iterator[Leaf]:
    if isinstance(condition, AllOf):
        for c in condition.all:
            yield from _leaves(c)
    elif isinstance(condition, AnyOf):
        for c in condition.any:
            yield from _leaves(c)
    elif isinstance(condition, NotOf):
        yield from _leaves(condition.not_)
    else:
        yield condition


def with_values(context: Context, fetched: Fetched) -> Context:
    """``context`` with ``fetched``'s values under it: the context's own keys win."""
    data = context.model_dump(mode="json")
    for name, value in fetched.values.items():
        if name in FILLS_KEYS:
            if isinstance(value, dict):
                data[name] = {**value, **data[name]}
            else:
                fetched.warnings.append(f"data source {name!r} answers a list, not one row: unused")
        elif name in RESERVED_DATA_NAMES or name.startswith("__"):
            fetched.warnings.append(f"data source {name!r} has a name of the engine's own: unused")
        elif name not in data["data"]:
            data["data"][name] = value
    return parse_context(data)


def asked_of(fetched: Fetched | None) -> list[SourceAsked]:
    """``explain``'s list of every source asked."""
    if fetched is None:
        return []
    return [
        SourceAsked(
            source=a.source, key=a.key, seconds=a.seconds, cache_hit=a.cache_hit, outcome=a.outcome
        )
        for a in fetched.asked
    ]


@dataclass(frozen=True)
class Provenance:
    """One source asked for a request and the fields of its answer the context took (templates
    read them as ``{{ source.field }}``): for whoever reads a filled document and must know
    where each value came from."""

    source: str
    key: str  # the lookup key's name, never its value
    outcome: str
    seconds: float
    cache_hit: bool
    fields: tuple[str, ...] = ()  # the fields it supplied (the context's own ones won)
    rows: int | None = None  # a ``many`` source: how many rows it found


def provenance(own: Context, fetched: Fetched | None) -> list[Provenance]:
    """Every source ``fetched`` asked for ``own`` (the context as given, before filling) and the
    fields each supplied, by ``with_values``' rule: the context's own keys win."""
    if fetched is None:
        return []
    rows = []
    for asked in fetched.asked:
        value = fetched.values.get(asked.source) if asked.outcome == "found" else None
        fields, count = _supplied(asked.source, value, own)
        rows.append(
            Provenance(
                source=asked.source,
                key=asked.key,
                outcome=asked.outcome,
                seconds=asked.seconds,
                cache_hit=asked.cache_hit,
                fields=fields,
                rows=count,
            )
        )
    return rows


def _supplied(name: str, value: Any, own: Context) -> tuple[tuple[str, ...], int | None]:
    if name in FILLS_KEYS:
        given = own.customer if name == "customer" else own.product
        if not isinstance(value, dict):
            return (), None  # a list is unused there (``with_values`` warns)
        return tuple(k for k in value if k not in given), None
    if name in RESERVED_DATA_NAMES or name.startswith("__") or name in own.data:
        return (), None
    if isinstance(value, list):
        names = dict.fromkeys(k for row in value if isinstance(row, dict) for k in row)
        return tuple(names), len(value)
    return (tuple(value) if isinstance(value, dict) else ()), None


class LookupMethods:
    """The engine's methods about lookups (``Engine`` inherits them, so they stay its public
    API): a context filled from the sources once for what is about to be assembled."""

    lookups: Lookups
    _current: CurrentLibrary
    _bodies: BodyCache

    def fill(
        self,
        context: Context,
        component_ids: Sequence[str] = (),
        *,
        publication_id: str | None = None,
        preview: bool = False,
    ) -> tuple[Context, Fetched | None]:
        """``context`` filled from the sources once for what the components (or publication)
        read; with it as ``fetched=``, ``explain``, ``block``, ``document`` and ``render`` ask
        nothing again, so a render and the traces beside it show one lookup's data."""
        view = self._current.get().view(preview)
        ids = list(component_ids)
        if publication_id is not None:
            publication = self._current.get().publication(publication_id)
            ids += publication_components(view.library, publication)
        return self.lookups.fill(context, view.library, ids, self._bodies.compile)

    def _filled(
        self, context: Context, library: Library, ids: Sequence[str], fetched: Fetched | None
    ) -> tuple[Context, Fetched | None]:
        if fetched is not None:  # filled by ``fill`` already
            return context, fetched
        return self.lookups.fill(context, library, ids, self._bodies.compile)

    def lookup_keys(self) -> tuple[str, ...]:
        """The lookup keys a caller may give: those of the sources that read no other one."""
        return self.lookups.keys

    def bulk_lookups(
        self, publication_id: str, contexts: Sequence[Context], *, preview: bool = False
    ) -> AbstractContextManager[None]:
        """Ask the data sources at once for all ``contexts``' lookups (a chunk of a batch);
        renders inside the ``with`` take those answers instead of asking one by one."""
        state = self._current.get()
        view = state.view(preview)
        wanted = publication_components(view.library, state.publication(publication_id))
        return self.lookups.bulk(contexts, view.library, wanted, self._bodies.compile)


def warned(block: Block, fetched: Fetched | None) -> Block:
    """``block`` with the data sources' warnings first (a new object: cached ones are shared)."""
    if fetched is None or not fetched.warnings:
        return block
    return block.model_copy(update={"warnings": [*fetched.warnings, *block.warnings]})


def personal_entry(context: Context, fetched: Fetched | None) -> str | None:
    """The block cache's personal key of a context filled from the data sources (or given its
    own ``data``), ``None`` for a reader described by dimensions and customer/product only."""
    if not (context.lookup or context.data):
        return None
    return personal_key(context, fetched.values if fetched is not None else None)
