"""store/: receipts lose their personal data by age or by subject, on SQLite and PostgreSQL;
migration 0010 marks and indexes the receipts stored before it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import func, insert, select

from content_engine.core.models import Context, Receipt, UsedVariant
from content_engine.core.retention import MAX_SUBJECTS, subject_digest, subjects
from content_engine.store import Repository, receipts
from content_engine.store.tables import ReceiptSubject, RenderReceipt
from tests.store.test_migrations import alembic_at

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def receipt(rid: str, days_old: float, **context: Any) -> Receipt:
    created = NOW - timedelta(days=days_old)
    return Receipt(
        id=rid,
        created_at=created,
        publication="letter",
        publication_version=1,
        format="html",
        context=Context(locale="de-AT", role="buyer", region="AT", at=created, **context),
        used=[UsedVariant(component="greeting", variant="en", version=1)],
        sha256="ab" * 32,
    )


ANNA = {"customer": {"id": "C-1", "name": "Anna Huber"}, "segments": ["gold"]}
BY_SERIAL = {"lookup": {"serial": "HP200-0042"}, "data": {"installation": {"customer_id": "C-1"}}}


def subject_rows(repo: Repository) -> int:
    with repo.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(ReceiptSubject)).scalar_one())


def test_a_purge_by_age_drops_the_personal_parts_and_keeps_what_audit_needs(db_url: str) -> None:
    with Repository(db_url) as repo:
        repo.save_receipt(receipt("old", 100, **ANNA, product={"serial": "HP200-0042"}))
        repo.save_receipt(receipt("new", 1, **ANNA))
        repo.save_receipt(receipt("plain", 100))  # nothing personal: replayable for good
        before = NOW - timedelta(days=30)
        assert repo.purge_receipts(before=before, dry_run=True) == 1
        assert repo.get_receipt("old").purged_at is None  # a dry run changes nothing
        assert repo.purge_receipts(before=before, at=NOW) == 1
        old = repo.get_receipt("old")
        assert old.purged_at == NOW
        ctx = old.context
        assert (ctx.customer, ctx.product, ctx.data, ctx.lookup) == ({}, {}, {}, {})
        assert (ctx.locale, ctx.role, ctx.region, ctx.segments) == (
            "de-AT",
            "buyer",
            "AT",
            ("gold",),
        )
        assert ctx.at == NOW - timedelta(days=100)
        assert (old.publication, old.used, old.sha256) == (
            "letter",
            receipt("x", 0).used,
            "ab" * 32,
        )
        assert repo.get_receipt("new").context.customer["name"] == "Anna Huber"
        assert repo.get_receipt("plain").purged_at is None
        assert repo.purge_receipts(before=before) == 0  # purged once, purged for good
        assert subject_rows(repo) == 1  # only "new" still concerns anyone


def test_a_purge_by_subject_finds_every_receipt_of_that_customer(db_url: str) -> None:
    with Repository(db_url) as repo:
        repo.save_receipt(receipt("by-id", 400, **ANNA))
        repo.save_receipt(receipt("by-serial", 0, **BY_SERIAL))
        rows = {"contracts": [{"customer_id": "C-9"}, {"customer_id": 1}]}
        repo.save_receipt(receipt("by-row", 0, lookup={"customer_id": "C-7"}, data=rows))
        repo.save_receipt(receipt("other", 0, customer={"id": "C-2"}))
        assert repo.purge_receipts(subject="C-1", dry_run=True) == 2
        assert repo.purge_receipts(subject=" C-1 ") == 2  # id and installation's customer_id
        assert repo.get_receipt("by-serial").context.lookup == {}
        assert repo.purge_receipts(subject="C-2", before=NOW - timedelta(days=1)) == 0
        assert repo.purge_receipts(subject="1") == 1  # a whole-number id reads as its text
        assert repo.purge_receipts(subject="C-2") == 1
        assert repo.purge_receipts(subject="HP200-0042") == 0  # gone with its receipt
        assert repo.purge_receipts(subject="' OR 1=1 --") == 0
        assert subject_rows(repo) == 0


def test_a_purge_needs_an_age_or_a_subject(db_url: str) -> None:
    with Repository(db_url) as repo, pytest.raises(ValueError, match="before= or subject="):
        repo.purge_receipts()


def test_a_large_purge_goes_chunk_by_chunk(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(receipts, "PURGE_CHUNK", 2)
    with Repository(db_url) as repo:
        for n in range(5):
            repo.save_receipt(receipt(f"r{n}", 50, **ANNA))
        assert repo.purge_receipts(subject="C-1") == 5
        assert all(repo.get_receipt(f"r{n}").purged_at for n in range(5))


def test_the_subjects_of_a_context_are_bounded_and_hold_no_identifier_in_the_clear() -> None:
    many = {"rows": [{"customer_id": f"C-{n}"} for n in range(1000)]}
    ctx = Context(
        locale="en",
        customer={"id": True, "name": "x"},  # a bool names nobody
        lookup={"serial": "S-1"},
        data=many,
    )
    found = subjects(ctx)
    assert len(found) == MAX_SUBJECTS
    assert subject_digest("S-1") in found and all(len(s) == 64 for s in found)
    assert subjects(Context(locale="en", customer={"id": "x" * 257, "ids": ["C-1"]})) == set()


def test_upgrading_from_0009_marks_and_indexes_the_receipts_stored_before(db_url: str) -> None:
    stored = [
        receipt("anna", 10, **ANNA),
        receipt("serial", 10, **BY_SERIAL),
        receipt("plain", 10),
    ]
    with alembic_at(db_url) as (config, conn):
        command.upgrade(config, "0009")
        for old in stored:
            values = old.model_dump(mode="json", exclude={"purged_at"})
            values["created_at"] = old.created_at
            conn.execute(insert(RenderReceipt.__table__).values(**values))
        # Written by an older engine, no longer valid today: still personal by its raw parts.
        odd = stored[2].model_dump(mode="json", exclude={"purged_at"}) | {"id": "odd"}
        odd["context"] = {"locale": "en", "customer": {"name": "B"}, "gone": 1}
        odd["created_at"] = stored[2].created_at
        conn.execute(insert(RenderReceipt.__table__).values(**odd))

    with Repository(db_url) as repo:  # migrates to 0010 on opening
        with repo.engine.connect() as conn:
            marked = dict(conn.execute(select(RenderReceipt.id, RenderReceipt.personal)).all())
        assert marked == {"anna": True, "serial": True, "plain": False, "odd": True}
        assert repo.get_receipt("anna") == stored[0]
        assert repo.purge_receipts(subject="C-1") == 2
        assert repo.purge_receipts(before=NOW) == 1  # "odd", dropped by its raw parts
        assert repo.get_receipt("plain").purged_at is None

    with alembic_at(db_url) as (config, conn):
        command.downgrade(config, "0009")
        command.upgrade(config, "head")
