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

import sys
from collections.abc import Hashable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection

from content_engine.core.models import Component, Variant
from content_engine.core.table import ComponentHead
from content_engine.core.working import WORKING_STATUSES
from content_engine.store.mapping import component_of
from content_engine.store.tables import ComponentVersion, VariantVersion
from content_engine.store.versions import (
    VARIANT_KEY,
    latest_rows,
    latest_select,
    live_versions,
    variants_at,
)

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
    columns = (*VARIANT_KEY, VariantVersion.version, VariantVersion.status, VariantVersion.deleted)
    newest: dict[str, dict[str, int]] = {}
    working: set[tuple[str, str]] = set()
    result = conn.execute(latest_select(VariantVersion, VARIANT_KEY, columns=columns))
    for part in result.partitions(_ROWS_AT_ONCE):
        for cid, key, version, status, deleted in part:
            if deleted:
                continue
            newest.setdefault(cid, {})[key] = version
            if status in WORKING_STATUSES:
                working.add((cid, key))
    live = live_versions(conn, working)
    copies = variants_at(conn, [(cid, key, newest[cid][key]) for cid, key in live])
    for (cid, key), version in live.items():
        newest[cid][key] = version
    shared: dict[Hashable, Any] = {}
    heads: dict[str, ComponentHead] = {}
    for row in latest_rows(conn, ComponentVersion, (ComponentVersion.id,)):
        if row.archived:
            continue
        held = sorted(newest.get(row.id, {}).items())
        heads[row.id] = ComponentHead(
            row.id,
            sys.intern(row.type),
            row.title,
            _shared(shared, tuple(sys.intern(tag) for tag in row.tags)),
            sys.intern(row.folder),
            row.version,
            _shared(shared, tuple(sys.intern(key) for key, _ in held)),
            _shared(shared, tuple(version for _, version in held)),
        )
    return heads, {cid: found for cid, found in copies.items() if cid in heads}


def _shared(shared: dict[Hashable, Any], value: H) -> H:
    """One object for every equal tuple: most components share their keys and versions."""
    found: H = shared.setdefault(value, value)
    return found
