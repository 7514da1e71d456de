"""Every version row says at which library revision it was written (``revision``).

A server that holds the library at revision N then reads only what changed after N, instead
of the whole library, when the revision moves. Rows written before this migration carry 0:
older than any revision a running engine can hold once it is applied.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "settings_versions",
    "component_versions",
    "variant_versions",
    "publication_versions",
    "file_versions",
)


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("revision", sa.Integer(), nullable=False, server_default="0")
            )
            batch.create_index(f"ix_{table}_revision", ["revision"])


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_revision")
            batch.drop_column("revision")
