"""What changed in a library after a revision, and the library with those changes applied.

In: a ``Library`` as of revision N and the ``LibraryChanges`` the repository reads for "after
N": every component, publication and file written since, as it is now (``None``: gone), and the
settings if they changed; components as readers get them (live versions, ``working``), with
the working copies of those components beside them. Out: the library and the working overlay
as of the newer revision. Pure: no I/O.

A server holding 100 k components then reloads a handful after a publish, not all of them (a
whole snapshot of that size takes most of a minute to read).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from content_engine.core.models import Component, Library, LibrarySettings, Publication, Variant
from content_engine.core.table import holds, merged, replaced


@dataclass(frozen=True)
class LibraryChanges:
    revision: int
    settings: LibrarySettings | None = None
    components: Mapping[str, Component | None] = field(default_factory=dict)
    publications: Mapping[str, Publication | None] = field(default_factory=dict)
    files: Mapping[str, bytes | None] = field(default_factory=dict)
    # The working copies over live versions of the changed ``components`` (none: not named).
    working: Mapping[str, Mapping[str, Variant]] = field(default_factory=dict)

    def apply(self, library: Library) -> Library:
        """``library`` with these changes; it is not modified."""
        update: dict[str, object] = {
            "components": replaced(library.components, self.components),
            "publications": merged(library.publications, self.publications),
            "files": merged(library.files, self.files),
        }
        if self.settings is not None:
            update["settings"] = self.settings
        return library.model_copy(update=update)

    def apply_working(
        self, overlay: Mapping[str, Mapping[str, Variant]]
    ) -> dict[str, Mapping[str, Variant]]:
        """The working overlay ``overlay`` with these changes; it is not modified."""
        merged = {k: v for k, v in overlay.items() if k not in self.components}
        merged.update({k: v for k, v in self.working.items() if v})
        return merged

    def blocks_unchanged(self, library: Library) -> bool:
        """Whether every block of ``library`` stays as it is after these changes: only working
        copies (and publications, which no block reads) moved."""
        if self.settings is not None or self.files:
            return False
        return all(holds(library.components, k, v) for k, v in self.components.items())
