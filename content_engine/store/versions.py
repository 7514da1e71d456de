"""Queries over the version tables: latest rows, the current state, and stamped inserts.

In: an open ``Connection`` and which items to look at. Out: each item's latest version row,
the current components, variants, publications, files and settings built from those rows
(``None`` for archived or deleted ones), the live versions of variants where a working copy
stands over them, the items changed since a revision, and new version rows inserted with the
revision the write under way will make.

Every table keeps one row per version of an item, never updating one; "current" is always
"the row with the highest version", found by the same grouped subquery. A variant's live
version (``core.working``) is found by it too, over the rows that decide it: its latest
``published`` or ``archived`` version or deletion, live if it is a ``published`` one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    Integer,
    Result,
    Row,
    String,
    Text,
    and_,
    column,
    func,
    insert,
    or_,
    select,
    type_coerce,
    values,
)
from sqlalchemy.orm import InstrumentedAttribute

from content_engine.core.models import Component, LibrarySettings, Publication, Variant
from content_engine.store.database import current_revision
from content_engine.store.mapping import component_of, publication_of, variant_of
from content_engine.store.tables import (
    Base,
    ComponentVersion,
    FileVersion,
    PublicationVersion,
    SettingsVersion,
    VariantVersion,
)

__all__ = [
    "VARIANT_KEY",
    "changed_since",
    "current_components",
    "current_files",
    "current_publications",
    "current_settings",
    "current_variants",
    "insert_versions",
    "latest_row",
    "latest_rows",
    "live_row",
    "live_variants",
    "newest_components",
    "next_version",
    "present",
    "variants_at",
]

T = TypeVar("T")


def latest_rows(
    conn: Connection,
    model: type[Base],
    identity: Sequence[InstrumentedAttribute[Any]],
    *,
    where: Any = None,
    columns: Sequence[Any] | None = None,
) -> Sequence[Row[Any]]:
    """The latest version row of every item of ``model`` (archived/deleted ones included)."""
    return _latest(conn, model, identity, where, columns).all()


def _latest(
    conn: Connection,
    model: type[Base],
    identity: Sequence[InstrumentedAttribute[Any]],
    where: Any,
    columns: Sequence[Any] | None,
) -> Result[Any]:
    version: InstrumentedAttribute[int] = getattr(model, "version")  # noqa: B009
    latest = select(*identity, func.max(version).label("version")).group_by(*identity)
    if where is not None:
        latest = latest.where(where)
    sub = latest.subquery()
    join_on = and_(*(column == sub.c[column.key] for column in identity), version == sub.c.version)
    selected: Iterable[Any] = columns if columns is not None else (model,)
    return conn.execute(select(*selected).join(sub, join_on))


def latest_row(
    conn: Connection, model: type[Base], criteria: dict[InstrumentedAttribute[Any], Any]
) -> Row[Any] | None:
    """The latest version row of the one item ``criteria`` names, or ``None``."""
    version: InstrumentedAttribute[int] = getattr(model, "version")  # noqa: B009
    query = select(model).where(*(column == value for column, value in criteria.items()))
    return conn.execute(query.order_by(version.desc()).limit(1)).first()


def next_version(row: Row[Any] | None) -> int:
    """The version number after ``row``'s; 1 for an item never stored."""
    return 1 if row is None else int(row.version) + 1


