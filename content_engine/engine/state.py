"""The engine's current library: the repository's revision, and what is built on it.

In: the repository, the freshness policy, the compiled-body cache and a way to build an
assembler for a library. Out: a ``LibraryState`` (the library, its assembler, region groups,
vocabulary and block cache) current within the ``refresh`` interval. When the revision moves,
the state is rebuilt from the repository's changes since, or from a whole snapshot when the
changes cannot be told; the caches of a superseded state go with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from threading import Lock

from content_engine.core.assembly import Assembler
from content_engine.core.errors import NotFound
from content_engine.core.models import Context, Library, Publication
from content_engine.core.reader import Reader, RegionGroups, make_reader
from content_engine.core.vocabulary import Vocabulary
from content_engine.engine.blockcache import BlockCache
from content_engine.engine.bodycache import BodyCache
from content_engine.engine.freshness import Freshness, Stamp
from content_engine.store import Repository


@dataclass
class LibraryState:
    """One revision of the library and what serving it needs; a new revision gets a new one."""

    revision: int
    library: Library
    assembler: Assembler
    groups: RegionGroups
    vocabulary: Vocabulary
    checked: Stamp  # when ``revision`` was last confirmed current
    blocks: BlockCache = field(default_factory=BlockCache)

    def reader(self, context: Context, preview: bool) -> Reader:
        settings = self.library.settings
        return make_reader(context, settings, preview=preview, groups=self.groups)

    def publication(self, publication_id: str) -> Publication:
        """The publication as this revision holds it; ``NotFound`` if there is none."""
        try:
            return self.library.publications[publication_id]
        except KeyError:
            raise NotFound(f"unknown publication {publication_id!r}") from None


class CurrentLibrary:
    """The library as of the repository's revision, which is asked at most every ``refresh`` s."""

    def __init__(
        self,
        repository: Repository,
        freshness: Freshness,
        bodies: BodyCache,
        assembler: Callable[[Library], Assembler],
    ) -> None:
        self.repository = repository
        self.freshness = freshness
        self.bodies = bodies
        self.assembler = assembler
        self._state: LibraryState | None = None
        self._lock = Lock()

    def get(self) -> LibraryState:
        """The current state, asking the database if the last answer is no longer fresh."""
        state = self._state
        if state is not None and self.freshness.is_fresh(state.checked):
            return state
        return self.refresh(force=False)

    def fresh(self) -> LibraryState | None:
        """The state if it can be served without asking the database, else ``None``."""
        state = self._state
        return state if state is not None and self.freshness.is_fresh(state.checked) else None

    def refresh(self, *, force: bool) -> LibraryState:
        """Ask the database (``force``: even if the last answer is fresh); reload if it moved."""
        with self._lock:
            state = self._state
            if not force and state is not None and self.freshness.is_fresh(state.checked):
                return state  # another thread has just checked
            checked = self.freshness.stamp()
            if state is not None and state.revision == self.repository.revision():
                state.checked = checked
                return state
            changes = self.repository.changes_since(state.revision) if state else None
            if state is not None and changes is not None:
                revision, library = changes.revision, changes.apply(state.library)
                self.bodies.forget_superseded(library, changes.components)
            else:
                revision, library = self.repository.snapshot()
                self.bodies.forget_superseded(library)
            state = LibraryState(
                revision,
                library,
                self.assembler(library),
                RegionGroups(library.settings.regions),
                Vocabulary(library, self.bodies.inline_conditions),
                checked,
            )
            self._state = state
            return state
