"""What publishing a variant's working copy would change, asked before it goes live.

In: a component id and a variant key. Out: a ``VariantImpact``: the core's ``Impact``
(``core.impact``: publications reached, coverage cells and readers whose variant moves) of
making the variant's newest version live, with the live and working versions compared.
"Before" is the current library with the variant at its live version (its newest published
one; none once it was unpublished); "after" the same library with the newest version live.
When the newest version is the live one there is nothing to publish and nothing changes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from content_engine.core.errors import NotFound
from content_engine.core.impact import Impact, impact
from content_engine.core.models import Component, Library, Variant
from content_engine.core.working import roles_of
from content_engine.engine.editing import Editor


class Workspace(Protocol):
    """What the impact needs of the engine: its library, its editor and the include finder."""

    @property
    def editor(self) -> Editor: ...

    def library(self) -> Library: ...

    def includes_of(self, component: Component, variant: Variant) -> tuple[str, ...]: ...


class VariantImpact(Impact):
    component: str
    variant: str
    live_version: int | None
    working_version: int | None


def live_of(history: list[Variant]) -> Variant | None:
    """The version readers get, by the one rule of ``core.working``; ``history`` is oldest
    first."""
    live = roles_of((variant.version, variant.status, False) for variant in history).live
    return next((variant for variant in history if variant.version == live), None)


def _with_variant(
    library: Library, component: Component, key: str, variant: Variant | None
) -> Library:
    variants = {k: v for k, v in component.variants.items() if k != key}
    if variant is not None:
        variants[key] = variant
    changed = component.model_copy(update={"variants": variants})
    return library.model_copy(update={"components": {**library.components, component.id: changed}})


def variant_impact(
    engine: Workspace, component_id: str, key: str, *, at: datetime | None = None
) -> VariantImpact:
    """The impact of publishing ``component_id/key`` now; ``NotFound`` for an unknown one."""
    library = engine.library()
    component = library.components.get(component_id)
    history = engine.editor.variant_history(component_id, key) if component else []
    if component is None or not history:
        raise NotFound(f"unknown variant {component_id}/{key}")
    newest, live = history[-1], live_of(history)
    working = None if live is not None and live.version == newest.version else newest
    before = _with_variant(library, component, key, live)
    after = before
    if working is not None:
        after = _with_variant(
            library, component, key, working.model_copy(update={"status": "published"})
        )
    found = impact(before, after, engine.includes_of, at or datetime.now(UTC))
    return VariantImpact(
        **dict(found),
        component=component_id,
        variant=key,
        live_version=live.version if live else None,
        working_version=working.version if working else None,
    )
