"""Personal data in a receipt's context: what it is, whom it concerns, and the context without it.

In: a ``Context`` (a receipt's, as filled from the data sources). Out: whether it holds
personal data, the subjects it concerns (as the digests the store indexes them by), and the
context a purge keeps.

A purge drops the context's personal parts whole (``customer``, ``product``, ``data`` and
``lookup``) rather than picking fields: which of a system's fields identify a person is not
the engine's to guess, and a part left out cannot leak. What it keeps says how the render was
chosen, for audit: locale, segments (after the segment rules), role, region, channel and the
moment. Its publication, versions, blocks and digest of the output stay on the receipt.

The subjects of a context are the identifiers an erasure request can name: the customer's
``id`` (given by the caller or filled by a source named ``customer``), every lookup value
(``serial``, ``customer_id``: what the caller looked the data up by), and the ``customer_id``
of every row another source gave (an installation names its owner). Only text and whole
numbers count; each is kept as the SHA-256 of its text, so the index holds no identifier in
the clear and every entry has one size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from typing import Any

from content_engine.core.models import Context

__all__ = [
    "MAX_SUBJECTS",
    "PERSONAL_PARTS",
    "is_personal",
    "purged",
    "purged_json",
    "subject_digest",
    "subjects",
]

PERSONAL_PARTS = ("customer", "product", "data", "lookup")
# A context names few people; a source answering thousands of rows must not make a receipt
# write thousands of index rows.
MAX_SUBJECTS = 64
# Longer "identifiers" are not ids anyone sends in an erasure request.
_MAX_ID_CHARS = 256


def is_personal(context: Context) -> bool:
    """Whether ``context`` holds anything a purge would drop."""
    return any(getattr(context, part) for part in PERSONAL_PARTS)


def purged(context: Context) -> Context:
    """``context`` without its personal parts."""
    return context.model_copy(update={part: {} for part in PERSONAL_PARTS})


def purged_json(stored: Mapping[str, Any]) -> dict[str, Any]:
    """``purged`` for a context as stored (JSON), whichever engine wrote it: a purge must not
    stop at a context that today's model would no longer read."""
    return {**stored, **{part: {} for part in PERSONAL_PARTS}}


def subject_digest(identifier: str) -> str:
    """How an identifier is indexed and looked up: the SHA-256 of its text, in hex."""
    return hashlib.sha256(identifier.encode("utf-8", "surrogatepass")).hexdigest()


def subjects(context: Context) -> set[str]:
    """The digests of the identifiers ``context`` concerns (at most ``MAX_SUBJECTS``)."""
    found: set[str] = set()
    for identifier in _identifiers(context):
        found.add(subject_digest(identifier))
        if len(found) >= MAX_SUBJECTS:
            break
    return found


def _identifiers(context: Context) -> Iterator[str]:
    yield from _ids(context.customer.get("id"))
    for value in context.lookup.values():
        yield from _ids(value)
    for rows in context.data.values():
        for row in rows if isinstance(rows, list) else [rows]:
            if isinstance(row, dict):
                yield from _ids(row.get("customer_id"))


def _ids(value: Any) -> Iterator[str]:
    # bool is an int: ``True`` names nobody.
    if isinstance(value, int) and not isinstance(value, bool):
        yield str(value)
    elif isinstance(value, str) and value.strip() and len(value) <= _MAX_ID_CHARS:
        yield value.strip()
