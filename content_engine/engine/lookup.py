"""A context's lookup keys filled in from the data sources, before anything is assembled.

In: the deployment's sources file (``settings.sources``; none configured: nothing is asked), then
per request a ``Context`` with a ``lookup`` (``{"serial": "HP200-0042"}``), the library and the
components (or publication) about to be assembled. Out: the context with what the sources gave
(a source named ``customer`` or ``product`` fills the keys the context lacks there; any other
becomes ``context.data[name]``, a template variable and segment-rule field of that name; values
the context gives itself always win) and the ``Fetched`` record (every source asked, warnings)
for ``explain`` and the block's warnings. The filled context is what a receipt keeps, so a
replay reads the same values without asking any source.

Which sources are asked: those whose names a segment rule reads, or a body of **any** variant
of the components concerned and of every component they may include (a publication: every
component its slots may stand for). Not only the selected variant's: which one is selected can
itself depend on a segment rule over fetched data, so it is known only after fetching. This
may ask a source that the variant finally chosen does not read; it never misses one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping

from content_engine.core.assembly import query_matches
from content_engine.core.models import (
    RESERVED_DATA_NAMES,
    AllOf,
    AnyOf,
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
from content_engine.sources import Fetched, Observer, Sources

__all__ = ["Lookups", "asked_of"]

Compiler = Callable[[Component, Variant], CompiledBody]
# These fill the context's own keys; every other source becomes ``context.data[name]``.
FILLS_KEYS = ("customer", "product")


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
        fetched = self.sources.fetch(context.lookup, names)
        return with_values(context, fetched), fetched


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
