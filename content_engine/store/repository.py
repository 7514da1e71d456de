"""The repository: the library's versioned state, render receipts and API keys, in SQL.

In: ``Library`` models (a whole imported folder, or one edited item), ``Receipt``s, and API
keys to make, revoke or verify. Out: the current ``Library``, any past version of a component,
variant or publication, and a ``revision`` number that changes with every library write, so
caches in other processes notice.

SQLite (the default, one file) and PostgreSQL (``postgresql://...``) are supported. Every
write is one transaction that first takes the write lock (SQLite ``BEGIN IMMEDIATE``,
PostgreSQL ``SELECT ... FOR UPDATE`` on the ``library_state`` row), so a write never decides
on a stale read. Reads of the whole library run in one snapshot (``REPEATABLE READ`` on
PostgreSQL), so they never mix two revisions.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import (
    URL,
    Connection,
    Engine,
    Row,
    and_,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    make_url,
    select,
    text,
    update,
)
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, SAWarning
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.pool import StaticPool

from content_engine.core.changes import LibraryChanges
from content_engine.core.errors import ConflictError, DatabaseUnavailable, InputError, NotFound
from content_engine.core.models import (
    Component,
    Conditions,
    Library,
    LibrarySettings,
    Publication,
    Receipt,
    Slot,
    Variant,
)
from content_engine.core.names import STORED
from content_engine.store.faults import SqliteFileGuard, fault_of, translated
from content_engine.store.keys import (
    KeyInfo,
    digests_match,
    hash_key,
    new_key,
    parse_key,
    parse_role,
)
from content_engine.store.sessions import SESSION_TTL, hash_session, new_session
from content_engine.store.tables import (
    ApiKey,
    Base,
    ComponentVersion,
    FileVersion,
    LibraryState,
    PublicationVersion,
    RenderReceipt,
    SettingsVersion,
    UiSession,
    VariantVersion,
)

__all__ = ["ImportCounts", "ImportReport", "Repository", "normalize_url"]

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration's revision id; a test checks it against Alembic's own idea of head.
HEAD_REVISION = "0007"
T = TypeVar("T")
# Past this many changed items, reading only the changes is no quicker than a whole snapshot.
MAX_CHANGED_ITEMS = 5_000
# Seconds a SQLite writer waits for another one before giving up with "database is locked"
# (``Settings.sqlite_timeout`` overrides it).
SQLITE_BUSY_TIMEOUT = 30.0
# The backends the engine is written and tested for.
BACKENDS = ("sqlite", "postgresql")
_URL_HINT = "use sqlite:///FILE or postgresql://USER@HOST/DATABASE"
# Plain SQL valid on every backend (no parameters: placeholder styles differ).
_REVISION_SQL = "SELECT revision FROM library_state WHERE id = 1"
# Any constant: serialises concurrent migrations of one PostgreSQL database.
_PG_MIGRATION_LOCK = 0x636F6E74656E74
# How precisely ``last_used_at`` is kept: one write per key per this period at most.
KEY_USE_RESOLUTION = timedelta(minutes=1)
# Key ids are 48 random bits; a clash is astronomically rare, but costs only a retry.
_KEY_ID_ATTEMPTS = 3


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
        kinds = ("settings", "components", "variants", "publications", "files")
        parts = []
        for kind in kinds:
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
        return any(
            counts.written
            for counts in (
                self.settings,
                self.components,
                self.variants,
                self.publications,
                self.files,
            )
        )


def normalize_url(url: str | URL) -> URL:
    """The SQLAlchemy URL to use: plain ``postgresql://`` (or ``postgres://``) means psycopg 3.

    ``InputError`` for what is not a URL of a supported backend (the string is not repeated:
    it may hold a password).
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise InputError(f"the database URL is not a URL: {_URL_HINT}") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend not in BACKENDS:
        raise InputError(
            f"unsupported database {backend!r}: {_URL_HINT}",
            details={"backend": backend, "supported": list(BACKENDS)},
        )
    return parsed


