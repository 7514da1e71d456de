"""Importing a whole library: the folder's state becomes the stored state, in one write.

In: a ``Library`` (as read from a folder). Out: an ``ImportReport`` counting, for each kind of
item, what was created, changed, archived and left unchanged, with the revision after it.

Only what differs from the current state gets a new version, so re-importing an unchanged
folder writes nothing and leaves every cache valid.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Connection, select

from content_engine.core.models import Library, LibrarySettings
from content_engine.store.database import Database, bump_revision, current_revision
from content_engine.store.mapping import (
    component_of,
    component_row,
    file_row,
    publication_of,
    publication_row,
    sha256,
    utc_now,
    variant_of,
    variant_row,
)
from content_engine.store.tables import (
    ComponentVersion,
    FileVersion,
    PublicationVersion,
    SettingsVersion,
    VariantVersion,
)
from content_engine.store.versions import insert_versions, latest_rows, next_version

__all__ = ["ImportCounts", "ImportReport", "Imports"]

_KINDS = ("settings", "components", "variants", "publications", "files")


class ImportCounts(BaseModel):
    """What an import did to one kind of item.

    ``created``: not in the current state before (new, or back from archived/deleted);
    ``archived``: in the current state before, missing from the folder now (variants and
    files get a ``deleted`` version, components and publications an ``archived`` one).
    """

    created: int = 0
    changed: int = 0
    unchanged: int = 0
    archived: int = 0

    @property
    def written(self) -> int:
        return self.created + self.changed + self.archived


class ImportReport(BaseModel):
    """The outcome of ``Repository.import_library``; ``revision`` is the state after it."""

    revision: int
    settings: ImportCounts = ImportCounts()
    components: ImportCounts = ImportCounts()
    variants: ImportCounts = ImportCounts()
    publications: ImportCounts = ImportCounts()
    files: ImportCounts = ImportCounts()
    # What the engine took out of the folder's bodies on the way in (``file: removed ...``).
    warnings: list[str] = Field(default_factory=list)

    def summary(self) -> str:
        """One line for a person: ``revision 4: variants 1 changed, 2 unchanged; ...``."""
        parts = []
        for kind in _KINDS:
            counts: ImportCounts = getattr(self, kind)
            stated = [
                f"{getattr(counts, name)} {name}"
                for name in ("created", "changed", "archived", "unchanged")
                if getattr(counts, name)
            ]
            if stated:
                parts.append(f"{kind} {', '.join(stated)}")
        if not self.changed:
            return f"nothing changed (revision {self.revision})"
        return f"revision {self.revision}: " + "; ".join(parts)

    @property
    def changed(self) -> bool:
        """Whether the import wrote anything (a re-import of the same folder does not)."""
        return any(getattr(self, kind).written for kind in _KINDS)


class Imports(Database):
    """The whole-library import of ``Repository``.

    One step per kind of item, each a method so that a test can break one midway and see
    that nothing of the import was kept.
    """

    def import_library(self, lib: Library) -> ImportReport:
        """Make ``lib`` the library's new state, in one transaction: all of it or nothing.

        Only what differs from the current state gets a new version; items missing from
        ``lib`` get an archived/deleted version (their history stays). Importing the same
        library twice writes nothing the second time and leaves the revision as it was.
        """
        with self._write() as conn:
            now = utc_now()
            report = ImportReport(revision=current_revision(conn))
            self._import_settings(conn, lib.settings, now, report.settings)
            self._import_components(conn, lib, now, report.components)
            self._import_variants(conn, lib, now, report.variants)
            self._import_publications(conn, lib, now, report.publications)
            self._import_files(conn, lib, now, report.files)
            if report.changed:
                report.revision = bump_revision(conn)
        return report

    def _import_settings(
        self, conn: Connection, settings: LibrarySettings, now: datetime, counts: ImportCounts
    ) -> None:
        row = conn.execute(
            select(SettingsVersion).order_by(SettingsVersion.version.desc()).limit(1)
        ).first()
        data = settings.model_dump(mode="json", by_alias=True)
        if row is not None and LibrarySettings.model_validate(row.data) == settings:
            counts.unchanged += 1
            return
        if row is None:
            counts.created += 1
        else:
            counts.changed += 1
        version = row.version + 1 if row else 1
        insert_versions(
            conn, SettingsVersion, [{"version": version, "data": data, "created_at": now}]
        )

    def _import_components(
        self, conn: Connection, lib: Library, now: datetime, counts: ImportCounts
    ) -> None:
        current = {
            row.id: row for row in latest_rows(conn, ComponentVersion, (ComponentVersion.id,))
        }
        rows: list[dict[str, Any]] = []
        for component_id, component in sorted(lib.components.items()):
            row = current.get(component_id)
            if row is None or row.archived:
                counts.created += 1
            elif component_of(row, {}).meta_equals(component):
                counts.unchanged += 1
                continue
            else:
                counts.changed += 1
            rows.append(component_row(component, next_version(row), now))
        for component_id, row in sorted(current.items()):
            if component_id not in lib.components and not row.archived:
                counts.archived += 1
                archived = component_of(row, {})
                rows.append(component_row(archived, row.version + 1, now, archived=True))
        insert_versions(conn, ComponentVersion, rows)

    def _import_variants(
        self, conn: Connection, lib: Library, now: datetime, counts: ImportCounts
    ) -> None:
        # Variants of components missing from ``lib`` stay as they are: archiving the
        # component hides them, and restoring it brings them back unchanged.
        current = {
            (row.component_id, row.key): row
            for row in latest_rows(
                conn, VariantVersion, (VariantVersion.component_id, VariantVersion.key)
            )
        }
        rows: list[dict[str, Any]] = []
        for component_id, component in sorted(lib.components.items()):
            for key, variant in sorted(component.variants.items()):
                row = current.get((component_id, key))
                if row is None or row.deleted:
                    counts.created += 1
                elif variant_of(row).content_equals(variant):
                    counts.unchanged += 1
                    continue
                else:
                    counts.changed += 1
                rows.append(variant_row(component_id, variant, next_version(row), now))
        for (component_id, key), row in sorted(current.items()):
            present = lib.components.get(component_id)
            if present is not None and key not in present.variants and not row.deleted:
                counts.archived += 1
                rows.append(
                    variant_row(component_id, variant_of(row), row.version + 1, now, deleted=True)
                )
        insert_versions(conn, VariantVersion, rows)

    def _import_publications(
        self, conn: Connection, lib: Library, now: datetime, counts: ImportCounts
    ) -> None:
        current = {
            row.id: row for row in latest_rows(conn, PublicationVersion, (PublicationVersion.id,))
        }
        rows: list[dict[str, Any]] = []
        for publication_id, publication in sorted(lib.publications.items()):
            row = current.get(publication_id)
            if row is None or row.archived:
                counts.created += 1
            elif publication_of(row).content_equals(publication):
                counts.unchanged += 1
                continue
            else:
                counts.changed += 1
            rows.append(publication_row(publication, next_version(row), now))
        for publication_id, row in sorted(current.items()):
            if publication_id not in lib.publications and not row.archived:
                counts.archived += 1
                rows.append(
                    publication_row(publication_of(row), row.version + 1, now, archived=True)
                )
        insert_versions(conn, PublicationVersion, rows)

    def _import_files(
        self, conn: Connection, lib: Library, now: datetime, counts: ImportCounts
    ) -> None:
        # Compare digests, not bytes: the current files' contents need not be read at all.
        latest = latest_rows(
            conn,
            FileVersion,
            (FileVersion.path,),
            columns=(
                FileVersion.path,
                FileVersion.version,
                FileVersion.sha256,
                FileVersion.deleted,
            ),
        )
        current = {row.path: row for row in latest}
        rows: list[dict[str, Any]] = []
        for path, content in sorted(lib.files.items()):
            row = current.get(path)
            digest = sha256(content)
            if row is None or row.deleted:
                counts.created += 1
            elif row.sha256 == digest:
                counts.unchanged += 1
                continue
            else:
                counts.changed += 1
            rows.append(file_row(path, content, next_version(row), now, digest=digest))
        for path, row in sorted(current.items()):
            if path not in lib.files and not row.deleted:
                counts.archived += 1
                rows.append(file_row(path, b"", row.version + 1, now, deleted=True))
        insert_versions(conn, FileVersion, rows)
