"""The engine's current library: the repository's revision, and what is built on it.

In: the repository, the freshness policy, the compiled-body cache and a way to build an
assembler for a library. Out: a ``LibraryState`` current within the ``refresh`` interval: the
live library readers get and the working copies over it (``core.working``), each served by a
``LibraryView`` (the library, its assembler, vocabulary and block cache) with the region
groups. When the revision moves, the state is rebuilt from the repository's changes since, or
from a whole snapshot when the changes cannot be told; the caches of a superseded state go
with it, except that readers' blocks are kept when only working copies moved: saving a draft
changes nothing a reader gets, so it costs them nothing either.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from threading import Lock

from content_engine.core.assembly import Assembler
from content_engine.core.changes import LibraryChanges
from content_engine.core.errors import NotFound
from content_engine.core.models import Context, Library, Publication, Variant
from content_engine.core.reader import Reader, RegionGroups, make_reader
from content_engine.core.vocabulary import Vocabulary
from content_engine.core.working import with_working
from content_engine.engine.blockcache import BlockCache
from content_engine.engine.bodycache import BodyCache
from content_engine.engine.collector import frozen_after
from content_engine.engine.freshness import Freshness, Stamp
from content_engine.store import Repository


@dataclass
class LibraryView:
    """One library as some readers get it: the live one, or preview's with working copies."""

    library: Library
    assembler: Assembler
    vocabulary: Vocabulary
    blocks: BlockCache = field(default_factory=BlockCache)
    # What callers derive from the whole library (``Engine.derived``), made once per view.
    derived: dict[Callable[[Library], object], object] = field(default_factory=dict)


@dataclass
class LibraryState:
    """One revision of the library and what serving it needs; a new revision gets a new one."""

    revision: int
    live: LibraryView
    working: Mapping[str, Mapping[str, Variant]]  # the working copies over live versions
    groups: RegionGroups
    checked: Stamp  # when ``revision`` was last confirmed current
    view_of: Callable[[Library], LibraryView]
    _preview: LibraryView | None = None
    _lock: Lock = field(default_factory=Lock)
    # The reader made last: a request asks for its reader twice (its blocks, then their
    # feedback tokens), and the segment rules are most of what making one costs.
    _last_reader: Reader | None = None

    @property
    def library(self) -> Library:
        """The live library: what every reader who does not preview is served from."""
        return self.live.library

    def view(self, preview: bool) -> LibraryView:
        """Readers' view, or (``preview``) the working library's, built on first use.

        Preview has a block cache of its own even without working copies: readers' blocks
        outlive a working copy's save, preview's must not.
        """
        if not preview:
            return self.live
        found = self._preview
        if found is None:
            with self._lock:
                found = self._preview
                if found is None:
                    found = self._preview_view()
                    self._preview = found
        return found

    def built_view(self, preview: bool) -> LibraryView | None:
        """``view(preview)`` if it is there already, else ``None``: no work at all."""
        return self._preview if preview else self.live

    def _preview_view(self) -> LibraryView:
        if not self.working:
            return LibraryView(self.live.library, self.live.assembler, self.live.vocabulary)
        return self.view_of(with_working(self.live.library, self.working))

    def reader(self, context: Context, preview: bool) -> Reader:
        """The reader of ``context`` in this revision; the one made last when asked for the very
        same context object again (contexts are frozen; one assignment, so threads are safe)."""
        last = self._last_reader
        if last is not None and last.context is context and last.preview == preview:
            return last
        settings = self.library.settings
        made = make_reader(context, settings, preview=preview, groups=self.groups)
        self._last_reader = made
        return made

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

    def last(self) -> LibraryState | None:
        """The state as last loaded, fresh or not (``None`` before the first load): for
        readiness and metrics, which must not ask the database."""
        return self._state

    def fresh(self) -> LibraryState | None:
        """The state if it can be served without asking the database, else ``None``."""
        state = self._state
        return state if state is not None and self.freshness.is_fresh(state.checked) else None

    def refresh_loaded(self) -> None:
        """``refresh`` if a state was built already: word of a write elsewhere reloads what is
        served, ahead of the next request, but never loads a library nobody asked for yet."""
        if self._state is not None:
            self.refresh(force=False)

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
                state = self._changed(state, changes, checked)
            else:
                with frozen_after():
                    whole = self.repository.live_and_working(lazy=True)
                    self.bodies.forget_superseded(whole.library, working=whole.working)
                    live = self.view_of(whole.library)
                    groups = RegionGroups(whole.library.settings.regions)
                    state = LibraryState(
                        whole.revision, live, whole.working, groups, checked, self.view_of
                    )
            self._state = state
            return state

    def _changed(
        self, state: LibraryState, changes: LibraryChanges, checked: Stamp
    ) -> LibraryState:
        """``state`` moved on by ``changes``; readers' view kept if only working copies moved."""
        library = changes.apply(state.library)
        working = changes.apply_working(state.working)
        self.bodies.forget_superseded(library, changes.components, working=working)
        if changes.blocks_unchanged(state.library):
            live = LibraryView(
                library, self.assembler(library), state.live.vocabulary, state.live.blocks
            )
            groups = state.groups
        else:
            live = self.view_of(library)
            groups = RegionGroups(library.settings.regions)
        return LibraryState(changes.revision, live, working, groups, checked, self.view_of)

    def view_of(self, library: Library) -> LibraryView:
        """A fresh view of ``library``: its assembler, vocabulary and an empty block cache."""
        return LibraryView(
            library, self.assembler(library), Vocabulary(library, self.bodies.inline_conditions)
        )
