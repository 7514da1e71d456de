"""Personal data in receipts ages out: which receipts hold it, whom they concern, when purged.

``render_receipts`` gains ``personal`` (the context still holds customer, product, data or
lookup values) and ``purged_at`` (when a purge dropped them); ``receipt_subjects`` indexes
each receipt by the digests of the identifiers it concerns (``core.retention.subjects``), so an
erasure request finds every receipt of one customer at once. Receipts stored before are
backfilled from their contexts, in chunks.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from pydantic import ValidationError

from content_engine.core.models import Context
from content_engine.core.retention import PERSONAL_PARTS, is_personal, subjects

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
_CHUNK = 500

receipts = sa.table(
    "render_receipts",
    sa.column("id", sa.String()),
    sa.column("context", sa.JSON()),
    sa.column("personal", sa.Boolean()),
)
subject_rows = sa.table(
    "receipt_subjects", sa.column("subject", sa.String()), sa.column("receipt_id", sa.String())
)


def upgrade() -> None:
    with op.batch_alter_table("render_receipts") as batch:
        batch.add_column(
            sa.Column("personal", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("purged_at", TIMESTAMP, nullable=True))
        batch.create_index("ix_render_receipts_personal", ["personal"])
    op.create_table(
        "receipt_subjects",
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("receipt_id", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["receipt_id"],
            ["render_receipts.id"],
            name=op.f("fk_receipt_subjects_receipt_id_render_receipts"),
        ),
        sa.PrimaryKeyConstraint("subject", "receipt_id", name=op.f("pk_receipt_subjects")),
    )
    op.create_index(op.f("ix_receipt_subjects_receipt_id"), "receipt_subjects", ["receipt_id"])
    _backfill(op.get_bind())


def _backfill(conn: sa.Connection) -> None:
    """Mark and index the receipts stored so far, a chunk of them at a time (by id)."""
    after = ""
    while True:
        rows = conn.execute(
            sa.select(receipts.c.id, receipts.c.context)
            .where(receipts.c.id > after)
            .order_by(receipts.c.id)
            .limit(_CHUNK)
        ).all()
        if not rows:
            return
        after = rows[-1].id
        personal: list[dict[str, Any]] = []
        found: list[dict[str, Any]] = []
        for row in rows:
            holds, digests = _judged(row.context)
            if holds:
                personal.append({"rid": row.id})
            found += [{"subject": s, "receipt_id": row.id} for s in sorted(digests)]
        if personal:
            conn.execute(
                sa.update(receipts)
                .where(receipts.c.id == sa.bindparam("rid"))
                .values(personal=True),
                personal,
            )
        if found:
            conn.execute(sa.insert(subject_rows), found)


def _judged(raw: Any) -> tuple[bool, set[str]]:
    """Whether a stored context is personal, and its subjects. One that no longer validates
    (written by an older engine) counts as personal by its raw parts, without subjects."""
    try:
        context = Context.model_validate(raw)
    except ValidationError:
        return isinstance(raw, dict) and any(raw.get(part) for part in PERSONAL_PARTS), set()
    return is_personal(context), subjects(context)


def downgrade() -> None:
    op.drop_table("receipt_subjects")
    with op.batch_alter_table("render_receipts") as batch:
        batch.drop_index("ix_render_receipts_personal")
        batch.drop_column("purged_at")
        batch.drop_column("personal")
