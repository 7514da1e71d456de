"""Compiled bodies, kept by (component, variant, version) while the library still holds them.

In: a component and one of its variants. Out: its ``CompiledBody``, compiled once per version;
or just what it includes, or its inline conditions, read without compiling it (the include
graph on writes and the vocabulary need no more). Compiling is the costly part of serving a
body, so it happens once; ``forget_superseded`` keeps the cache to the versions still in use.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from content_engine.core.conditions import InlineCondition
from content_engine.core.errors import LibraryFormatError
from content_engine.core.integrity import default_locator
from content_engine.core.models import Component, Library, Variant
from content_engine.core.table import variant_versions
from content_engine.core.templates.compile import (
    CompiledBody,
    body_conditions,
    body_includes,
    compile_body,
)
from content_engine.core.templates.sandbox import BodySandbox

MAX_COMPILED = 50_000

Key = tuple[str, str, int]


def _key(component: Component, variant: Variant) -> Key:
    return (component.id, variant.key, variant.version)


class BodyCache:
    """What the engine knows of each stored body: compiled, or only its includes or conditions.

    A variant without a version (a preview of an unsaved edit) is compiled every time.
    """

    def __init__(self, sandbox: BodySandbox) -> None:
        self.sandbox = sandbox
        self._compiled: dict[Key, CompiledBody] = {}
        self._includes: dict[Key, tuple[str, ...]] = {}
        self._inline: dict[Key, tuple[InlineCondition, ...]] = {}

    def compile(self, component: Component, variant: Variant) -> CompiledBody:
        key = _key(component, variant)
        found = self._compiled.get(key) if variant.version else None
        if found is None:
            where = default_locator(component, variant)
            found = compile_body(variant.body, self.sandbox, where.file)
            if variant.version:
                if len(self._compiled) >= MAX_COMPILED:
                    self._compiled.clear()
                self._compiled[key] = found
        return found

    def includes_of(self, component: Component, variant: Variant) -> tuple[str, ...]:
        """What a variant includes, without compiling it (for the include graph on writes)."""
        key = _key(component, variant)
        found = self._compiled.get(key)
        if found is not None:
            return found.includes
        includes = self._includes.get(key)
        if includes is None:
            includes = body_includes(variant.body, default_locator(component, variant).file)
            if variant.version:
                self._includes[key] = includes
        return includes

    def includes_known(self, key: Key) -> tuple[str, ...] | None:
        """What the stored variant ``key`` includes, if it was read already, else ``None``."""
        found = self._compiled.get(key)
        return found.includes if found is not None else self._includes.get(key)

    def inline_conditions(
        self, component: Component, variant: Variant
    ) -> tuple[InlineCondition, ...]:
        """A variant's inline conditions, without compiling it (for the vocabulary)."""
        key = _key(component, variant)
        found = self._compiled.get(key)
        if found is not None:
            return found.conditions
        conditions = self._inline.get(key)
        if conditions is None:
            try:
                conditions = body_conditions(variant.body, default_locator(component, variant).file)
            except LibraryFormatError:  # stored bodies were checked; a broken one states nothing
                conditions = ()
            if variant.version:
                self._inline[key] = conditions
        return conditions

    def forget_superseded(
        self,
        library: Library,
        touched: Iterable[str] | None = None,
        *,
        working: Mapping[str, Mapping[str, Variant]] | None = None,
    ) -> None:
        """Drop what is kept of the versions that ``library`` no longer holds, nor its
        ``working`` copies (``core.working``: preview serves those).

        Every edit is a new version: kept compiled, the old ones made a server under a steady
        stream of edits grow by several KB per write (found by the soak). Replaying an old
        receipt compiles what it needs again. ``touched``: the only components that changed
        (default: any may have).
        """
        changed = None if touched is None else set(touched)
        scope = library.components.keys() if changed is None else changed
        held = {
            (cid, key, version)
            for cid in scope
            for key, version in variant_versions(library.components, cid)
        }
        copies = working or {}
        held.update(
            (cid, variant.key, variant.version)
            for cid in scope
            for variant in copies.get(cid, {}).values()
        )

        def keep(key: Key) -> bool:
            return key in held or (changed is not None and key[0] not in changed)

        self._compiled = {key: body for key, body in self._compiled.items() if keep(key)}
        self._includes = {key: ids for key, ids in self._includes.items() if keep(key)}
        self._inline = {key: found for key, found in self._inline.items() if keep(key)}
