"""Editing a library in place: validated, conflict-checked writes of single items.

In: a component, variant or publication an editor wants to save, and the version they based
their edit on. Out: the stored item, or an error that says what is wrong (malformed body with
line and column, an include that would break the graph, a stale version). The same checks as
``import`` run on the library as it would be after the write, and a variant's body is stored
sanitised (``sanitize``): ``write_variant`` also says what was taken out.

Saving a variant makes its newest version; a ``draft`` or ``review`` one is a working copy
that readers do not get until it is published, and ``unpublish`` takes a variant offline
(``core.working``). The checks run on the working library, the one the writes change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from content_engine.core.errors import LibraryIntegrityError, NotFound
from content_engine.core.integrity import (
    Problem,
    default_locator,
    graph_problems,
    include_graph,
    raise_first,
)
from content_engine.core.markup.sanitize import sanitize_body
from content_engine.core.models import Component, Library, Publication, Variant
from content_engine.core.table import replaced
from content_engine.core.templates.compile import compile_body
from content_engine.core.templates.sandbox import BodySandbox
from content_engine.core.working import VersionRoles
from content_engine.store import Repository


class Workspace(Protocol):
    """What the editor needs of the engine: the working library and its compiled bodies."""

    @property
    def sandbox(self) -> BodySandbox: ...

    def working_library(self) -> Library: ...

    def includes_of(self, component: Component, variant: Variant) -> tuple[str, ...]: ...
    def includes_in(
        self, components: Mapping[str, Component]
    ) -> dict[tuple[str, str], tuple[str, ...]]: ...


@dataclass(frozen=True)
class SavedVariant:
    """A stored variant, and what sanitising its body removed (``removed <script> (line 3)``)."""

    variant: Variant
    removed: list[str] = field(default_factory=list)


class Editor:
    """Reads and writes single items in the repository, refusing anything import would refuse."""

    def __init__(self, workspace: Workspace, repository: Repository) -> None:
        self.engine = workspace
        self.repository = repository

    # --- reads ------------------------------------------------------------------------------

    def get_component(self, component_id: str) -> Component:
        return self.repository.get_component(component_id)

    def get_variant(self, component_id: str, key: str, version: int | None = None) -> Variant:
        return self.repository.get_variant(component_id, key, version)

    def variant_with_live(self, component_id: str, key: str) -> tuple[Variant, int | None]:
        """The newest version of a variant and the version readers get (``None``: none)."""
        return self.repository.get_variant_and_live(component_id, key)

    def variant_history(self, component_id: str, key: str) -> list[Variant]:
        return self.repository.variant_history(component_id, key)

    def version_roles(self, component_id: str, key: str) -> VersionRoles:
        """Which stored version of a variant is live and which is its working copy."""
        return self.repository.version_roles(component_id, key)

    def get_publication(self, publication_id: str, version: int | None = None) -> Publication:
        return self.repository.get_publication(publication_id, version)

    # --- variants ---------------------------------------------------------------------------

    def save_variant(
        self, component_id: str, variant: Variant, *, expected_version: int | None
    ) -> Variant:
        """Store a new version of the variant, its body sanitised; see ``write_variant``."""
        return self.write_variant(component_id, variant, expected_version=expected_version).variant

    def write_variant(
        self, component_id: str, variant: Variant, *, expected_version: int | None
    ) -> SavedVariant:
        """Check, sanitise and store the variant; say what sanitising removed."""
        library = self.engine.working_library()
        component = library.components.get(component_id)
        if component is None:
            raise NotFound(f"unknown component {component_id!r}")
        where = default_locator(component, variant)
        # The editor's own text first, so an error points into what they wrote.
        compile_body(variant.body, self.engine.sandbox, where.file)
        clean = sanitize_body(variant.body, where.file)
        variant = variant.model_copy(update={"body": clean.body, "version": 0})
        variants = {**component.variants, variant.key: variant}
        self._check_graph(library, component.model_copy(update={"variants": variants}))
        saved = self.repository.save_variant(
            component_id, variant, expected_version=expected_version
        )
        return SavedVariant(saved, clean.removed)

    def set_status(
        self, component_id: str, key: str, status: str, *, expected_version: int
    ) -> Variant:
        """Move a variant along the workflow (draft → review → published) as a new version."""
        current = self.repository.get_variant(component_id, key)
        changed = current.model_copy(update={"status": status})
        return self.save_variant(component_id, changed, expected_version=expected_version)

    def unpublish(self, component_id: str, key: str, *, expected_version: int) -> Variant:
        """Take a variant offline: a new ``archived`` version of what readers got, after which
        they fall to other variants. A working copy stays the newest version, unchanged. Where
        nothing is live, nothing is written; see ``Repository.unpublish_variant``."""
        return self.repository.unpublish_variant(
            component_id, key, expected_version=expected_version
        )

    def rollback_variant(
        self, component_id: str, key: str, to_version: int, *, expected_version: int
    ) -> Variant:
        """Make an earlier version current again, as a new version (history stays linear)."""
        earlier = self.repository.get_variant(component_id, key, to_version)
        return self.save_variant(component_id, earlier, expected_version=expected_version)

    def delete_variant(self, component_id: str, key: str, *, expected_version: int) -> None:
        library = self.engine.working_library()
        component = library.components.get(component_id)
        if component is None or key not in component.variants:
            raise NotFound(f"unknown variant {component_id}/{key}")
        variants = {k: v for k, v in component.variants.items() if k != key}
        self._check_graph(library, component.model_copy(update={"variants": variants}))
        self.repository.delete_variant(component_id, key, expected_version=expected_version)

    # --- components and publications -------------------------------------------------------

    def save_component(self, component: Component, *, expected_version: int | None) -> Component:
        return self.repository.save_component(component, expected_version=expected_version)

    def archive_component(self, component_id: str, *, expected_version: int) -> Component:
        library = self.engine.working_library()
        users = sorted(
            cid
            for cid, targets in include_graph(library, self._includes(library)).items()
            if component_id in targets and cid != component_id
        )
        if users:
            raise LibraryIntegrityError(
                f"{component_id} is still included by {', '.join(users)}",
                details={"included_by": users},
            )
        return self.repository.archive_component(component_id, expected_version=expected_version)

    def save_publication(
        self, publication: Publication, *, expected_version: int | None
    ) -> Publication:
        return self.repository.save_publication(
            publication.model_copy(update={"version": 0}), expected_version=expected_version
        )

    # --- checks -----------------------------------------------------------------------------

    def _includes(self, library: Library) -> dict[tuple[str, str], tuple[str, ...]]:
        return self.engine.includes_in(library.components)

    def include_problems(self, library: Library, changed: Component) -> list[Problem]:
        """The include graph's cycles, gaps and excess depth were ``changed`` stored as it is
        (what a save would refuse; the body editor shows them as the editor types)."""
        components = replaced(library.components, {changed.id: changed})
        after = library.model_copy(update={"components": components})
        return graph_problems(after, include_graph(after, self._includes(after)))

    def _check_graph(self, library: Library, changed: Component) -> None:
        """Refuse a write after which the include graph has a cycle, gap or is too deep."""
        raise_first(self.include_problems(library, changed))
