"""The repository's tables: every version of every library item, kept forever.

In: nothing. Out: typed SQLAlchemy ORM classes. The schema itself is created by the Alembic
migrations in ``migrations/versions``; a test checks that these classes and the migrations
describe the same tables.

Each versioned table's primary key is ``(identity..., version)``. That index is also the one
"latest version of X" needs: ``WHERE id = ? ORDER BY version DESC LIMIT 1`` and
``GROUP BY id`` with ``max(version)`` both walk it, so no further index is declared.
Nothing is ever updated or deleted except the single ``library_state`` row, an API key's
``revoked_at`` (set once) and ``last_used_at``, the workbench's ``ui_sessions`` (deleted at
sign-out and expiry), and a render receipt's context when its personal data is purged (with
its ``receipt_subjects`` rows): removal is a new version with ``archived`` (components,
publications) or ``deleted`` (variants, files) set.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    false,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "ApiKey",
    "Base",
    "ComponentVersion",
    "FeedbackAnswer",
    "FeedbackExposure",
    "FeedbackKey",
    "FileVersion",
    "LibraryState",
    "PublicationVersion",
    "ReceiptSubject",
    "RenderReceipt",
    "SettingsVersion",
    "UTCDateTime",
    "UiSession",
    "VariantVersion",
]

# Names for constraints, so that later migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSONB on PostgreSQL: compact, and comparable/indexable should a later query need it.
JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend.

    SQLite has no time zones: values are stored as naive UTC there. A naive datetime is a bug in
    the caller (it would be silently read back as UTC), so it is refused.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the repository stores aware times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 (SQLAlchemy reads this class attribute)
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
        str: String(),
        bytes: LargeBinary(),
    }


class LibraryState(Base):
    """One row. ``revision`` grows with every library write, so a cache in any process can
    tell with one cheap query whether its copy is stale."""

    __tablename__ = "library_state"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    revision: Mapped[int]


class SettingsVersion(Base):
    __tablename__ = "settings_versions"

    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    data: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    # The library revision this row made (0: written before migration 0005).
    revision: Mapped[int] = mapped_column(server_default="0", index=True)


class ComponentVersion(Base):
    """A component's metadata; its variants are versioned on their own."""

    __tablename__ = "component_versions"

    id: Mapped[str] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    type: Mapped[str]
    title: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[Any]]
    folder: Mapped[str] = mapped_column(Text)
    archived: Mapped[bool]
    created_at: Mapped[datetime]
    # The library revision this row made (0: written before migration 0005).
    revision: Mapped[int] = mapped_column(server_default="0", index=True)


class VariantVersion(Base):
    """A variant's conditions and body. A ``deleted`` row repeats the last content."""

    __tablename__ = "variant_versions"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'review', 'published', 'archived')", name="status"),
        # What a load reads of every row, in key order, without the rows (migration 0012).
        Index("ix_variant_versions_heads", "component_id", "key", "version", "status", "deleted"),
    )

    component_id: Mapped[str] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    conditions: Mapped[dict[str, Any]]
    priority: Mapped[int]
    # The experiment this variant is an arm of and its weight (migration 0011); NULL: none,
    # and the default weight 1.
    experiment: Mapped[str | None] = mapped_column(String(64))
    weight: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))
    valid_from: Mapped[datetime | None]
    valid_until: Mapped[datetime | None]
    body: Mapped[str] = mapped_column(Text)
    # The variant and version this one was translated from (migration 0009); NULL: none.
    translated_from: Mapped[dict[str, Any] | None]
    deleted: Mapped[bool]
    created_at: Mapped[datetime]
    # The library revision this row made (0: written before migration 0005).
    revision: Mapped[int] = mapped_column(server_default="0", index=True)


class PublicationVersion(Base):
    __tablename__ = "publication_versions"

    id: Mapped[str] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(Text)
    titles: Mapped[dict[str, Any]] = mapped_column(server_default="{}")
    layout: Mapped[str]
    slots: Mapped[list[Any]]
    archived: Mapped[bool]
    created_at: Mapped[datetime]
    # The library revision this row made (0: written before migration 0005).
    revision: Mapped[int] = mapped_column(server_default="0", index=True)


