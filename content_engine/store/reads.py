"""Reading the library: its current state, what changed since a revision, and history.

In: ids, keys and (for replaying a render receipt) version numbers. Out: the current
``Library`` with its revision (the live one readers get, and the working copies over it:
``core.working``), ``LibraryChanges`` since a revision, single components, variants and
publications (current or at a given version), their live versions, and their stored versions.

Each read is one transaction (``Database._read``), so what it returns belongs to one revision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import InstrumentedAttribute

from content_engine.core.changes import LibraryChanges
from content_engine.core.errors import NotFound
from content_engine.core.models import Component, Library, LibrarySettings, Publication, Variant
from content_engine.core.table import ComponentHead, ComponentTable
from content_engine.core.working import LiveAndWorking, VersionRoles, roles_of, split_components
from content_engine.store.database import Database, current_revision
from content_engine.store.heads import components_for, library_heads
from content_engine.store.mapping import component_of, publication_of, variant_of
from content_engine.store.tables import (
    Base,
    ComponentVersion,
    FileVersion,
    PublicationVersion,
    SettingsVersion,
    VariantVersion,
)
from content_engine.store.versions import (
    changed_since,
    current_components,
    current_files,
    current_publications,
    current_settings,
    current_variants,
    latest_row,
    live_row,
    newest_components,
    present,
)

__all__ = ["MAX_CHANGED_ITEMS", "Reads"]

# Past this many changed items, reading only the changes is no quicker than a whole snapshot.
MAX_CHANGED_ITEMS = 5_000


class Reads(Database):
    """The reading methods of ``Repository``."""

    def load_library(self, *, working: bool = False) -> Library:
        """The current library as readers get it (live versions; ``working``: as editors
        preview it, every working copy in place), without archived or deleted items."""
        state = self.live_and_working()
        return state.working_library() if working else state.library

    def snapshot(self) -> tuple[int, Library]:
        """The current (live) library and its revision, read together (``live_and_working``)."""
        state = self.live_and_working()
        return state.revision, state.library

    def live_and_working(self, *, lazy: bool = False) -> LiveAndWorking:
        """The live library, the working copies over it and their revision, read together.

        Reading ``revision()`` and ``load_library()`` separately could pair a library with a
        revision it does not contain; a cache keyed on this pair never misses a change.
        ``lazy``: the components as a table of heads (``core.table``), each whole one read
        from this repository when asked for, so only while it is open: what a server holds.
        """
        with self._read() as conn:
            revision = current_revision(conn)
            settings = current_settings(conn) or LibrarySettings()
            components: Mapping[str, Component]
            if lazy:
                heads, overlay = library_heads(conn)
                components = ComponentTable(heads, self.components_for)
            else:
                newest, overlay = split_components(*newest_components(conn))
                components = present(newest)
            publications = current_publications(conn)
            files = current_files(conn)
        library = Library.model_construct(
            settings=settings,
            components=components,
            publications=present(publications),
            files=present(files),
        )
        return LiveAndWorking(revision, library, overlay)

    def components_for(self, heads: Sequence[ComponentHead]) -> dict[str, Component]:
        """The whole components of a served library's heads (``core.table``), read together.

        A library outlives its repository's ``close`` (a caller still holding it): its reads
        then release their connection at once, rather than leave one open in a new pool.
        """
        try:
            with self._read() as conn:
                return components_for(conn, heads)
        finally:
            if self.closed:
                self.engine.dispose()

    def changes_since(
        self, revision: int, *, limit: int = MAX_CHANGED_ITEMS
    ) -> LibraryChanges | None:
        """What was written after ``revision``, as it is now; read in one transaction.

        ``None`` when more than ``limit`` items changed (or ``revision`` is from before
        migration 0005): reading a whole ``snapshot`` is then as quick.
        """
        with self._read() as conn:
            current = current_revision(conn)
            if current == revision:
                return LibraryChanges(current)
            components = changed_since(conn, revision, ComponentVersion.id)
            components |= changed_since(conn, revision, VariantVersion.component_id)
            publications = changed_since(conn, revision, PublicationVersion.id)
            files = changed_since(conn, revision, FileVersion.path)
            settings = changed_since(conn, revision, SettingsVersion.version)
            if revision <= 0 or len(components) + len(publications) + len(files) > limit:
                return None
            if not (components or publications or files or settings):
                return None  # the revision moved but no row says why: written before 0005
            live, working = split_components(*newest_components(conn, components))
            return LibraryChanges(
                current,
                settings=current_settings(conn) if settings else None,
                components=live,
                publications=current_publications(conn, publications),
                files=current_files(conn, files),
                working=working,
            )

    def get_variant_and_live(self, component_id: str, key: str) -> tuple[Variant, int | None]:
        """The newest version of a variant (as ``get_variant``) and, read with it, the version
        readers get (``None``: it is offline)."""
        criteria = {VariantVersion.component_id: component_id, VariantVersion.key: key}
        with self._read() as conn:
            row = latest_row(conn, VariantVersion, criteria)
            live = live_row(conn, component_id, key)
        if row is None or row.deleted:
            raise NotFound(
                f"no variant {component_id}/{key}",
                details={"component": component_id, "variant": key, "version": None},
            )
        return variant_of(row), None if live is None else int(live.version)

    def version_roles(self, component_id: str, key: str) -> VersionRoles:
        """Which of a variant's versions is live and which its working copy (``core.working``);
        ``NotFound`` if the variant never existed."""
        columns = (VariantVersion.version, VariantVersion.status, VariantVersion.deleted)
        with self._read() as conn:
            rows = conn.execute(
                select(*columns)
                .where(VariantVersion.component_id == component_id, VariantVersion.key == key)
                .order_by(VariantVersion.version)
            ).all()
        if not rows:
            raise NotFound(
                f"no variant {component_id}/{key}",
                details={"component": component_id, "variant": key},
            )
        return roles_of((int(r.version), str(r.status), bool(r.deleted)) for r in rows)

    def get_component(self, component_id: str) -> Component:
        """The current component with its current variants; ``NotFound`` if none or archived."""
        with self._read() as conn:
            row = latest_row(conn, ComponentVersion, {ComponentVersion.id: component_id})
            if row is None or row.archived:
                raise NotFound(
                    f"no component {component_id!r}", details={"component": component_id}
                )
            variants = current_variants(conn, component_id)
        return component_of(row, variants)

    def list_components(self) -> list[Component]:
        """The current components with their current variants, by id (no files are read)."""
        with self._read() as conn:
            components = present(current_components(conn))
        return [components[component_id] for component_id in sorted(components)]

    def list_publications(self) -> list[Publication]:
        """The current publications, by id."""
        with self._read() as conn:
            publications = present(current_publications(conn))
        return [publications[publication_id] for publication_id in sorted(publications)]

    def get_variant(self, component_id: str, key: str, version: int | None = None) -> Variant:
        """One variant: the current one, or the given ``version`` (as used by a past render).

        A version that records a deletion, like a variant deleted now, is ``NotFound``. A
        given ``version`` is found whatever happened since (a newer version, a deletion, the
        component archived): replaying a render receipt needs exactly the versions it names.
        """
        details = {"component": component_id, "variant": key, "version": version}
        criteria = {VariantVersion.component_id: component_id, VariantVersion.key: key}
        with self._read() as conn:
            if version is None:
                row = latest_row(conn, VariantVersion, criteria)
            else:
                row = conn.execute(
                    select(VariantVersion).filter_by(
                        component_id=component_id, key=key, version=version
                    )
                ).first()
        if row is None or row.deleted:
            what = f"variant {component_id}/{key}" + (f" version {version}" if version else "")
            raise NotFound(f"no {what}", details=details)
        return variant_of(row)

    def variant_history(self, component_id: str, key: str) -> list[Variant]:
        """Every stored content version of a variant, oldest first.

        Versions that record a deletion are left out; the gap in the version numbers shows
        where the variant was deleted (and, if it goes on, re-created). ``NotFound`` if the
        variant never existed.
        """
        rows = self._history(
            VariantVersion, VariantVersion.component_id == component_id, VariantVersion.key == key
        )
        if not rows:
            raise NotFound(
                f"no variant {component_id}/{key}",
                details={"component": component_id, "variant": key},
            )
        return [variant_of(row) for row in rows if not row.deleted]

    def get_publication(self, publication_id: str, version: int | None = None) -> Publication:
        """The current publication, or the given ``version``; ``NotFound`` if archived.

        As with ``get_variant``, a given ``version`` is found even if the publication has been
        archived since (only the version that records the archiving is ``NotFound``), so a
        render receipt can be replayed.
        """
        with self._read() as conn:
            if version is None:
                row = latest_row(conn, PublicationVersion, {PublicationVersion.id: publication_id})
            else:
                row = conn.execute(
                    select(PublicationVersion).filter_by(id=publication_id, version=version)
                ).first()
        if row is None or row.archived:
            what = f"publication {publication_id!r}" + (f" version {version}" if version else "")
            raise NotFound(
                f"no {what}", details={"publication": publication_id, "version": version}
            )
        return publication_of(row)

    def component_history(self, component_id: str) -> list[Component]:
        """Every stored metadata version of a component, oldest first, without variants.

        Variants have histories of their own (``variant_history``). Archiving versions are
        left out; the gap in the version numbers shows them. ``NotFound`` if the component
        never existed.
        """
        rows = self._history(ComponentVersion, ComponentVersion.id == component_id)
        if not rows:
            raise NotFound(f"no component {component_id!r}", details={"component": component_id})
        return [component_of(row, {}) for row in rows if not row.archived]

    def publication_history(self, publication_id: str) -> list[Publication]:
        """Every stored version of a publication, oldest first (as ``component_history``)."""
        rows = self._history(PublicationVersion, PublicationVersion.id == publication_id)
        if not rows:
            raise NotFound(
                f"no publication {publication_id!r}", details={"publication": publication_id}
            )
        return [publication_of(row) for row in rows if not row.archived]

    def _history(self, model: type[Base], *where: Any) -> Sequence[Row[Any]]:
        version: InstrumentedAttribute[int] = getattr(model, "version")  # noqa: B009
        with self._read() as conn:
            return conn.execute(select(model).where(*where).order_by(version)).all()
