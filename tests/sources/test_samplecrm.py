"""The sample CRM on disk: the same bytes on every run, and a sources file that reads it from
wherever the command starts."""

from __future__ import annotations

import csv
import json
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from content_engine.core.errors import InputError
from content_engine.sources import Sources
from content_engine.sources.samplecrm import write_sample_crm

TODAY = datetime.now(UTC).date()  # the database counts days from its today, in UTC


def test_two_runs_write_the_same_bytes(tmp_path: Path) -> None:
    first = write_sample_crm(tmp_path / "a", 200, TODAY)
    second = write_sample_crm(tmp_path / "b", 200, TODAY)
    names = ("crm.sqlite", "contracts.csv", "sources.yaml", "renewals.jsonl")
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(names)
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (first.customers, first.renewals_due) == (second.customers, second.renewals_due)
    assert first.renewals_due > 0 and first.tour_serial == "HP200-0042"
    write_sample_crm(tmp_path / "a", 201, TODAY)  # files are replaced, nothing else is left
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(names)
    assert (tmp_path / "a" / "crm.sqlite").read_bytes() != (
        tmp_path / "b" / "crm.sqlite"
    ).read_bytes()


def test_the_database_and_the_csv_hold_the_same_contracts(tmp_path: Path) -> None:
    written = write_sample_crm(tmp_path, 200, TODAY)
    with sqlite3.connect(written.database) as db:
        counts = {
            table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("customers", "installations", "contracts", "visits")
        }
        contracts = db.execute("SELECT * FROM contracts ORDER BY id").fetchall()
    db.close()
    assert counts["customers"] == written.customers == 200
    assert counts["installations"] == written.installations
    with written.contracts.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == [
        "id",
        "customer_id",
        "serial",
        "plan",
        "valid_from",
        "valid_until",
        "monthly_fee",
    ]
    assert rows[1:] == [[str(v) for v in row] for row in contracts]


def test_the_renewal_campaign_is_every_contract_ending_within_90_days(tmp_path: Path) -> None:
    written = write_sample_crm(tmp_path, 200, TODAY)
    lines = [json.loads(line) for line in written.renewals.read_text("utf-8").splitlines()]
    assert len(lines) == written.renewals_due > 10
    with sqlite3.connect(written.database) as db:
        due = db.execute(
            "SELECT k.serial, c.locale, c.country FROM contracts AS k JOIN customers AS c"
            " ON c.id = k.customer_id WHERE julianday(k.valid_until) - julianday(date('now'))"
            " BETWEEN 0 AND 90 ORDER BY k.valid_until, k.serial"
        ).fetchall()
    db.close()
    assert [
        (line["context"]["lookup"]["serial"], line["context"]["locale"], line["context"]["region"])
        for line in lines
    ] == due
    assert all(line["id"] == f"renewal-{line['context']['lookup']['serial']}" for line in lines)
    assert "renewal-HP200-0042" in {line["id"] for line in lines}


def test_the_sources_file_reads_the_crm_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = write_sample_crm(tmp_path / "crm", 200, TODAY)
    monkeypatch.chdir(tmp_path)  # not the folder of the files
    names = {"product", "customer", "service_history", "contracts"}
    with Sources.load(written.sources, {}) as sources:
        assert sources.names == names
        fetched = sources.fetch({"serial": "HP200-0042"}, names, deadline=time.monotonic() + 5)
    assert [a.outcome for a in fetched.asked] == ["found"] * 4
    product, customer = fetched.values["product"], fetched.values["customer"]
    assert product["model"] == "HP200" and product["contract_plan"]
    assert product["contract_days_left"] == 45  # counted by the database from its today
    assert product["contract_valid_until"] == (TODAY + timedelta(days=45)).isoformat()
    assert customer == {
        "id": product["customer_id"], "name": "Anna Huber",
        "address": "Schubertstraße 8, 8010 Graz", "city": "Graz", "country": "AT",
        "locale": "de-AT", "email": "anna.huber@example.at",
        "employees": 12, "customer_since": customer["customer_since"],
    }  # fmt: skip
    history = fetched.values["service_history"]
    assert history and history == sorted(history, key=lambda v: v["date"], reverse=True)
    assert {v["technician"] for v in history} == {"Markus Pichler"}
    assert "HP200-0042" in {c["serial"] for c in fetched.values["contracts"]}


def test_the_number_of_customers_is_bounded(tmp_path: Path) -> None:
    for customers in (0, 100_001):
        with pytest.raises(InputError, match="from 1 to 100000"):
            write_sample_crm(tmp_path, customers, TODAY)
    assert list(tmp_path.iterdir()) == []
