"""Version rows <-> models: the one place that knows how an item is laid out in its table.

In: a row of ``component_versions``, ``variant_versions`` or ``publication_versions``, or a
model with its version number and time. Out: the model the row stores, or the column values
of a new version row (``files`` rows too, with their SHA-256).

Rows are read back under ``STORED``: a name or instant a stricter rule now refuses was valid
when it was saved, and must not stop the whole library from loading.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Hashable
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Row

from content_engine.core.instants import parse_instant
from content_engine.core.models import (
    STATUSES,
    Component,
    Conditions,
    Publication,
    Slot,
    Status,
    TranslatedFrom,
    Variant,
)
from content_engine.core.names import STORED
from content_engine.core.table import ComponentHead

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


# Every field is given when a row becomes a model, so every instance's set of given fields is
# this one (pydantic copies it before changing it: ``model_copy``).
_VARIANT_FIELDS = set(Variant.model_fields)
_COMPONENT_FIELDS = set(Component.model_fields)
# Distinct ``conditions`` of the rows read so far, each validated once and shared: a library
# of 800 k variants states a few hundred combinations. Bounded, as the cache of a server
# whose authors keep inventing new ones must be.
_CONDITIONS: dict[Hashable, Conditions] = {}
MAX_SHARED_CONDITIONS = 10_000
_STATUSES: dict[str, Status] = {status: status for status in STATUSES}


_Model = TypeVar("_Model", bound=BaseModel)
_set = object.__setattr__


def _built(model: type[_Model], fields_set: set[str], values: dict[str, Any]) -> _Model:
    """``model.model_construct(fields_set, **values)`` for a model with no aliases, private
    attributes or post-init, given every field in order: what it does, without its loop over
    the fields (a tenth of loading 800 k variants). ``tests/store`` holds it to that."""
    built = model.__new__(model)
    _set(built, "__dict__", values)
    _set(built, "__pydantic_fields_set__", fields_set)
    _set(built, "__pydantic_extra__", None)
    _set(built, "__pydantic_private__", None)
    return built


def _conditions_key(data: Any) -> Hashable:
    """``data`` as a key, cheaply for the usual shape (names and lists of names)."""
    if isinstance(data, dict) and all(
        isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v))
        for v in data.values()
    ):
        return tuple(sorted((k, v if isinstance(v, str) else tuple(v)) for k, v in data.items()))
    return json.dumps(data, sort_keys=True)


def _conditions_of(data: Any) -> Conditions:
    """``data``: the stored JSON, as text or decoded."""
    key = data if isinstance(data, str) else _conditions_key(data)
    found = _CONDITIONS.get(key)
    if found is None:
        found = Conditions.model_validate(json.loads(data) if isinstance(data, str) else data)
        if len(_CONDITIONS) >= MAX_SHARED_CONDITIONS:
            _CONDITIONS.clear()
        _CONDITIONS[key] = found
    return found


def variant_of(row: Row[Any]) -> Variant:
    """The variant a row stores, built without validating it again.

    Every row was validated when it was written (``Strict``: its whole body walked for what a
    store cannot keep); doing it again on each load was most of a large library's start-up, and
    kept a set of field names per variant. What ``STORED`` validation would change
    is changed here: the schedule's ends made aware UTC instants, ``conditions`` validated
    (once per distinct value), repeated names shared.
    """
    status = _STATUSES.get(row.status)
    if status is None:  # no row holds another; if one did, validating says what is wrong
        fields = {name: getattr(row, name) for name in _VARIANT_FIELDS}
        return Variant.model_validate(fields, context=STORED)
    translated = row.translated_from
    if isinstance(translated, str):  # JSON text: ``null`` when there is none
        translated = None if translated == "null" else json.loads(translated)
    valid_from, valid_until = row.valid_from, row.valid_until
    return _built(
        Variant,
        _VARIANT_FIELDS,
        {
            "key": sys.intern(row.key),
            "conditions": _conditions_of(row.conditions),
            "priority": row.priority,
            "experiment": row.experiment,
            "weight": 1.0 if row.weight is None else row.weight,
            "status": status,
            "valid_from": None if valid_from is None else parse_instant(valid_from, bounded=False),
            "valid_until": None
            if valid_until is None
            else parse_instant(valid_until, end_of_day=True, bounded=False),
            "body": row.body,
            "translated_from": None
            if translated is None
            else TranslatedFrom.model_validate(translated, context=STORED),
            "version": row.version,
        },
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
        "experiment": variant.experiment,
        "weight": None if variant.weight == 1 else variant.weight,
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


def component_of(row: Row[Any] | ComponentHead, variants: dict[str, Variant]) -> Component:
    """The component a metadata row (or a head made of one) stores, with ``variants`` (read
    from their own table); built without validating it again, as ``variant_of``."""
    return _built(
        Component,
        _COMPONENT_FIELDS,
        {
            "id": row.id,
            "type": sys.intern(row.type),
            "title": row.title,
            "tags": tuple(sys.intern(tag) for tag in row.tags),
            "folder": sys.intern(row.folder),
            "variants": dict(sorted(variants.items())),
            "version": row.version,
        },
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