def _now() -> datetime:
    return datetime.now(UTC)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Repository:
    """The library's history and current state in a SQL database.

    Constructing one brings the schema up to date (Alembic, run in-process), so every front end
    can simply open the database it is given. Call ``close()`` (or use ``with``) when done.
    """

    def __init__(self, url: str | URL, *, sqlite_timeout: float = SQLITE_BUSY_TIMEOUT) -> None:
        self.url = normalize_url(url)
        self._guard = _sqlite_file(self.url)
        self._busy_wait = sqlite_timeout
        self.engine = _create_engine(self.url, sqlite_timeout, self._guard)
        self._is_sqlite = self.engine.dialect.name == "sqlite"
        # Whole-library reads need one snapshot; PostgreSQL's default READ COMMITTED gives each
        # statement its own.
        self._reader = (
            self.engine
            if self._is_sqlite
            else self.engine.execution_options(isolation_level="REPEATABLE READ")
        )
        self._writer = self.engine.execution_options(content_engine_write=True)
        # Write transactions ended through this object, committed or not: caches built from
        # this repository re-check at once when it moves (``freshness``).
        self.local_writes = 0
        try:
            self._migrate()
        except DatabaseUnavailable as exc:
            self.engine.dispose()
            guard = self._guard
            reason = guard.why_unusable() if guard is not None else None
            if guard is None or reason is None:
                raise
            # On the command line and in serve's one line at start: name the file.
            raise DatabaseUnavailable(
                f"the database file {guard.path} {reason}", details=exc.details
            ) from exc
        except BaseException:
            self.engine.dispose()
            raise

    def __repr__(self) -> str:
        return f"Repository({self.url.render_as_string(hide_password=True)!r})"

    def __enter__(self) -> Repository:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    def _at_head(self) -> bool:
        """Whether the schema is already current: a cheap read that spares importing Alembic."""
        with self.engine.connect() as conn:
            # Asked first, not found out by an error: a missing table of ours is a fault
            # (``faults``) once the schema exists, but not in a database never migrated.
            if not inspect(conn).has_table("alembic_version"):
                return False
            found = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
            return list(found) == [HEAD_REVISION]

    def _migrate(self) -> None:
        if self._at_head():
            return
        from alembic import command  # importing Alembic costs ~0.4 s; most opens skip it
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("path_separator", "os")
        with self._writer.begin() as conn:
            if not self._is_sqlite:
                # Two processes opening a fresh database at once must not both create tables.
                conn.execute(select(func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    # --- transactions ---------------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._reader.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction holding the library's write lock from its first statement."""
        with self._written(), self._writer.begin() as conn:
            conn.execute(
                select(LibraryState.revision).where(LibraryState.id == 1).with_for_update()
            )
            yield conn

    @contextmanager
    def _written(self) -> Iterator[None]:
        try:
            yield
        finally:
            self.local_writes += 1

    @staticmethod
    def _bump(conn: Connection) -> int:
        return conn.execute(
            update(LibraryState)
            .where(LibraryState.id == 1)
            .values(revision=LibraryState.revision + 1)
            .returning(LibraryState.revision)
        ).scalar_one()

    @staticmethod
    def _revision(conn: Connection) -> int:
        return conn.execute(select(LibraryState.revision).where(LibraryState.id == 1)).scalar_one()

    # --- reading ----------------------------------------------------------------------------

    def revision(self) -> int:
        """The library's revision: a cache built at revision N is stale once this differs.

        Caches ask before every request, so this bypasses SQLAlchemy's statement and
        transaction layers: one indexed single-row SELECT on a pooled DBAPI connection costs
        ~11 µs on SQLite instead of ~60-200 µs. A lone SELECT needs no explicit transaction.
        """
        self.check_file()
        with translated(busy_wait=self._busy_wait):
            connection = self.engine.raw_connection()
            try:
                cursor = connection.cursor()
                try:
                    cursor.execute(_REVISION_SQL)
                    row = cursor.fetchone()
                finally:
                    cursor.close()
            finally:
                connection.close()  # back to the pool, which rolls back whatever psycopg began
        assert row is not None, "library_state row missing: the migrations insert it"
        return int(row[0])

    def check_file(self) -> None:
        """``DatabaseUnavailable`` if a SQLite database file was deleted or replaced since it
        was opened (a no-op for PostgreSQL and in-memory databases)."""
        if self._guard is not None:
            self._guard.check()

    def load_library(self) -> Library:
        """The current library: latest versions, without archived or deleted items."""
        return self.snapshot()[1]

    def snapshot(self) -> tuple[int, Library]:
        """The current library and its revision, read together.

        Reading ``revision()`` and ``load_library()`` separately could pair a library with a
        revision it does not contain; a cache keyed on this pair never misses a change.
        """
        with self._read() as conn:
            revision = self._revision(conn)
            settings = _current_settings(conn) or LibrarySettings()
            components = _current_components(conn)
            publications = _current_publications(conn)
            files = _current_files(conn)
        return revision, Library(
            settings=settings,
            components=_present(components),
            publications=_present(publications),
            files=_present(files),
        )

    def changes_since(
        self, revision: int, *, limit: int = MAX_CHANGED_ITEMS
    ) -> LibraryChanges | None:
        """What was written after ``revision``, as it is now; read in one transaction.

        ``None`` when more than ``limit`` items changed (or ``revision`` is from before
        migration 0005): reading a whole ``snapshot`` is then as quick.
        """
        with self._read() as conn:
            current = self._revision(conn)
            if current == revision:
                return LibraryChanges(current)
            components = _changed(conn, revision, ComponentVersion.id)
            components |= _changed(conn, revision, VariantVersion.component_id)
            publications = _changed(conn, revision, PublicationVersion.id)
            files = _changed(conn, revision, FileVersion.path)
            settings = _changed(conn, revision, SettingsVersion.version)
            if revision <= 0 or len(components) + len(publications) + len(files) > limit:
                return None
            if not (components or publications or files or settings):
                return None  # the revision moved but no row says why: written before 0005
            return LibraryChanges(
                current,
                settings=_current_settings(conn) if settings else None,
                components=_current_components(conn, components),
                publications=_current_publications(conn, publications),
                files=_current_files(conn, files),
            )

    def get_component(self, component_id: str) -> Component:
        """The current component with its current variants; ``NotFound`` if none or archived."""
        with self._read() as conn:
            row = _latest_one(conn, ComponentVersion, {ComponentVersion.id: component_id})
            if row is None or row.archived:
                raise NotFound(
                    f"no component {component_id!r}", details={"component": component_id}
                )
            variants = _current_variants(conn, component_id)
        return _component(row, variants)

    def list_components(self) -> list[Component]:
        """The current components with their current variants, by id (no files are read)."""
        with self._read() as conn:
            components = _present(_current_components(conn))
        return [components[component_id] for component_id in sorted(components)]

    def list_publications(self) -> list[Publication]:
        """The current publications, by id."""
        with self._read() as conn:
            publications = _present(_current_publications(conn))
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
                row = _latest_one(conn, VariantVersion, criteria)
            else:
                row = conn.execute(
                    select(VariantVersion).filter_by(
                        component_id=component_id, key=key, version=version
                    )
                ).first()
        if row is None or row.deleted:
            what = f"variant {component_id}/{key}" + (f" version {version}" if version else "")
            raise NotFound(f"no {what}", details=details)
        return _variant(row)

    def variant_history(self, component_id: str, key: str) -> list[Variant]:
        """Every stored content version of a variant, oldest first.

        Versions that record a deletion are left out; the gap in the version numbers shows
        where the variant was deleted (and, if it goes on, re-created). ``NotFound`` if the
        variant never existed.
        """
        with self._read() as conn:
            rows = conn.execute(
                select(VariantVersion)
                .filter_by(component_id=component_id, key=key)
                .order_by(VariantVersion.version)
            ).all()
        if not rows:
            raise NotFound(
                f"no variant {component_id}/{key}",
                details={"component": component_id, "variant": key},
            )
        return [_variant(row) for row in rows if not row.deleted]

    def get_publication(self, publication_id: str, version: int | None = None) -> Publication:
        """The current publication, or the given ``version``; ``NotFound`` if archived.

        As with ``get_variant``, a given ``version`` is found even if the publication has been
        archived since (only the version that records the archiving is ``NotFound``), so a
        render receipt can be replayed.
        """
        with self._read() as conn:
            if version is None:
                row = _latest_one(conn, PublicationVersion, {PublicationVersion.id: publication_id})
            else:
                row = conn.execute(
                    select(PublicationVersion).filter_by(id=publication_id, version=version)
                ).first()
        if row is None or row.archived:
            what = f"publication {publication_id!r}" + (f" version {version}" if version else "")
            raise NotFound(
                f"no {what}", details={"publication": publication_id, "version": version}
            )
        return _publication(row)

    def component_history(self, component_id: str) -> list[Component]:
        """Every stored metadata version of a component, oldest first, without variants.

        Variants have histories of their own (``variant_history``). Archiving versions are
        left out; the gap in the version numbers shows them. ``NotFound`` if the component
        never existed.
        """
        rows = self._history(ComponentVersion, ComponentVersion.id == component_id)
        if not rows:
            raise NotFound(f"no component {component_id!r}", details={"component": component_id})
        return [_component(row, {}) for row in rows if not row.archived]

    def publication_history(self, publication_id: str) -> list[Publication]:
        """Every stored version of a publication, oldest first (as ``component_history``)."""
        rows = self._history(PublicationVersion, PublicationVersion.id == publication_id)
        if not rows:
            raise NotFound(
                f"no publication {publication_id!r}", details={"publication": publication_id}
            )
        return [_publication(row) for row in rows if not row.archived]

    def _history(self, model: type[Base], *where: Any) -> Sequence[Row[Any]]:
        version: InstrumentedAttribute[int] = getattr(model, "version")  # noqa: B009
        with self._read() as conn:
            return conn.execute(select(model).where(*where).order_by(version)).all()

    # --- writing ----------------------------------------------------------------------------

    def import_library(self, lib: Library) -> ImportReport:
        """Make ``lib`` the library's new state, in one transaction: all of it or nothing.

        Only what differs from the current state gets a new version; items missing from
        ``lib`` get an archived/deleted version (their history stays). Importing the same
        library twice writes nothing the second time and leaves the revision as it was.
        """
        with self._write() as conn:
            now = _now()
            report = ImportReport(revision=self._revision(conn))
            self._import_settings(conn, lib.settings, now, report.settings)
            self._import_components(conn, lib, now, report.components)
            self._import_variants(conn, lib, now, report.variants)
            self._import_publications(conn, lib, now, report.publications)
            self._import_files(conn, lib, now, report.files)
            if report.changed:
                report.revision = self._bump(conn)
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
        _insert(conn, SettingsVersion, [{"version": version, "data": data, "created_at": now}])

    def _import_components(
        self, conn: Connection, lib: Library, now: datetime, counts: ImportCounts
    ) -> None:
        current = {row.id: row for row in _latest(conn, ComponentVersion, (ComponentVersion.id,))}
        rows: list[dict[str, Any]] = []
        for component_id, component in sorted(lib.components.items()):
            row = current.get(component_id)
            if row is None or row.archived:
                counts.created += 1
            elif _component(row, {}).meta_equals(component):
                counts.unchanged += 1
                continue
            else:
                counts.changed += 1
            rows.append(_component_row(component, _next(row), now))
        for component_id, row in sorted(current.items()):
            if component_id not in lib.components and not row.archived:
                counts.archived += 1
                archived = _component(row, {})
                rows.append(_component_row(archived, row.version + 1, now, archived=True))
        _insert(conn, ComponentVersion, rows)

    def _import_variants(
        self, conn: Connection, lib: Library, now: datetime, counts: ImportCounts
    ) -> None:
        # Variants of components missing from ``lib`` stay as they are: archiving the
        # component hides them, and restoring it brings them back unchanged.
        current = {
            (row.component_id, row.key): row
            for row in _latest(
                conn, VariantVersion, (VariantVersion.component_id, VariantVersion.key)
            )
        }
        rows: list[dict[str, Any]] = []
        for component_id, component in sorted(lib.components.items()):
            for key, variant in sorted(component.variants.items()):
                row = current.get((component_id, key))
                if row is None or row.deleted:
                    counts.created += 1
                elif _variant(row).content_equals(variant):
                    counts.unchanged += 1
                    continue
                else:
                    counts.changed += 1
                rows.append(_variant_row(component_id, variant, _next(row), now))
        for (component_id, key), row in sorted(current.items()):
            present = lib.components.get(component_id)
            if present is not None and key not in present.variants and not row.deleted:
                counts.archived += 1
                rows.append(
                    _variant_row(component_id, _variant(row), row.version + 1, now, deleted=True)
                )
        _insert(conn, VariantVersion, rows)

    def _import_publications(
        self, conn: Connection, lib: Library, now: datetime, counts: ImportCounts
    ) -> None:
        current = {
            row.id: row for row in _latest(conn, PublicationVersion, (PublicationVersion.id,))
        }
        rows: list[dict[str, Any]] = []
        for publication_id, publication in sorted(lib.publications.items()):
            row = current.get(publication_id)
            if row is None or row.archived:
                counts.created += 1
            elif _publication(row).content_equals(publication):
                counts.unchanged += 1
                continue
            else:
                counts.changed += 1
            rows.append(_publication_row(publication, _next(row), now))
        for publication_id, row in sorted(current.items()):
            if publication_id not in lib.publications and not row.archived:
                counts.archived += 1
                rows.append(
                    _publication_row(_publication(row), row.version + 1, now, archived=True)
                )
        _insert(conn, PublicationVersion, rows)

    def _import_files(
        self, conn: Connection, lib: Library, now: datetime, counts: ImportCounts
    ) -> None:
        # Compare digests, not bytes: the current files' contents need not be read at all.
        latest = _latest(
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
            digest = _sha256(content)
            if row is None or row.deleted:
                counts.created += 1
            elif row.sha256 == digest:
                counts.unchanged += 1
                continue
            else:
                counts.changed += 1
            rows.append(_file_row(path, content, _next(row), now, digest=digest))
        for path, row in sorted(current.items()):
            if path not in lib.files and not row.deleted:
                counts.archived += 1
                rows.append(_file_row(path, b"", row.version + 1, now, deleted=True))
        _insert(conn, FileVersion, rows)

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
            row = _latest_one(conn, VariantVersion, target.criteria)
            current = _check_version(target, row, expected_version)
            if current is not None and _variant(current).content_equals(variant):
                return _variant(current)
            version = _next(row)
            _insert(conn, VariantVersion, [_variant_row(component_id, variant, version, _now())])
            self._bump(conn)
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
            row = _latest_one(conn, VariantVersion, target.criteria)
            if row is None or row.deleted:
                raise target.not_found()
            _check_version(target, row, expected_version)
            last = _variant(row)
            rows = [_variant_row(component_id, last, row.version + 1, _now(), deleted=True)]
            _insert(conn, VariantVersion, rows)
            self._bump(conn)

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
            row = _latest_one(conn, ComponentVersion, target.criteria)
            current = _check_version(target, row, expected_version)
            variants = _current_variants(conn, component.id)
            if current is not None and _component(current, {}).meta_equals(component):
                return _component(current, variants)
            version = _next(row)
            _insert(conn, ComponentVersion, [_component_row(component, version, _now())])
            self._bump(conn)
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
            row = _latest_one(conn, ComponentVersion, target.criteria)
            if row is None or row.archived:
                raise target.not_found()
            _check_version(target, row, expected_version)
            archived = _component(row, {}).model_copy(update={"version": row.version + 1})
            rows = [_component_row(archived, archived.version, _now(), archived=True)]
            _insert(conn, ComponentVersion, rows)
            self._bump(conn)
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
            row = _latest_one(conn, PublicationVersion, target.criteria)
            current = _check_version(target, row, expected_version)
            if current is not None and _publication(current).content_equals(publication):
                return _publication(current)
            version = _next(row)
            _insert(conn, PublicationVersion, [_publication_row(publication, version, _now())])
            self._bump(conn)
        return publication.model_copy(update={"version": version})

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
                current = _live_version(_latest_one(conn, target.model, target.criteria))
            raise _conflict(target, current, expected_version) from exc

    # --- receipts ---------------------------------------------------------------------------

    def save_receipt(self, receipt: Receipt) -> None:
        """Store a render receipt. ``ConflictError`` if its id is taken.

        Receipts are not library content: saving one leaves the revision alone, so the many
        renders that write receipts never invalidate the caches of rendered blocks.
        """
        values = receipt.model_dump(mode="json")
        values["created_at"] = receipt.created_at
        try:
            with self._writer.begin() as conn:
                conn.execute(insert(RenderReceipt).values(**values))
        except IntegrityError as exc:
            raise ConflictError(
                f"a render receipt {receipt.id!r} already exists", details={"id": receipt.id}
            ) from exc

    def get_receipt(self, receipt_id: str) -> Receipt:
        """A stored render receipt; ``NotFound`` if there is none with that id."""
        with self._read() as conn:
            row = conn.execute(select(RenderReceipt).filter_by(id=receipt_id)).first()
        if row is None:
            raise NotFound(f"no render receipt {receipt_id!r}", details={"id": receipt_id})
        return Receipt.model_validate(row._asdict())

    # --- API keys ---------------------------------------------------------------------------
    # Keys are not library content: writing them leaves the revision (and caches) alone.

    def create_key(self, role: str, name: str = "") -> tuple[KeyInfo, str]:
        """A new key for ``role``: its info and its plaintext ``ce_<id>_<secret>``.

        The plaintext is returned once, to be shown to whoever asked; only its digest is
        stored. ``InputError`` for a role not in ``ROLES``.
        """
        checked = parse_role(role)
        for attempt in range(_KEY_ID_ATTEMPTS):
            key_id, plaintext = new_key()
            info = KeyInfo(id=key_id, name=name, role=checked, created_at=_now())
            try:
                with self._writer.begin() as conn:
                    conn.execute(
                        insert(ApiKey).values(
                            **info.model_dump(exclude={"revoked_at", "last_used_at"}),
                            secret_hash=hash_key(plaintext),
                        )
                    )
            except IntegrityError:
                if attempt == _KEY_ID_ATTEMPTS - 1:
                    raise
                continue
            return info, plaintext
        raise AssertionError("unreachable: the last attempt returns or raises")

    def list_keys(self) -> list[KeyInfo]:
        """Every key, revoked ones included, oldest first; never a secret or a digest."""
        with self._read() as conn:
            rows = conn.execute(
                select(*_KEY_INFO_COLUMNS).order_by(ApiKey.created_at, ApiKey.id)
            ).all()
        return [_key_info(row._asdict()) for row in rows]

    def revoke_key(self, key_id: str) -> KeyInfo:
        """Make a key useless from now on; revoking it again changes nothing.

        The row stays, so receipts that name the key still say whose it was. ``NotFound`` if
        there is no such key.
        """
        with self._written(), self._writer.begin() as conn:
            conn.execute(
                update(ApiKey)
                .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
                .values(revoked_at=_now())
            )
            row = conn.execute(select(*_KEY_INFO_COLUMNS).where(ApiKey.id == key_id)).first()
        if row is None:
            raise NotFound(f"no API key {key_id!r}", details={"key": key_id})
        return _key_info(row._asdict())

    def mark_keys_used(self, key_ids: Iterable[str], at: datetime | None = None) -> int:
        """Record that these keys were used ``at`` (default now); how many rows changed.

        Only rows last marked a minute or more before ``at`` are written, so callers may ask
        often. Not library content and not a key's validity: the revision, the caches and
        ``local_writes`` stay as they are.
        """
        ids = sorted(set(key_ids))
        if not ids:
            return 0
        when = at or _now()
        stale = when - KEY_USE_RESOLUTION
        with self._writer.begin() as conn:
            done = conn.execute(
                update(ApiKey)
                .where(
                    ApiKey.id.in_(ids),
                    (ApiKey.last_used_at.is_(None)) | (ApiKey.last_used_at <= stale),
                )
                .values(last_used_at=when)
            )
        return int(done.rowcount)

    def verify_key(self, presented: str) -> KeyInfo | None:
        """The key ``presented`` stands for, or ``None`` if it is not a valid, unrevoked key.

        Whatever a client sends lands here, so a malformed string is ``None``, never an
        exception; and the digests are compared in constant time.
        """
        return self.verify_keys([presented]).get(presented)

    def verify_keys(self, presented: Iterable[str]) -> dict[str, KeyInfo]:
        """``verify_key`` for many keys in one query: the valid ones, by what was presented."""
        parsed = {given: key for given in presented if (key := parse_key(given)) is not None}
        if not parsed:
            return {}
        with self._read() as conn:
            rows = conn.execute(
                select(*_KEY_INFO_COLUMNS, ApiKey.secret_hash).where(
                    ApiKey.id.in_({key.id for key in parsed.values()}),
                    ApiKey.revoked_at.is_(None),
                )
            ).all()
        by_id = {row.id: row for row in rows}
        valid = {}
        for given, key in parsed.items():
            row = by_id.get(key.id)
            if row is not None and digests_match(key, row.secret_hash):
                valid[given] = _key_info(row._asdict())
        return valid

    # --- workbench sessions -------------------------------------------------------------------

    def start_session(self, key_id: str, ttl: timedelta = SESSION_TTL) -> str:
        """A new session for the key: its token, for the cookie (only its digest is stored).

        Expired sessions are swept here, so the table holds at most a day's sign-ins.
        """
        token, digest = new_session()
        now = _now()
        with self._writer.begin() as conn:
            conn.execute(delete(UiSession).where(UiSession.expires_at <= now))
            conn.execute(
                insert(UiSession).values(
                    token_hash=digest, key_id=key_id, created_at=now, expires_at=now + ttl
                )
            )
        return token

    def session_key(self, token: str) -> KeyInfo | None:
        """The key of a live session (not expired, its key not revoked); ``None`` otherwise.

        Like ``verify_key``, anything a browser sends lands here: never an exception.
        """
        digest = hash_session(token)
        if digest is None:
            return None
        with self._read() as conn:
            row = conn.execute(
                select(*_KEY_INFO_COLUMNS)
                .join(UiSession, UiSession.key_id == ApiKey.id)
                .where(
                    UiSession.token_hash == digest,
                    UiSession.expires_at > _now(),
                    ApiKey.revoked_at.is_(None),
                )
            ).first()
        return None if row is None else _key_info(row._asdict())

    def end_session(self, token: str) -> None:
        """Sign a session out: its token is worthless from now on. Unknown tokens are fine."""
        digest = hash_session(token)
        if digest is None:
            return
        with self._writer.begin() as conn:
            conn.execute(delete(UiSession).where(UiSession.token_hash == digest))


# --- engine -----------------------------------------------------------------------------------


def _sqlite_file(url: URL) -> SqliteFileGuard | None:
    """The guard of a SQLite database file, after checking that the file can be one."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if url.database.startswith("file:") or url.query.get("uri"):
        return None  # a URI filename: SQLite's own options decide (e.g. mode=ro)
    path = Path(url.database)
    if not path.parent.is_dir():
        what = "is not a folder" if path.parent.exists() else "does not exist"
        raise InputError(
            f"folder {path.parent} {what} (for the database file {path.name})",
            details={"path": str(path)},
        )
    if path.exists() and not path.is_file():
        raise InputError(f"{path} is not a database file", details={"path": str(path)})
    return SqliteFileGuard(path)


def _create_engine(
    url: URL, sqlite_timeout: float = SQLITE_BUSY_TIMEOUT, guard: SqliteFileGuard | None = None
) -> Engine:
    try:
        with warnings.catch_warnings():
            # An option the driver ignores (``?foo=bar``) is a typo to report, not to skip.
            warnings.simplefilter("error", SAWarning)
            engine = _new_engine(url, sqlite_timeout)
    except SAWarning as exc:
        raise InputError(
            f"the database URL is not valid: {str(exc).split(' (Background')[0]}"
        ) from None
    except (ImportError, NoSuchModuleError) as exc:
        raise InputError(
            f"the driver for {url.drivername} is not installed ({exc}); "
            "PostgreSQL needs: pip install 'content-engine[pg]'"
        ) from None
    except (ArgumentError, ValueError, TypeError) as exc:  # e.g. ?timeout=abc
        raise InputError(f"the database URL has an option that is not valid: {exc}") from None

    @event.listens_for(engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        # The one place a driver's fault becomes a domain error, whichever statement (BEGIN
        # IMMEDIATE, an INSERT, COMMIT, connecting) of whichever read or write met it.
        fault = fault_of(context.original_exception, busy_wait=sqlite_timeout)
        if fault is None and context.is_disconnect:
            lost = str(context.original_exception).strip().splitlines() or ["no reason given"]
            fault = DatabaseUnavailable(f"the database connection was lost: {lost[0]}")
        if isinstance(fault, DatabaseUnavailable) and guard is not None:
            why = guard.why_unusable()  # "disk I/O error" says less than "a full disk"
            if why is not None:
                fault = DatabaseUnavailable(f"the database file {why}", details=fault.details)
        if fault is not None:
            raise fault from context.original_exception

    if url.get_backend_name() == "sqlite":
        _sqlite_events(engine, url, sqlite_timeout, guard)
    return engine


def _new_engine(url: URL, sqlite_timeout: float) -> Engine:
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if url.database in (None, "", ":memory:"):
        # One shared connection, or every pooled connection would see its own empty database.
        return create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    return create_engine(url, connect_args={"timeout": sqlite_timeout})


def _sqlite_events(
    engine: Engine, url: URL, sqlite_timeout: float, guard: SqliteFileGuard | None
) -> None:
    memory = url.database in (None, "", ":memory:")

    @event.listens_for(engine, "do_connect")
    def _on_do_connect(_dialect: Any, _record: Any, cargs: list[Any], cparams: Any) -> None:
        if guard is None or not guard.opened:
            return
        guard.check()
        # Once the file exists, never let a new connection create an empty one in its place.
        cargs[0] = guard.path.as_uri() + "?mode=rw"
        cparams["uri"] = True

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # sqlite3's own transaction handling does not BEGIN before SELECT or DDL; take it over
        # (the recipe of SQLAlchemy's SQLite documentation) so transactions mean what they say.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if not memory:
                # Readers never block the writer, nor the writer readers.
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={round(sqlite_timeout * 1000)}")
        finally:
            cursor.close()
        if guard is not None:
            guard.record()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if guard is not None:
            guard.check()  # before anything is written into a file nobody will read again
        # A writer takes the write lock at BEGIN: a deferred transaction that reads first and
        # writes later can fail with "database is locked" instead of waiting its turn.
        immediate = conn.get_execution_options().get("content_engine_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


# --- queries ----------------------------------------------------------------------------------


def _latest(
    conn: Connection,
    model: type[Base],
    identity: Sequence[InstrumentedAttribute[Any]],
    *,
    where: Any = None,
    columns: Sequence[InstrumentedAttribute[Any]] | None = None,
) -> Sequence[Row[Any]]:
    """The latest version row of every item of ``model`` (archived/deleted ones included)."""
    version: InstrumentedAttribute[int] = getattr(model, "version")  # noqa: B009
    latest = select(*identity, func.max(version).label("version")).group_by(*identity)
    if where is not None:
        latest = latest.where(where)
    sub = latest.subquery()
    join_on = and_(*(column == sub.c[column.key] for column in identity), version == sub.c.version)
    selected: Iterable[Any] = columns if columns is not None else (model,)
    return conn.execute(select(*selected).join(sub, join_on)).all()


def _latest_one(
    conn: Connection, model: type[Base], criteria: dict[InstrumentedAttribute[Any], Any]
) -> Row[Any] | None:
    version: InstrumentedAttribute[int] = getattr(model, "version")  # noqa: B009
    query = select(model).where(*(column == value for column, value in criteria.items()))
    return conn.execute(query.order_by(version.desc()).limit(1)).first()


def _next(row: Row[Any] | None) -> int:
    return 1 if row is None else int(row.version) + 1


def _insert(conn: Connection, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Add version rows, stamped with the revision the write under way will make.

    Every write inserts its rows and then bumps the revision, under the write lock.
    """
    if rows:  # an executemany with no parameter sets is an error, not a no-op
        revision = Repository._revision(conn) + 1
        conn.execute(insert(model), [row | {"revision": revision} for row in rows])


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
    row = _latest_one(conn, ComponentVersion, {ComponentVersion.id: component_id})
    if row is None or row.archived:
        raise _Target.component(component_id).not_found()


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


def _current_variants(conn: Connection, component_id: str) -> dict[str, Variant]:
    rows = _latest(
        conn,
        VariantVersion,
        (VariantVersion.component_id, VariantVersion.key),
        where=VariantVersion.component_id == component_id,
    )
    return {row.key: _variant(row) for row in rows if not row.deleted}


def _current_components(
    conn: Connection, ids: set[str] | None = None
) -> dict[str, Component | None]:
    """Every component (or those of ``ids``) with its variants; ``None`` for archived ones."""
    variant_rows = _latest(
        conn,
        VariantVersion,
        (VariantVersion.component_id, VariantVersion.key),
        where=None if ids is None else VariantVersion.component_id.in_(ids),
    )
    variants: dict[str, dict[str, Variant]] = {}
    for row in variant_rows:
        if not row.deleted:
            variants.setdefault(row.component_id, {})[row.key] = _variant(row)
    return _current_items(
        conn,
        ComponentVersion,
        ComponentVersion.id,
        ids,
        lambda row: None if row.archived else _component(row, variants.get(row.id, {})),
    )


def _current_publications(
    conn: Connection, ids: set[str] | None = None
) -> dict[str, Publication | None]:
    return _current_items(
        conn,
        PublicationVersion,
        PublicationVersion.id,
        ids,
        lambda row: None if row.archived else _publication(row),
    )


def _current_files(conn: Connection, paths: set[str] | None = None) -> dict[str, bytes | None]:
    return _current_items(
        conn, FileVersion, FileVersion.path, paths, lambda row: None if row.deleted else row.content
    )


def _current_items(
    conn: Connection,
    model: type[Base],
    key: InstrumentedAttribute[str],
    wanted: set[str] | None,
    make: Callable[[Row[Any]], T | None],
) -> dict[str, T | None]:
    """Each item's latest version as ``make`` builds it (``None``: archived or deleted), by
    ``key``: every item, or those ``wanted``, where one with no row at all is ``None`` too."""
    rows = _latest(conn, model, (key,), where=None if wanted is None else key.in_(wanted))
    found: dict[str, T | None] = dict.fromkeys(wanted or ())
    for row in rows:
        found[getattr(row, key.key)] = make(row)
    return found


def _present(found: Mapping[str, T | None]) -> dict[str, T]:
    """What is there now: archived and deleted items (``None``) left out."""
    return {key: value for key, value in found.items() if value is not None}


def _current_settings(conn: Connection) -> LibrarySettings | None:
    row = conn.execute(
        select(SettingsVersion.data).order_by(SettingsVersion.version.desc()).limit(1)
    ).first()
    return LibrarySettings.model_validate(row.data) if row else None


def _changed(conn: Connection, revision: int, column: InstrumentedAttribute[Any]) -> set[Any]:
    """The distinct values of ``column`` in rows written after ``revision``."""
    table = column.class_
    # No DISTINCT: with it SQLite walks the primary key instead of the revision index.
    rows = conn.execute(select(column).where(table.revision > revision))
    return set(rows.scalars())


_KEY_INFO_COLUMNS = (
    ApiKey.id,
    ApiKey.name,
    ApiKey.role,
    ApiKey.created_at,
    ApiKey.revoked_at,
    ApiKey.last_used_at,
)


def _key_info(values: Mapping[str, Any]) -> KeyInfo:
    """A key row as ``KeyInfo``, leaving out the digest even if it was selected."""
    return KeyInfo.model_validate({name: values[name] for name in KeyInfo.model_fields})


# --- rows <-> models --------------------------------------------------------------------------


# Rows are read back under ``STORED``: a name or instant a stricter rule now refuses was
# valid when it was saved, and must not stop the whole library from loading.


def _variant(row: Row[Any]) -> Variant:
    return Variant.model_validate(
        {
            "key": row.key,
            "conditions": Conditions.model_validate(row.conditions),
            "priority": row.priority,
            "status": row.status,
            "valid_from": row.valid_from,
            "valid_until": row.valid_until,
            "body": row.body,
            "version": row.version,
        },
        context=STORED,
    )


def _variant_row(
    component_id: str, variant: Variant, version: int, now: datetime, *, deleted: bool = False
) -> dict[str, Any]:
    return {
        "component_id": component_id,
        "key": variant.key,
        "version": version,
        "conditions": variant.conditions.model_dump(mode="json", exclude_none=True),
        "priority": variant.priority,
        "status": variant.status,
        "valid_from": variant.valid_from,
        "valid_until": variant.valid_until,
        "body": variant.body,
        "deleted": deleted,
        "created_at": now,
    }


def _component(row: Row[Any], variants: dict[str, Variant]) -> Component:
    return Component.model_validate(
        {
            "id": row.id,
            "type": row.type,
            "title": row.title,
            "tags": tuple(row.tags),
            "folder": row.folder,
            "variants": dict(sorted(variants.items())),
            "version": row.version,
        },
        context=STORED,
    )


def _component_row(
    component: Component, version: int, now: datetime, *, archived: bool = False
) -> dict[str, Any]:
    return {
        "id": component.id,
        "version": version,
        "type": component.type,
        "title": component.title,
        "tags": list(component.tags),
        "folder": component.folder,
        "archived": archived,
        "created_at": now,
    }


def _publication(row: Row[Any]) -> Publication:
    return Publication.model_validate(
        {
            "id": row.id,
            "title": row.title,
            "titles": row.titles,
            "layout": row.layout,
            "slots": tuple(Slot.model_validate(slot, context=STORED) for slot in row.slots),
            "version": row.version,
        },
        context=STORED,
    )


def _publication_row(
    publication: Publication, version: int, now: datetime, *, archived: bool = False
) -> dict[str, Any]:
    return {
        "id": publication.id,
        "version": version,
        "title": publication.title,
        "titles": dict(publication.titles),
        "layout": publication.layout,
        "slots": [
            slot.model_dump(mode="json", by_alias=True, exclude_none=True)
            for slot in publication.slots
        ],
        "archived": archived,
        "created_at": now,
    }


def _file_row(
    path: str,
    content: bytes,
    version: int,
    now: datetime,
    *,
    digest: str | None = None,
    deleted: bool = False,
) -> dict[str, Any]:
    return {
        "path": path,
        "version": version,
        "content": content,
        "sha256": digest or _sha256(content),
        "deleted": deleted,
        "created_at": now,
    }