def insert_versions(conn: Connection, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Add version rows, stamped with the revision the write under way will make.

    Every write inserts its rows and then bumps the revision, under the write lock.
    """
    if rows:  # an executemany with no parameter sets is an error, not a no-op
        revision = current_revision(conn) + 1
        insert_many(conn, model, [row | {"revision": revision} for row in rows])


def insert_many(conn: Connection, model: type[Base], rows: Sequence[Mapping[str, Any]]) -> None:
    """``rows`` (all with the same keys) inserted in one driver ``executemany``.

    Each value goes through its column type's bind processor, as SQLAlchemy's own executemany
    sends it, but the statement is compiled once and the rows' tuples (or mappings, for a driver
    that names its parameters) are built a column at a time: a first import of 10 k components
    writes 90 k rows, and SQLAlchemy's per-row preparation was over half of storing them.
    """
    keys = list(rows[0])
    compiled = insert(model).compile(dialect=conn.dialect, column_keys=keys)
    columns = model.__table__.columns
    processors = {
        key: columns[key].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        for key in keys
    }
    order = (compiled.positiontup or []) if compiled.positional else keys
    bound = zip(*_columns(rows, order, processors), strict=True)
    if compiled.positional:
        conn.exec_driver_sql(compiled.string, list(bound))
    else:
        conn.exec_driver_sql(compiled.string, [dict(zip(keys, v, strict=True)) for v in bound])


def _columns(
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    processors: Mapping[str, Callable[[Any], Any] | None],
) -> list[list[Any]]:
    """Each key's values over ``rows``, bound: a column at a time, so that a column without a
    processor is one comprehension and one with a processor one ``map`` of it, with no
    Python-level call per value besides the processor's own."""
    columns = []
    for key in keys:
        values = [row[key] for row in rows]
        process = processors[key]
        columns.append(values if process is None else list(map(process, values)))
    return columns


def current_variants(conn: Connection, component_id: str) -> dict[str, Variant]:
    """A component's current variants, by key (deleted ones left out)."""
    rows = latest_rows(
        conn,
        VariantVersion,
        (VariantVersion.component_id, VariantVersion.key),
        where=VariantVersion.component_id == component_id,
    )
    return {row.key: variant_of(row) for row in rows if not row.deleted}


# Rows that decide whether a variant has a live version: the latest of them is it, if published.
_DECIDING = or_(VariantVersion.status.in_(("published", "archived")), VariantVersion.deleted)
VARIANT_KEY = (VariantVersion.component_id, VariantVersion.key)
_CHUNK = 500  # (component, key, version) triples per query, well inside any backend's limit
_ROWS_AT_ONCE = 2_000  # variant rows a load holds at once


def live_row(conn: Connection, component_id: str, key: str) -> Row[Any] | None:
    """The live version row of one variant key, or ``None`` when it has none."""
    query = select(VariantVersion).where(
        VariantVersion.component_id == component_id, VariantVersion.key == key, _DECIDING
    )
    row = conn.execute(query.order_by(VariantVersion.version.desc()).limit(1)).first()
    return row if row is not None and row.status == "published" and not row.deleted else None


def live_variants(
    conn: Connection, working: set[tuple[str, str]], ids: set[str] | None = None
) -> dict[str, dict[str, Variant]]:
    """The live versions of the ``working`` keys (component and key whose latest row is a
    working copy), where there is one, by component and key (``core.working``). ``ids``: the
    components the working keys were found among (default: all)."""
    if not working:
        return {}
    where = _DECIDING if ids is None else and_(_DECIDING, VariantVersion.component_id.in_(ids))
    columns = (*VARIANT_KEY, VariantVersion.version, VariantVersion.status, VariantVersion.deleted)
    deciding = latest_rows(conn, VariantVersion, VARIANT_KEY, where=where, columns=columns)
    wanted = [
        (row.component_id, row.key, row.version)
        for row in deciding
        if (row.component_id, row.key) in working and row.status == "published" and not row.deleted
    ]
    return variants_at(conn, wanted)


def variants_at(
    conn: Connection, triples: Sequence[tuple[str, str, int]]
) -> dict[str, dict[str, Variant]]:
    """The variants stored at exactly these (component, key, version), by component and key."""
    found: dict[str, dict[str, Variant]] = {}
    for start in range(0, len(triples), _CHUNK):
        # A join with the triples as a VALUES list, not a row-value IN: SQLite looks each one
        # up by the primary key, where IN scanned the whole index (160 ms at 800 k rows).
        wanted = (
            values(
                column("component_id", String),
                column("key", String),
                column("version", Integer),
                name="wanted",
            )
            .data(list(triples[start : start + _CHUNK]))
            .cte("wanted")
        )
        on = and_(
            VariantVersion.component_id == wanted.c.component_id,
            VariantVersion.key == wanted.c.key,
            VariantVersion.version == wanted.c.version,
        )
        rows = conn.execute(select(VariantVersion).join(wanted, on))
        for row in rows:
            found.setdefault(row.component_id, {})[row.key] = variant_of(row)
    return found


