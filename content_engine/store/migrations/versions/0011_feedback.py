"""Feedback and experiments (CONTRACT 9): arms on variants, signing keys, answers, exposures.

``variant_versions`` gains ``experiment`` and ``weight`` (NULL: no experiment, weight 1).
``feedback_keys`` holds the secrets feedback tokens are signed with (the newest signs, every
one verifies); ``feedback_answers`` one row per token and metric (a second answer replaces
the first); ``feedback_exposures`` counts, per hour and per group of what was shown (component,
variant, version, arm and the reader's dimensions), how many answers were sent out.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_TYPE = sa.JSON().with_variant(JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def _shown() -> list[sa.Column[object]]:
    """What was shown, as both answers and exposures record it."""
    return [
        sa.Column("component", sa.String(), nullable=True),
        sa.Column("variant", sa.String(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("experiment", sa.String(length=64), nullable=True),
        sa.Column("arm", sa.String(), nullable=True),
        sa.Column("locale", sa.String(), nullable=True),
        sa.Column("role", sa.String(), nullable=True),
        sa.Column("region", sa.String(), nullable=True),
        sa.Column("channel", sa.String(), nullable=True),
        sa.Column("segments", JSON_TYPE, nullable=False),
    ]


def upgrade() -> None:
    with op.batch_alter_table("variant_versions") as batch:
        batch.add_column(sa.Column("experiment", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("weight", sa.Float(), nullable=True))
    op.create_table(
        "feedback_keys",
        sa.Column("id", sa.String(length=12), nullable=False),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_keys")),
    )
    op.create_table(
        "feedback_answers",
        sa.Column("token_id", sa.String(length=64), nullable=False),
        sa.Column("metric", sa.String(length=8), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("reader", sa.String(length=32), nullable=True),
        sa.Column("receipt_id", sa.String(), nullable=True),
        *_shown(),
        sa.Column("issued_at", TIMESTAMP, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("answered_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("token_id", "metric", name=op.f("pk_feedback_answers")),
    )
    for column in ("reader", "receipt_id", "component", "answered_at"):
        op.create_index(op.f(f"ix_feedback_answers_{column}"), "feedback_answers", [column])
    op.create_table(
        "feedback_exposures",
        sa.Column("hour", TIMESTAMP, nullable=False),
        sa.Column("group_id", sa.String(length=64), nullable=False),
        *_shown(),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "group_id", name=op.f("pk_feedback_exposures")),
    )
    op.create_index(op.f("ix_feedback_exposures_component"), "feedback_exposures", ["component"])


def downgrade() -> None:
    op.drop_table("feedback_exposures")
    op.drop_table("feedback_answers")
    op.drop_table("feedback_keys")
    with op.batch_alter_table("variant_versions") as batch:
        batch.drop_column("weight")
        batch.drop_column("experiment")
