"""Render receipts record their blocks in order, so a replay assembles the same document.

Revision ID: 0003
Revises: 0002
Create Date: 2025-01-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    # Receipts written before this revision did not record blocks: they read back as none.
    with op.batch_alter_table("render_receipts") as batch:
        batch.add_column(sa.Column("blocks", JSON, nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("render_receipts") as batch:
        batch.drop_column("blocks")
