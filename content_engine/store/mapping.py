"""Version rows <-> models: the one place that knows how an item is laid out in its table.

In: a row of ``component_versions``, ``variant_versions`` or ``publication_versions``, or a
model with its version number and time. Out: the model the row stores, or the column values
of a new version row (``files`` rows too, with their SHA-256).

Rows are read back under ``STORED``: a name or instant a stricter rule now refuses was valid
when it was saved, and must not stop the whole library from loading.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row

from content_engine.core.models import Component, Conditions, Publication, Slot, Variant
from content_engine.core.names import STORED

__all__ = [
    "component_of",
    "component_row",
    "file_row",
    "publication_of",
    "publication_row",
    "sha256",
    "utc_now",
    "variant_of",
    "variant_row",
]


def utc_now() -> datetime:
    """The time new rows are stamped with (``created_at``), aware and in UTC."""
    return datetime.now(UTC)


def sha256(data: bytes) -> str:
    """The hex digest a file row keeps, so imports compare files without reading them."""
    return hashlib.sha256(data).hexdigest()


def variant_of(row: Row[Any]) -> Variant:
    return Variant.model_validate(
        {
            "key": row.key,
            "conditions": Conditions.model_validate(row.conditions),
            "priority": row.priority,
            "status": row.status,
            "valid_from": row.valid_from,
            "valid_until": row.valid_until,
            "body": row.body,
            "translated_from": row.translated_from,
            "version": row.version,
        },
        context=STORED,
    )


def variant_row(
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
        "translated_from": None
        if variant.translated_from is None
        else variant.translated_from.model_dump(mode="json"),
        "deleted": deleted,
        "created_at": now,
    }


def component_of(row: Row[Any], variants: dict[str, Variant]) -> Component:
    """The component a metadata row stores, with ``variants`` (read from their own table)."""
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


def component_row(
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


def publication_of(row: Row[Any]) -> Publication:
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


def publication_row(
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


def file_row(
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
        "sha256": digest or sha256(content),
        "deleted": deleted,
        "created_at": now,
    }
