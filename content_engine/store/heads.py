"""The served library as heads, and whole components fetched for heads (``core.table``).

In: an open ``Connection``. Out: each current component's head (its metadata row and the
version of each variant the live library holds: the live version where a working copy stands
over one, else the newest, as ``core.working`` says), the working overlay over them as whole
variants, and, for any heads, the whole components those versions make.

A load reads five small columns of the variant rows, no body: at 100 k components that is
what made start-up seconds instead of most of a minute. Version rows never change once
written, so a component fetched later for its head is the one the load saw.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Hashable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import ClauseElement, Connection, Text, select, type_coerce

from content_engine.core.models import Component, Variant
from content_engine.core.table import ComponentHead
from content_engine.core.working import held_of
from content_engine.store.mapping import component_of
from content_engine.store.tables import ComponentVersion, VariantVersion
from content_engine.store.versions import VARIANT_KEY, variants_at

__all__ = ["components_for", "library_heads"]

_ROWS_AT_ONCE = 5_000

H = TypeVar("H", bound=Hashable)


def components_for(conn: Connection, heads: Sequence[ComponentHead]) -> dict[str, Component]:
    """The whole component each head stands for: its metadata and exactly its versions."""
    triples = [
        (head.id, key, version) for head in heads for key, version in head.variant_versions()
    ]
    variants = variants_at(conn, triples)
    return {head.id: component_of(head, variants.get(head.id, {})) for head in heads}


def library_heads(
    conn: Connection,
) -> tuple[dict[str, ComponentHead], dict[str, dict[str, Variant]]]:
    """Every current component's head, and the working copies over live versions."""
    held, over = _held_versions(conn)
    copies = variants_at(conn, over)
    shared: dict[Hashable, Any] = {}
    heads: dict[str, ComponentHead] = {}
    for cid, version, type_, title, tags, folder, archived in _newest_components(conn):
        if archived:
            continue
        versions = sorted(held.get(cid, {}).items())
        heads[cid] = ComponentHead(
            cid,
            sys.intern(type_),
            title,
            _shared(shared, tuple(sys.intern(tag) for tag in _tags(shared, tags))),
            sys.intern(folder),
            version,
            _shared(shared, tuple(sys.intern(key) for key, _ in versions)),
            _shared(shared, tuple(version for _, version in versions)),
        )
    return heads, {cid: found for cid, found in copies.items() if cid in heads}


def _held_versions(
    conn: Connection,
) -> tuple[dict[str, dict[str, int]], list[tuple[str, str, int]]]:
    """The version of each key the live library holds, by component and key, and the working
    copies standing over a live version (``core.working.held_of``), in one pass in key order.

    Most keys have one version, which is held unless it records a deletion: that case is
    settled in the loop, the others by ``held_of``.
    """
    held: dict[str, dict[str, int]] = {}
    over: list[tuple[str, str, int]] = []
    columns = (*VARIANT_KEY, VariantVersion.version, VariantVersion.status, VariantVersion.deleted)
    in_order = select(*columns).order_by(*VARIANT_KEY, VariantVersion.version)
    previous: tuple[Any, ...] | None = None
    history: list[tuple[Any, ...]] | None = None  # the current key's rows, once it has two

    def settle(last: tuple[Any, ...], rows: list[tuple[Any, ...]] | None) -> None:
        if rows is None:
            if not last[4]:
                held.setdefault(last[0], {})[last[1]] = last[2]
            return
        found = held_of([(row[2], row[3], bool(row[4])) for row in rows])
        if found is not None:
            held.setdefault(last[0], {})[last[1]] = found[0]
            if found[1] is not None:
                over.append((last[0], last[1], found[1]))

    for row in _driver_rows(conn, in_order):
        if previous is not None and row[1] == previous[1] and row[0] == previous[0]:
            if history is None:
                history = [previous]
            history.append(row)
        else:
            if previous is not None:
                settle(previous, history)
            history = None
        previous = row
    if previous is not None:
        settle(previous, history)
    return held, over


def _newest_components(conn: Connection) -> Iterator[tuple[Any, ...]]:
    """Each component's newest metadata row: (id, version, type, title, tags, folder,
    archived), the tags as stored (JSON text on SQLite)."""
    c = ComponentVersion
    columns = (c.id, c.version, c.type, c.title, type_coerce(c.tags, Text), c.folder, c.archived)
    newest: dict[str, tuple[Any, ...]] = {}
    for row in _driver_rows(conn, select(*columns).order_by(c.id, c.version)):
        newest[row[0]] = row
    return iter(newest.values())


def _tags(shared: dict[Hashable, Any], stored: Any) -> list[str]:
    """Tags as stored: JSON text (decoded once per distinct text) or the driver's list."""
    if not isinstance(stored, str):
        return list(stored)
    found: list[str] | None = shared.get(("tags", stored))
    if found is None:
        found = json.loads(stored)
        shared[("tags", stored)] = found
    return found


def _driver_rows(conn: Connection, statement: ClauseElement) -> Iterator[tuple[Any, ...]]:
    """The rows of a statement without parameters as the driver's own tuples: a load's 800 k
    rows made into SQLAlchemy rows were most of its time."""
    cursor = conn.connection.cursor()  # this transaction's connection
    try:
        cursor.execute(str(statement.compile(dialect=conn.dialect)))
        while part := cursor.fetchmany(_ROWS_AT_ONCE):
            yield from part
    finally:
        cursor.close()


def _shared(shared: dict[Hashable, Any], value: H) -> H:
    """One object for every equal tuple: most components share their keys and versions."""
    found: H = shared.setdefault(value, value)
    return found
