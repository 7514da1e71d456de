"""Variants record the variant they were translated from (``translated_from``).

A translation made from another variant (the workbench's "new variant from it", XLIFF import)
names its source variant and the version it was made from, so that a later change of the
source can be seen as drift. Versions stored before carry none (NULL).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_TYPE = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("variant_versions") as batch:
        batch.add_column(sa.Column("translated_from", JSON_TYPE, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("variant_versions") as batch:
        batch.drop_column("translated_from")
