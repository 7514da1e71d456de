"""Single edits: one variant, component, publication or file saved, deleted or archived.

In: the edited item and ``expected_version``, the version the edit was based on (``None`` to
create). Out: the item as stored, at its new version; a ``ConflictError`` carrying
``current_version`` when the caller's version is stale, and nothing written.

These are the editor's writes, so each is one conflict-checked transaction under the write
lock: two people editing the same variant never silently overwrite each other.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute

from content_engine.core.errors import ConflictError, NotFound
from content_engine.core.models import Component, Publication, Variant
from content_engine.store.database import Database, bump_revision
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
    Base,
    ComponentVersion,
    FileVersion,
    PublicationVersion,
    VariantVersion,
)
from content_engine.store.versions import (
    current_variants,
    insert_versions,
    latest_row,
    live_row,
    next_version,
)

__all__ = ["Writes"]


class Writes(Database):
    """The single-item writing methods of ``Repository``."""

    def save_variant(
        self, component_id: str, variant: Variant, *, expected_version: int | None
    ) -> Variant:
        """Store a new version of one variant, if the caller saw the current one.

        ``expected_version`` is the version the edit was based on; ``None`` means "create"
        (the variant must not exist, or be deleted). Anything else is a ``ConflictError`` with
        ``details={"current_version": ...}`` and nothing is written. Content equal to the
        current version writes nothing and returns that version (an idempotent PUT).
        ``variant.version`` is ignored; the returned variant carries the stored version.
        ``NotFound`` if the component does not exist or is archived.
        """
        target = _Target.variant(component_id, variant.key)
        with self._conflicts_on_duplicate(target, expected_version), self._write() as conn:
            _require_component(conn, component_id)
            row = latest_row(conn, VariantVersion, target.criteria)
            current = _check_version(target, row, expected_version)
            if current is not None and variant_of(current).content_equals(variant):
                return variant_of(current)
            version = next_version(row)
            rows = [variant_row(component_id, variant, version, utc_now())]
            insert_versions(conn, VariantVersion, rows)
            bump_revision(conn)
        return variant.model_copy(update={"version": version})

    def delete_variant(self, component_id: str, key: str, *, expected_version: int) -> None:
        """Remove a variant from the current state by adding a ``deleted`` version.

        Its earlier versions stay readable (past renders name them), and saving the key again
        with ``expected_version=None`` re-creates it at the next version number. ``NotFound``
        if the component or the variant is not current; ``ConflictError`` if the version is
        stale.
        """
        target = _Target.variant(component_id, key)
        with self._conflicts_on_duplicate(target, expected_version), self._write() as conn:
            _require_component(conn, component_id)
            row = latest_row(conn, VariantVersion, target.criteria)
            if row is None or row.deleted:
                raise target.not_found()
            _check_version(target, row, expected_version)
            last = variant_of(row)
            rows = [variant_row(component_id, last, row.version + 1, utc_now(), deleted=True)]
            insert_versions(conn, VariantVersion, rows)
            bump_revision(conn)

    def unpublish_variant(self, component_id: str, key: str, *, expected_version: int) -> Variant:
        """Take a variant offline: a new ``archived`` version of its live one (CONTRACT 7).

        Readers then fall to other variants. A working copy over the live version is stated
        again after it, unchanged, so it stays the newest version and nothing an editor was
        working on is lost. Returns the newest version as stored; where nothing is live, that
        is the current one and nothing is written. ``NotFound`` and ``ConflictError`` as for
        ``delete_variant``.
        """
        target = _Target.variant(component_id, key)
        with self._conflicts_on_duplicate(target, expected_version), self._write() as conn:
            _require_component(conn, component_id)
            row = latest_row(conn, VariantVersion, target.criteria)
            if row is None or row.deleted:
                raise target.not_found()
            _check_version(target, row, expected_version)
            newest = variant_of(row)
            live = live_row(conn, component_id, key)
            if live is None:
                return newest
            now, version = utc_now(), row.version + 1
            archived = variant_of(live).model_copy(update={"status": "archived"})
            rows = [variant_row(component_id, archived, version, now)]
            if live.version != row.version:
                version += 1
                rows.append(variant_row(component_id, newest, version, now))
            insert_versions(conn, VariantVersion, rows)
            bump_revision(conn)
        stored = newest if live.version != row.version else archived
        return stored.model_copy(update={"version": version})

    def save_component(self, component: Component, *, expected_version: int | None) -> Component:
        """Store a new version of a component's metadata (type, title, tags, folder).

        ``component.variants`` is ignored: variants are saved one by one (``save_variant``),
        so a metadata edit never overwrites a concurrent variant edit. The version rules are
        ``save_variant``'s; creating a component that is archived brings it back at the next
        version number, with the variants it had. Returns the component as stored, with its
        current variants.
        """
        target = _Target.component(component.id)
        with self._conflicts_on_duplicate(target, expected_version), self._write() as conn:
            row = latest_row(conn, ComponentVersion, target.criteria)
            current = _check_version(target, row, expected_version)
            variants = current_variants(conn, component.id)
            if current is not None and component_of(current, {}).meta_equals(component):
                return component_of(current, variants)
            version = next_version(row)
            insert_versions(conn, ComponentVersion, [component_row(component, version, utc_now())])
            bump_revision(conn)
        return component.model_copy(update={"version": version, "variants": variants})

    def archive_component(self, component_id: str, *, expected_version: int) -> Component:
        """Take a component out of the library by adding an archived version; delete nothing.

        Its metadata and variant histories stay, so past renders replay, and saving it again
        with ``expected_version=None`` restores it. ``NotFound`` if it is not current (unknown
        or already archived); ``ConflictError`` if the version is stale. Returns the archived
        version's metadata, without variants.
        """
        target = _Target.component(component_id)
        with self._conflicts_on_duplicate(target, expected_version), self._write() as conn:
            row = latest_row(conn, ComponentVersion, target.criteria)
            if row is None or row.archived:
                raise target.not_found()
            _check_version(target, row, expected_version)
            archived = component_of(row, {}).model_copy(update={"version": row.version + 1})
            rows = [component_row(archived, archived.version, utc_now(), archived=True)]
            insert_versions(conn, ComponentVersion, rows)
            bump_revision(conn)
        return archived

    def save_publication(
        self, publication: Publication, *, expected_version: int | None
    ) -> Publication:
        """Store a new version of a publication, with ``save_variant``'s version rules.

        Creating an archived publication brings it back at the next version number. Returns
        the publication as stored.
        """
        target = _Target.publication(publication.id)
        with self._conflicts_on_duplicate(target, expected_version), self._write() as conn:
            row = latest_row(conn, PublicationVersion, target.criteria)
            current = _check_version(target, row, expected_version)
            if current is not None and publication_of(current).content_equals(publication):
                return publication_of(current)
            version = next_version(row)
            rows = [publication_row(publication, version, utc_now())]
            insert_versions(conn, PublicationVersion, rows)
            bump_revision(conn)
        return publication.model_copy(update={"version": version})

    def save_file(self, path: str, content: bytes, *, expected_version: int | None) -> int:
        """Store a new version of one library file (an asset), with ``save_variant``'s
        version rules; returns the version now current (the same one for equal bytes)."""
        target = _Target.file(path)
        with self._conflicts_on_duplicate(target, expected_version), self._write() as conn:
            row = latest_row(conn, FileVersion, target.criteria)
            current = _check_version(target, row, expected_version)
            digest = sha256(content)
            if current is not None and current.sha256 == digest:
                return int(current.version)
            version = next_version(row)
            rows = [file_row(path, content, version, utc_now(), digest=digest)]
            insert_versions(conn, FileVersion, rows)
            bump_revision(conn)
        return version

    @contextmanager
    def _conflicts_on_duplicate(
        self, target: _Target, expected_version: int | None
    ) -> Iterator[None]:
        """Report a clash of primary keys as the ``ConflictError`` it stands for.

        Only reachable if another writer slipped past the write lock (none can on SQLite or
        PostgreSQL as used here); the primary key still refuses a second version N.
        """
        try:
            yield
        except IntegrityError as exc:
            with self._read() as conn:
                current = _live_version(latest_row(conn, target.model, target.criteria))
            raise _conflict(target, current, expected_version) from exc


class _Target:
    """The one item a write is about: the table, the key columns, and how to name it."""

    def __init__(
        self,
        model: type[Base],
        criteria: dict[InstrumentedAttribute[Any], Any],
        name: str,
        details: dict[str, Any],
    ) -> None:
        self.model, self.criteria, self.name, self.details = model, criteria, name, details

    @classmethod
    def variant(cls, component_id: str, key: str) -> _Target:
        criteria = {VariantVersion.component_id: component_id, VariantVersion.key: key}
        details = {"component": component_id, "variant": key}
        return cls(VariantVersion, criteria, f"variant {component_id}/{key}", details)

    @classmethod
    def component(cls, component_id: str) -> _Target:
        criteria = {ComponentVersion.id: component_id}
        details = {"component": component_id}
        return cls(ComponentVersion, criteria, f"component {component_id!r}", details)

    @classmethod
    def publication(cls, publication_id: str) -> _Target:
        criteria = {PublicationVersion.id: publication_id}
        details = {"publication": publication_id}
        return cls(PublicationVersion, criteria, f"publication {publication_id!r}", details)

    @classmethod
    def file(cls, path: str) -> _Target:
        criteria = {FileVersion.path: path}
        return cls(FileVersion, criteria, f"file {path!r}", {"path": path})

    def not_found(self) -> NotFound:
        return NotFound(f"no {self.name}", details=self.details)


def _live_version(row: Row[Any] | None) -> int | None:
    """The version of an item's latest row, or ``None`` if there is none or it is a removal."""
    if row is None:
        return None
    removed = row._mapping.get("archived", False) or row._mapping.get("deleted", False)
    return None if removed else int(row.version)


def _check_version(target: _Target, row: Row[Any] | None, expected: int | None) -> Row[Any] | None:
    """The item's current row (``None`` when creating), if its version is the one expected.

    Otherwise a ``ConflictError``: the caller's edit was based on another version.
    """
    current = _live_version(row)
    if current != expected:
        raise _conflict(target, current, expected)
    return row if current is not None else None


def _require_component(conn: Connection, component_id: str) -> None:
    target = _Target.component(component_id)
    row = latest_row(conn, ComponentVersion, target.criteria)
    if row is None or row.archived:
        raise target.not_found()


def _conflict(target: _Target, current: int | None, expected: int | None) -> ConflictError:
    if expected is None:
        message = f"{target.name} already exists (version {current})"
    elif current is None:
        message = f"{target.name} does not exist (expected version {expected})"
    else:
        message = (
            f"{target.name} is at version {current}, not {expected}: "
            "it was changed since it was read"
        )
    return ConflictError(
        message,
        details={**target.details, "current_version": current, "expected_version": expected},
    )
