"""Instants of a schedule (``valid_from``, ``valid_until``, ``at``): ISO 8601 or a bare date in,
an aware UTC ``datetime`` out, and back the way an author writes it.

Bounded a day inside ``datetime``'s range at each end, so that every way the engine writes an
instant back stays representable; an overflow is a ``ValueError`` (pydantic would let an
``OverflowError`` through as a 500).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

__all__ = ["EARLIEST", "LATEST", "as_utc", "format_instant", "parse_instant"]


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Instants a schedule may hold: a day inside datetime's range at each end, so that every
# way the engine writes one back (a bare date for the day before a ``valid_until`` midnight,
# another time zone) stays representable and reads back as the same instant.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)


def parse_instant(value: Any, *, end_of_day: bool = False, bounded: bool = True) -> datetime | None:
    """ISO 8601 to an aware UTC datetime; a bare date is the start (or end) of that day.

    ``bounded``: between ``EARLIEST`` and ``LATEST``; only rows stored before that bound
    existed are read without it.
    """
    try:
        instant = _parse_instant(value, end_of_day)
    except OverflowError:
        # 9999-12-31T23:00-05:00 is past datetime.max in UTC. Validators must raise ValueError:
        # pydantic lets an OverflowError through, and the API would answer 500.
        raise ValueError(f"out of range: {value!r}") from None
    if bounded and instant is not None and not EARLIEST <= instant <= LATEST:
        raise ValueError(
            f"out of range: {value!r} (from {EARLIEST.date()} to {LATEST.date()} are allowed)"
        )
    return instant


def format_instant(value: datetime, *, end_of_day: bool) -> date | str:
    """As an author writes it: a bare date when the instant is a day boundary, else ISO 8601
    in UTC. A bare ``valid_until`` date means the end of that day, so its midnight is written
    as the day before. ``parse_instant`` reads either back as the same instant. Total: an
    instant stored before the bounds existed is written in ISO form rather than failing."""
    value = value.astimezone(UTC)
    if value.timetz() == time(tzinfo=UTC) and (value >= EARLIEST or not end_of_day):
        return (value - timedelta(days=1)).date() if end_of_day else value.date()
    return value.isoformat().replace("+00:00", "Z")


def _parse_instant(value: Any, end_of_day: bool) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, date):
        start = datetime.combine(value, time(), tzinfo=UTC)
        return start + timedelta(days=1) if end_of_day else start
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return _parse_instant(date.fromisoformat(text), end_of_day)
        return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    raise ValueError(f"not a date or time: {value!r}")
