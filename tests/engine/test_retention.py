"""Retention end to end: the retention in force, purges by the engine, the CLI and serve, and a
purged receipt that is read but never replayed (exit 2; HTTP in tests/web/test_retention_api)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from content_engine.cli import main
from content_engine.core.errors import InputError, ReceiptPurged
from content_engine.core.models import parse_context
from content_engine.engine import Engine, PurgeRequest
from content_engine.store.tables import RenderReceipt
from tests.support.apps import app_client
from tests.support.engine_factory import make_engine, write_files

LIBRARY = {
    "library.yaml": "default_locale: en\nlocales: [en]\n",
    "c/greeting/component.yaml": "id: greeting\ntype: snippet\n",
    "c/greeting/en.html": "<p>Hello {{ customer.name }}.</p>\n",
    "publications/letter.yaml": (
        "id: letter\ntitle: Letter\nslots: [{component: greeting, required: true}]\n"
    ),
}
ANNA = {"locale": "en", "region": "AT", "customer": {"id": "C-1", "name": "Anna Huber"}}


def library(root: Path, days: int | None = None) -> Path:
    files = dict(LIBRARY)
    if days is not None:
        files["library.yaml"] += f"receipts_retain_days: {days}\n"
    return write_files(root / "lib", files)


@pytest.fixture
def engine(db_url: str, tmp_path: Path) -> Iterator[Engine]:
    with make_engine(db_url) as e:
        e.import_library(library(tmp_path))
        yield e


def render_for(engine: Engine, **context: object) -> str:
    rendered = engine.render("letter", parse_context(ANNA | context), format="html")
    return rendered.receipt.id


def test_an_erasure_request_purges_and_the_receipt_is_read_but_not_replayed(
    engine: Engine,
) -> None:
    rid = render_for(engine)
    other = render_for(engine, customer={"id": "C-2", "name": "Bob"})
    assert b"Anna Huber" in engine.replay(rid).content
    assert engine.retention.purge(PurgeRequest(customer="C-1", dry_run=True)) == 1
    assert engine.retention.purge(PurgeRequest(customer="C-1")) == 1
    kept = engine.receipt(rid)
    assert kept.purged_at is not None and kept.context.customer == {}
    assert kept.context.region == "AT"
    with pytest.raises(ReceiptPurged) as raised:
        engine.replay(rid)
    assert raised.value.code == "receipt_purged" and raised.value.exit_code == 2
    assert raised.value.details["id"] == rid
    assert b"Bob" in engine.replay(other).content


def test_the_shorter_of_the_deployment_and_the_library_retention_wins(
    db_url: str, tmp_path: Path
) -> None:
    with make_engine(db_url) as e:
        e.import_library(library(tmp_path))
        assert e.retention.days() is None
        assert e.retention.purge_due() == 0
        with pytest.raises(InputError, match="no retention is set"):
            e.retention.purge(PurgeRequest())
        e.import_library(library(tmp_path / "b", days=30))
        assert e.retention.days() == 30
    for deployment, expected in ((10, 10), (90, 30)):
        settings = dataclasses.replace(e.settings, receipts_retain_days=deployment)
        with Engine(settings) as again:
            assert again.retention.days() == expected


def test_purge_by_age_counts_from_now(engine: Engine) -> None:
    rid = render_for(engine)
    later = datetime.now(UTC) + timedelta(days=31)
    assert engine.retention.purge(PurgeRequest(older_than_days=30)) == 0
    assert engine.retention.purge(PurgeRequest(older_than_days=30), now=later) == 1
    assert engine.receipt(rid).purged_at == later


def test_the_cli_purges_by_customer_and_age_and_says_how_many(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    db = engine.settings.db_url
    render_for(engine)
    render_for(engine, customer={"id": "C-2", "name": "Bob"})
    capsys.readouterr()
    assert main(["receipts", "purge", "--customer", "C-1", "--dry-run", "--db", db]) == 0
    out, err = capsys.readouterr()
    assert (out, err) == ("1\n", "would purge the personal data of 1 render receipt(s)\n")
    assert main(["receipts", "purge", "--customer", "C-1", "--db", db]) == 0
    assert capsys.readouterr().out == "1\n"
    assert main(["receipts", "purge", "--older-than", "0", "--db", db]) == 0
    assert capsys.readouterr().out == "1\n"
    assert main(["receipts", "purge", "--db", db]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no retention is set") and err.count("\n") == 1
    assert main(["receipts", "purge", "--older-than", "-1", "--db", db]) == 2


def test_serve_purges_by_the_retention_on_start(db_url: str, tmp_path: Path) -> None:
    with make_engine(db_url) as e:
        e.import_library(library(tmp_path, days=30))
        rid = render_for(e)
        with e.repository.engine.begin() as conn:  # rendered 31 days ago
            old = datetime.now(UTC) - timedelta(days=31)
            conn.execute(update(RenderReceipt).values(created_at=old))
    with make_engine(db_url) as engine, app_client(engine, keys={}):
        deadline = time.monotonic() + 5
        while engine.receipt(rid).purged_at is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert engine.receipt(rid).purged_at is not None
