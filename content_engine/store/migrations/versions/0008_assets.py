"""Assets for the web: receipts pin the asset URLs their output named.

Block and page HTML now refer to assets by content-addressed URLs (``/assets/<hash>/<path>``)
instead of inlining them. The files themselves were versioned with their SHA-256 in
``file_versions`` from the start, so every stored version is already reachable by its hash;
what a replay needs besides is the URL each asset had when the receipt was written. Receipts
written before have none (NULL), and replay inlines their assets as they were rendered.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_TYPE = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("render_receipts") as batch:
        batch.add_column(sa.Column("assets", JSON_TYPE, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("render_receipts") as batch:
        batch.drop_column("assets")