class FileVersion(Base):
    """A file under ``assets/`` or ``renderers/``. A ``deleted`` row carries no bytes: files
    can be large, and the previous version still holds them."""

    __tablename__ = "file_versions"

    path: Mapped[str] = mapped_column(Text, primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    content: Mapped[bytes]
    sha256: Mapped[str] = mapped_column(String(64))
    deleted: Mapped[bool]
    created_at: Mapped[datetime]
    # The library revision this row made (0: written before migration 0005).
    revision: Mapped[int] = mapped_column(server_default="0", index=True)


class RenderReceipt(Base):
    """What one render used, so it can be audited and replayed."""

    __tablename__ = "render_receipts"

    id: Mapped[str] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    publication: Mapped[str]
    publication_version: Mapped[int]
    format: Mapped[str] = mapped_column(String(16))
    context: Mapped[dict[str, Any]]
    used: Mapped[list[Any]]
    # Which block came from where, in order (``ReceiptBlock``s); older receipts have none.
    blocks: Mapped[list[Any]] = mapped_column(server_default="[]")
    sha256: Mapped[str] = mapped_column(String(64))
    preview: Mapped[bool]
    key_id: Mapped[str | None]
    # The asset URLs the output named, by library path (migration 0008); NULL: assets were
    # inlined, as every render before 0008 did.
    assets: Mapped[dict[str, Any] | None]
    # Whether the context still holds personal data (``core.retention``), so a purge finds
    # what it has to do by an index rather than by reading every context (migration 0010).
    personal: Mapped[bool] = mapped_column(server_default=false(), index=True)
    # When a purge dropped that data; NULL: never purged.
    purged_at: Mapped[datetime | None]


class ReceiptSubject(Base):
    """Which receipts concern whom: one row per receipt and subject (the SHA-256 of an
    identifier, ``core.retention.subjects``), so that an erasure request finds them all at
    once. Rows go with the personal data they point at, when the receipt is purged."""

    __tablename__ = "receipt_subjects"

    subject: Mapped[str] = mapped_column(String(64), primary_key=True)
    receipt_id: Mapped[str] = mapped_column(
        ForeignKey("render_receipts.id"), primary_key=True, index=True
    )


class ApiKey(Base):
    """One API key: its role and the SHA-256 of the key, never the key itself (see keys.py)."""

    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint("role IN ('reader', 'agent', 'editor', 'admin')", name="role"),
    )

    id: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    # Written at most once a minute per key (``Repository.mark_keys_used``).
    last_used_at: Mapped[datetime | None]


class UiSession(Base):
    """A workbench session: the SHA-256 of its cookie's token, whose key, until when."""

    __tablename__ = "ui_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(12), ForeignKey("api_keys.id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class FeedbackKey(Base):
    """A secret feedback tokens are signed with (``core.feedback``): the newest signs, every
    one held verifies; it never leaves the store but to the engine."""

    __tablename__ = "feedback_keys"

    id: Mapped[str] = mapped_column(String(12), primary_key=True)
    secret: Mapped[bytes]
    created_at: Mapped[datetime]


class _Shown:
    """What was shown: the columns answers and exposures share."""

    component: Mapped[str | None]
    variant: Mapped[str | None]
    version: Mapped[int | None]
    experiment: Mapped[str | None] = mapped_column(String(64))
    arm: Mapped[str | None]
    locale: Mapped[str | None]
    role: Mapped[str | None]
    region: Mapped[str | None]
    channel: Mapped[str | None]
    segments: Mapped[list[Any]]


class FeedbackAnswer(_Shown, Base):
    """One answer per token and metric; answering again replaces score and comment. The
    comment is the customer's data: retention and erasure requests clear it (with
    ``reader``, the pseudonym that finds it)."""

    __tablename__ = "feedback_answers"

    token_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    metric: Mapped[str] = mapped_column(String(8), primary_key=True)
    score: Mapped[int]
    comment: Mapped[str | None] = mapped_column(Text)
    reader: Mapped[str | None] = mapped_column(String(32), index=True)
    receipt_id: Mapped[str | None] = mapped_column(index=True)
    component: Mapped[str | None] = mapped_column(index=True)
    issued_at: Mapped[datetime]
    created_at: Mapped[datetime]
    answered_at: Mapped[datetime] = mapped_column(index=True)


class FeedbackExposure(_Shown, Base):
    """How many answers showed one group (``group_id``: a digest of the shown columns) in one
    hour: counted in memory, added here in batches."""

    __tablename__ = "feedback_exposures"

    hour: Mapped[datetime] = mapped_column(primary_key=True)
    group_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    component: Mapped[str | None] = mapped_column(index=True)
    count: Mapped[int]
