"""Live and working versions of variants (CONTRACT 7): what readers get, what editors preview.

In: a variant key's versions (or the newest version of every key together with the live
version of those keys where a working copy stands over it). Out: which version is live, which
is the working copy, and the two libraries built from one: the **live** library every reader
is served from, and the **working** overlay that preview puts over it. Pure: no I/O.

Rules, for one variant key's versions in order:
- a ``published`` version makes itself live; a newer ``archived`` version (unpublish) or a
  deletion takes the key offline until a later version is published;
- the newest version is the **working copy** when it is a ``draft`` or ``review`` (it is then
  newer than the live version, if any);
- the live library holds each key's live version, or, where there is none, its newest version
  (a draft, review or archived one, which selection serves to no reader): so selection and
  ``explain`` stay as they are and still say why such a key is no candidate;
- the working overlay holds the working copies that stand over a live version: the live library
  with the overlay in place is the library of newest versions, the one preview selects from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from content_engine.core.models import Component, Library, Variant
from content_engine.core.table import replaced

__all__ = [
    "LiveAndWorking",
    "Overlay",
    "VersionRoles",
    "held_of",
    "roles_in",
    "roles_of",
    "split_components",
    "with_working",
]

WORKING_STATUSES = frozenset({"draft", "review"})

# Component id -> variant key -> the working copy standing over that key's live version.
Overlay = Mapping[str, Mapping[str, Variant]]


@dataclass(frozen=True)
class VersionRoles:
    """The live version and the working copy of one variant key (``None``: there is none)."""

    live: int | None
    working: int | None


def roles_of(history: Iterable[tuple[int, str, bool]]) -> VersionRoles:
    """The live and working versions among ``(version, status, deleted)`` rows, oldest first."""
    live: int | None = None
    newest: tuple[int, str, bool] | None = None
    for version, status, deleted in history:
        newest = (version, status, deleted)
        if deleted or status == "archived":
            live = None
        elif status == "published":
            live = version
    working = None
    if newest is not None and not newest[2] and newest[1] in WORKING_STATUSES:
        working = newest[0]
    return VersionRoles(live, working)


def held_of(history: Sequence[tuple[int, str, bool]]) -> tuple[int, int | None] | None:
    """The version of one key the live library holds, and the working copy standing over it
    when that is its live version (else ``None``); ``None`` for a key deleted last. From
    ``(version, status, deleted)`` rows, oldest first."""
    version, _, deleted = history[-1]
    if deleted:
        return None
    if len(history) == 1:  # a first version has nothing under it: it is held, whatever it is
        return version, None
    roles = roles_of(history)
    if roles.working is not None and roles.live is not None:
        return roles.live, roles.working
    return version, None


def roles_in(component: Component, working: Mapping[str, Variant]) -> dict[str, VersionRoles]:
    """The live and working versions of each variant of ``component`` (as the live library
    holds it), with ``working`` the copies that stand over its live versions."""
    roles: dict[str, VersionRoles] = {}
    for key, variant in component.variants.items():
        live = variant.version if variant.status == "published" else None
        copy = working.get(key)
        if copy is None and variant.status in WORKING_STATUSES:
            copy = variant
        roles[key] = VersionRoles(live, None if copy is None else copy.version)
    return roles


def split_components(
    newest: Mapping[str, Component | None], live: Overlay
) -> tuple[dict[str, Component | None], dict[str, dict[str, Variant]]]:
    """The live components and the working overlay, from the newest components and the live
    versions of the keys whose newest version is a working copy over them.

    ``newest`` maps ids to components (``None``: archived or gone, kept as ``None``); ``live``
    names, by component and key, the live ``Variant`` to serve instead of the newest one.
    """
    components: dict[str, Component | None] = {}
    overlay: dict[str, dict[str, Variant]] = {}
    for component_id, component in newest.items():
        replaced = live.get(component_id)
        if component is None or not replaced:
            components[component_id] = component
            continue
        working = {k: component.variants[k] for k in replaced if k in component.variants}
        variants = {**component.variants, **{k: replaced[k] for k in working}}
        components[component_id] = component.model_copy(update={"variants": variants})
        if working:
            overlay[component_id] = working
    return components, overlay


def with_working(library: Library, overlay: Overlay) -> Library:
    """``library`` (the live one) with each working copy of ``overlay`` in place: preview's."""
    if not overlay:
        return library
    changes: dict[str, Component | None] = {}
    for component_id, working in overlay.items():
        component = library.components.get(component_id) if working else None
        if component is not None:
            variants = {**component.variants, **working}
            changes[component_id] = component.model_copy(update={"variants": variants})
    return library.model_copy(update={"components": replaced(library.components, changes)})


@dataclass(frozen=True)
class LiveAndWorking:
    """One revision of the repository: the live library and the working overlay, read together."""

    revision: int
    library: Library
    working: Mapping[str, Mapping[str, Variant]]

    def working_library(self) -> Library:
        return with_working(self.library, self.working)
