"""Publications carry their title in other locales too (``titles``), beside ``title``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("publication_versions") as batch:
        batch.add_column(sa.Column("titles", JSON, nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("publication_versions") as batch:
        batch.drop_column("titles")
