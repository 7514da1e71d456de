"""The first tables: versioned library items, render receipts, the library revision.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out rather than imported from tables.py: a migration must not change when the
# models do.
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    state = op.create_table(
        "library_state",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_library_state_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_state")),
    )
    op.bulk_insert(state, [{"id": 1, "revision": 0}])
    op.create_table(
        "settings_versions",
        sa.Column("version", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("data", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_settings_versions")),
    )
    op.create_table(
        "component_versions",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("folder", sa.Text(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", "version", name=op.f("pk_component_versions")),
    )
    op.create_table(
        "variant_versions",
        sa.Column("component_id", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("conditions", JSON, nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("valid_from", TIMESTAMP, nullable=True),
        sa.Column("valid_until", TIMESTAMP, nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'review', 'published', 'archived')",
            name=op.f("ck_variant_versions_status"),
        ),
        sa.PrimaryKeyConstraint("component_id", "key", "version", name=op.f("pk_variant_versions")),
    )
    op.create_table(
        "publication_versions",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("layout", sa.String(), nullable=False),
        sa.Column("slots", JSON, nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", "version", name=op.f("pk_publication_versions")),
    )
    op.create_table(
        "file_versions",
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("path", "version", name=op.f("pk_file_versions")),
    )
    op.create_table(
        "render_receipts",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("publication", sa.String(), nullable=False),
        sa.Column("publication_version", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("context", JSON, nullable=False),
        sa.Column("used", JSON, nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("preview", sa.Boolean(), nullable=False),
        sa.Column("key_id", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_render_receipts")),
    )
    op.create_index(
        op.f("ix_render_receipts_created_at"), "render_receipts", ["created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_render_receipts_created_at"), table_name="render_receipts")
    for table in (
        "render_receipts",
        "file_versions",
        "publication_versions",
        "variant_versions",
        "component_versions",
        "settings_versions",
        "library_state",
    ):
        op.drop_table(table)