# A variant row as a load reads it: JSON as the text stored (``variant_of`` decodes each
# distinct text once; PostgreSQL's driver decodes JSONB itself), without ``created_at``.
_LOADED_VARIANT: tuple[Any, ...] = (
    *VARIANT_KEY,
    VariantVersion.version,
    type_coerce(VariantVersion.conditions, Text).label("conditions"),
    VariantVersion.priority,
    VariantVersion.experiment,
    VariantVersion.weight,
    VariantVersion.status,
    VariantVersion.valid_from,
    VariantVersion.valid_until,
    VariantVersion.body,
    type_coerce(VariantVersion.translated_from, Text).label("translated_from"),
    VariantVersion.deleted,
)


def current_components(
    conn: Connection, ids: set[str] | None = None
) -> dict[str, Component | None]:
    """Every component (or those of ``ids``) with its variants; ``None`` for archived ones."""
    return newest_components(conn, ids, live=False)[0]


def newest_components(
    conn: Connection, ids: set[str] | None = None, *, live: bool = True
) -> tuple[dict[str, Component | None], dict[str, dict[str, Variant]]]:
    """``current_components`` (their newest variant versions), and beside them the live
    versions those newest ones stand over as working copies (``live_variants``; with
    ``live=False`` none are read)."""
    result = _latest(
        conn,
        VariantVersion,
        VARIANT_KEY,
        None if ids is None else VariantVersion.component_id.in_(ids),
        _LOADED_VARIANT,
    )
    variants: dict[str, dict[str, Variant]] = {}
    working: set[tuple[str, str]] = set()
    # In parts: the rows of a whole library at once were gigabytes, and what they left
    # behind in the allocator's arenas stayed part of the process for good.
    for part in result.partitions(_ROWS_AT_ONCE):
        for row in part:
            if row.deleted:
                continue
            variants.setdefault(row.component_id, {})[row.key] = variant_of(row)
            if row.status in ("draft", "review"):
                working.add((row.component_id, row.key))
    components = _current_items(
        conn,
        ComponentVersion,
        ComponentVersion.id,
        ids,
        lambda row: None if row.archived else component_of(row, variants.get(row.id, {})),
    )
    return components, live_variants(conn, working, ids) if live else {}


def current_publications(
    conn: Connection, ids: set[str] | None = None
) -> dict[str, Publication | None]:
    return _current_items(
        conn,
        PublicationVersion,
        PublicationVersion.id,
        ids,
        lambda row: None if row.archived else publication_of(row),
    )


def current_files(conn: Connection, paths: set[str] | None = None) -> dict[str, bytes | None]:
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
    rows = latest_rows(conn, model, (key,), where=None if wanted is None else key.in_(wanted))
    found: dict[str, T | None] = dict.fromkeys(wanted or ())
    for row in rows:
        found[getattr(row, key.key)] = make(row)
    return found


def present(found: Mapping[str, T | None]) -> dict[str, T]:
    """What is there now: archived and deleted items (``None``) left out."""
    return {key: value for key, value in found.items() if value is not None}


def current_settings(conn: Connection) -> LibrarySettings | None:
    """The latest library settings, or ``None`` if none were ever imported."""
    row = conn.execute(
        select(SettingsVersion.data).order_by(SettingsVersion.version.desc()).limit(1)
    ).first()
    return LibrarySettings.model_validate(row.data) if row else None


def changed_since(conn: Connection, revision: int, column: InstrumentedAttribute[Any]) -> set[Any]:
    """The distinct values of ``column`` in rows written after ``revision``."""
    table = column.class_
    # No DISTINCT: with it SQLite walks the primary key instead of the revision index.
    rows = conn.execute(select(column).where(table.revision > revision))
    return set(rows.scalars())
