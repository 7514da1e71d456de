"""Render receipts: the record of what one render used, kept to explain or replay it.

In: a ``Receipt`` to store, or the id of one. Out: the stored ``Receipt``; ``ConflictError``
for an id that is taken, ``NotFound`` for one that is not there.

A table of their own beside the library's versions: a receipt names the versions it used,
and those stay readable whatever is edited later.
"""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from content_engine.core.errors import ConflictError, NotFound
from content_engine.core.models import Receipt
from content_engine.store.database import Database
from content_engine.store.tables import RenderReceipt

__all__ = ["Receipts"]


class Receipts(Database):
    """The receipt methods of ``Repository``."""

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
