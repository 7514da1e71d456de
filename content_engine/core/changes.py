"""What changed in a library after a revision, and the library with those changes applied.

In: a ``Library`` as of revision N and the ``LibraryChanges`` the repository reads for "after
N": every component, publication and file written since, as it is now (``None``: gone), and the
settings if they changed. Out: the library as of the newer revision. Pure: no I/O.

A server holding 100 k components then reloads a handful after a publish, not all of them (a
whole snapshot of that size takes most of a minute to read).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from content_engine.core.models import Component, Library, LibrarySettings, Publication

T = TypeVar("T")


@dataclass(frozen=True)
class LibraryChanges:
    revision: int
    settings: LibrarySettings | None = None
    components: Mapping[str, Component | None] = field(default_factory=dict)
    publications: Mapping[str, Publication | None] = field(default_factory=dict)
    files: Mapping[str, bytes | None] = field(default_factory=dict)

    def apply(self, library: Library) -> Library:
        """``library`` with these changes; it is not modified."""
        update: dict[str, object] = {
            "components": _merged(library.components, self.components),
            "publications": _merged(library.publications, self.publications),
            "files": _merged(library.files, self.files),
        }
        if self.settings is not None:
            update["settings"] = self.settings
        return library.model_copy(update=update)


def _merged(current: Mapping[str, T], changed: Mapping[str, T | None]) -> dict[str, T]:
    merged = dict(current)
    for key, value in changed.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
