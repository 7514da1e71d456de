"""store/: the migrations bring an older database up to date without losing what it holds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, create_engine, insert, inspect

from content_engine.core.models import Context, Receipt, ReceiptBlock, UsedVariant
from content_engine.store import Repository, normalize_url
from content_engine.store.database import HEAD_REVISION, MIGRATIONS
from content_engine.store.tables import RenderReceipt

RECEIPT = Receipt(
    id="r-0001",
    created_at=datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
    publication="brochure",
    publication_version=1,
    format="html",
    context=Context(locale="en", at="2026-11-23T10:00:00Z"),
    used=[UsedVariant(component="product.x", variant="en", version=2)],
    blocks=[ReceiptBlock(component="product.x", variant="en", version=2, title="Product X")],
    sha256="ab" * 32,
)


@contextmanager
def alembic_at(url: str) -> Iterator[tuple[Config, Connection]]:
    """Alembic's config and a connection to run it on, outside ``Repository``."""
    engine = create_engine(normalize_url(url))
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            yield config, conn
    finally:
        engine.dispose()


def test_receipt_blocks_round_trip(db_url: str) -> None:
    with Repository(db_url) as repo:
        repo.save_receipt(RECEIPT)
        assert repo.get_receipt("r-0001") == RECEIPT


def test_upgrading_from_0001_keeps_receipts(db_url: str) -> None:
    with alembic_at(db_url) as (config, conn):
        command.upgrade(config, "0001")
        old = RECEIPT.model_dump(mode="json", exclude={"blocks", "assets", "purged_at"})
        old["created_at"] = RECEIPT.created_at
        conn.execute(insert(RenderReceipt).values(**old))

    with Repository(db_url) as repo:  # migrates to head on opening
        assert repo.get_receipt("r-0001") == RECEIPT.model_copy(update={"blocks": []})
        assert repo.list_keys() == []
        with repo.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == (
                HEAD_REVISION
            )


def test_downgrade_to_0001_and_back(db_url: str) -> None:
    with Repository(db_url) as repo:
        repo.create_key("admin")

    with alembic_at(db_url) as (config, conn):
        command.downgrade(config, "0001")
        tables = set(inspect(conn).get_table_names())
        assert "api_keys" not in tables
        assert "blocks" not in {c["name"] for c in inspect(conn).get_columns("render_receipts")}
        command.upgrade(config, "head")

    with Repository(db_url) as repo:
        repo.save_receipt(RECEIPT)
        assert repo.get_receipt("r-0001") == RECEIPT
