"""Render receipts: the record of what one render used, kept to explain or replay it.

In: a ``Receipt`` to store, or the id of one; or what to purge (receipts older than a moment,
those of one subject). Out: the stored ``Receipt``; ``ConflictError`` for an id that is taken,
``NotFound`` for one that is not there; how many receipts a purge dropped the personal data of.

A table of their own beside the library's versions: a receipt names the versions it used,
and those stay readable whatever is edited later. Each receipt says whether its context holds
personal data, and ``receipt_subjects`` indexes it by whom that data concerns
(``core.retention``), so that a purge finds its receipts by index on every backend rather than
by reading every context.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from content_engine.core.errors import ConflictError, NotFound
from content_engine.core.models import Receipt
from content_engine.core.retention import is_personal, purged_json, subject_digest, subjects
from content_engine.store.database import Database
from content_engine.store.tables import ReceiptSubject, RenderReceipt

__all__ = ["Receipts"]

# Receipts purged per transaction: a purge of years of receipts holds the write lock a
# moment at a time, so renders storing their receipts meanwhile wait a moment at most.
PURGE_CHUNK = 500


class Receipts(Database):
    """The receipt methods of ``Repository``."""

    def save_receipt(self, receipt: Receipt) -> None:
        """Store a render receipt, indexed by its subjects. ``ConflictError`` if its id is taken.

        Receipts are not library content: saving one leaves the revision alone, so the many
        renders that write receipts never invalidate the caches of rendered blocks.
        """
        values = receipt.model_dump(mode="json")
        values["created_at"] = receipt.created_at
        values["purged_at"] = receipt.purged_at
        values["personal"] = receipt.purged_at is None and is_personal(receipt.context)
        found = sorted(subjects(receipt.context)) if values["personal"] else []
        try:
            with self._writer.begin() as conn:
                conn.execute(insert(RenderReceipt).values(**values))
                if found:
                    conn.execute(
                        insert(ReceiptSubject),
                        [{"subject": s, "receipt_id": receipt.id} for s in found],
                    )
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

    def purge_receipts(
        self,
        *,
        before: datetime | None = None,
        subject: str | None = None,
        dry_run: bool = False,
        at: datetime | None = None,
    ) -> int:
        """Drop the personal data of the receipts created before ``before`` and/or concerning
        ``subject`` (an identifier, as ``core.retention`` defines them); how many there were.

        At least one of the two is needed (``ValueError``: purging everything is no one's
        intent). Each keeps what audit needs (``core.retention.purged``), is marked with
        ``at`` (default now) and leaves the subject index. ``dry_run``: count only.
        """
        if before is None and subject is None:
            raise ValueError("purge_receipts needs before= or subject=")
        where: list[Any] = [RenderReceipt.personal]
        if before is not None:
            where.append(RenderReceipt.created_at < before)
        if subject is not None:
            concerned = select(ReceiptSubject.receipt_id).where(
                ReceiptSubject.subject == subject_digest(subject.strip())
            )
            where.append(RenderReceipt.id.in_(concerned))
        if dry_run:
            with self._read() as conn:
                return int(
                    conn.execute(
                        select(func.count()).select_from(RenderReceipt).where(*where)
                    ).scalar_one()
                )
        when = at or datetime.now(UTC)
        total = 0
        while True:
            with self._writer.begin() as conn:
                done = _purge_chunk(conn, where, when)
            total += done
            if done < PURGE_CHUNK:
                return total


def _purge_chunk(conn: Connection, where: list[Any], when: datetime) -> int:
    """Purge up to ``PURGE_CHUNK`` of the receipts ``where`` selects; how many it did."""
    rows = conn.execute(
        select(RenderReceipt.id, RenderReceipt.context).where(*where).limit(PURGE_CHUNK)
    ).all()
    if not rows:
        return 0
    ids = [row.id for row in rows]
    kept = [{"rid": row.id, "kept": purged_json(row.context)} for row in rows]
    conn.execute(
        update(RenderReceipt)
        .where(RenderReceipt.id == bindparam("rid"))
        .values(context=bindparam("kept"), personal=False, purged_at=when),
        kept,
    )
    conn.execute(delete(ReceiptSubject).where(ReceiptSubject.receipt_id.in_(ids)))
    return len(rows)
