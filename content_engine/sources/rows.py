"""Rows from a system of record as plain data: what a template reads and a receipt stores.

In: the rows one source found (mappings of column to value, from a database, a CSV or JSON
file or an HTTP answer) and whether the source answers ``many``. Out: one row or a list of rows
made of JSON's types only (dates as ISO 8601 text, decimals as numbers, names as text), or
``Failure`` when an answer cannot be kept: bytes, nesting, NUL, a number JSON cannot hold. A
receipt stores these values so that a replay never asks the source again.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from content_engine.core.errors import UnstorableText
from content_engine.core.storable import check

__all__ = ["Failure", "answer", "as_text", "plain"]


class Failure(Exception):
    """A source could not answer; ``reason`` is a few words without any secret."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def plain(value: Any) -> Any:
    """One column's value in JSON's types, or ``Failure``."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise Failure("the answer holds a number JSON cannot hold")
        return value
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise Failure("the answer holds a number JSON cannot hold")
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date | dt.time):  # datetime is a date
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    raise Failure(f"the answer holds a value of type {type(value).__name__}")


def answer(rows: Sequence[Mapping[str, Any]], *, many: bool) -> Any:
    """What a source gives for ``rows``: ``None`` when nothing was found (a single source with
    no row; a ``many`` source finds a possibly empty list), else the row or the rows."""
    if not many and not rows:
        return None
    found = [plain(dict(row)) for row in rows] if many else plain(dict(rows[0]))
    try:
        return check(found)
    except UnstorableText as exc:
        raise Failure(f"the answer cannot be kept: {exc.message}") from None


def as_text(value: Any) -> str:
    """A key column's value as the text a lookup key is compared with (``true``, ``42``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
