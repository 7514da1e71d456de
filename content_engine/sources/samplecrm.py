"""Write the sample CRM: a SQLite database, a CSV of contracts and a sources file that reads them.

In: a folder (created when missing), how many customers, the day counted as "today". Out:
``crm.sqlite`` (tables ``customers``, ``installations``, ``contracts``, ``visits``),
``contracts.csv`` (the contracts again, as a system of record's export), ``sources.yaml``
(sources ``product``, ``customer``, ``service_history`` and ``contracts`` over them, paths
relative to itself, so the folder works wherever it is moved) and ``renewals.jsonl`` (one
``batch`` line per installation whose contract ends within 90 days: the campaign of renewal
letters, by serial number, in the customer's locale and country), each replaced whole
(``files.userfiles.write_file``). The same arguments give the same bytes: the rows come from
``core.samplecrm``, and the database is built in memory and serialized, so no journal, page
order or file-system detail of this run reaches the file.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from content_engine.core.errors import InputError
from content_engine.core.samplecrm import COLUMNS, TOUR_SERIAL, SampleCrm, generate
from content_engine.files.userfiles import os_error, write_file

__all__ = ["MAX_CUSTOMERS", "SampleCrmFiles", "write_sample_crm"]

MAX_CUSTOMERS = 100_000
DATABASE, CONTRACTS, SOURCES = "crm.sqlite", "contracts.csv", "sources.yaml"
RENEWALS = "renewals.jsonl"
# A contract ending within this many days is due for renewal (the library's ``renewal-due``).
RENEWAL_DAYS = 90

_SCHEMA = """
CREATE TABLE customers (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, street TEXT NOT NULL, postcode TEXT NOT NULL,
    city TEXT NOT NULL, country TEXT NOT NULL, address TEXT NOT NULL, locale TEXT NOT NULL,
    email TEXT NOT NULL, employees INTEGER, customer_since TEXT NOT NULL
);
CREATE TABLE installations (
    serial TEXT PRIMARY KEY, model TEXT NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id), installed_on TEXT NOT NULL,
    price INTEGER NOT NULL, warranty_until TEXT NOT NULL, next_service TEXT NOT NULL
);
CREATE INDEX installations_customer ON installations (customer_id);
CREATE TABLE contracts (
    id TEXT PRIMARY KEY, customer_id TEXT NOT NULL REFERENCES customers (id),
    serial TEXT NOT NULL UNIQUE REFERENCES installations (serial), plan TEXT NOT NULL,
    valid_from TEXT NOT NULL, valid_until TEXT NOT NULL, monthly_fee INTEGER NOT NULL
);
CREATE INDEX contracts_customer ON contracts (customer_id);
CREATE TABLE visits (
    id INTEGER PRIMARY KEY, serial TEXT NOT NULL REFERENCES installations (serial),
    date TEXT NOT NULL, technician TEXT NOT NULL, work TEXT NOT NULL
);
CREATE INDEX visits_serial ON visits (serial, date);
"""

# What the sample library's service sheet and renewal letter read. ``contract_days_left`` is
# counted from the database's today, at the moment of the lookup: the segment rule
# ``renewal-due`` reads it.
_SOURCES = f"""\
# The sample CRM's data sources (written by `content-engine samples crm`); paths are relative
# to this file. Try: content-engine render service.sheet --sources {SOURCES} \\
#   --lookup serial={TOUR_SERIAL} --locale de-AT --region AT --role service-agent
deadline: 2.0
sources:
  product:
    kind: sql
    url: sqlite:///{DATABASE}
    key: serial
    required: true
    cache_ttl: 60
    query: >-
      SELECT i.serial, i.model, i.customer_id, i.installed_on, i.price, i.warranty_until,
      i.next_service, k.id AS contract_id, k.plan AS contract_plan,
      k.valid_until AS contract_valid_until,
      CAST(julianday(k.valid_until) - julianday(date('now')) AS INTEGER) AS contract_days_left
      FROM installations AS i LEFT JOIN contracts AS k ON k.serial = i.serial
      WHERE i.serial = :serial
  customer:
    kind: sql
    url: sqlite:///{DATABASE}
    key: customer_id
    from: product.customer_id
    required: true
    cache_ttl: 60
    query: >-
      SELECT id, name, address, city, country, locale, email, employees, customer_since
      FROM customers WHERE id = :customer_id
  service_history:
    kind: sql
    url: sqlite:///{DATABASE}
    key: serial
    many: true
    cache_ttl: 60
    query: >-
      SELECT date, technician, work FROM visits WHERE serial = :serial
      ORDER BY date DESC, id DESC LIMIT 20
  contracts:
    kind: file
    path: {CONTRACTS}
    key: customer_id
    from: customer.id
    many: true
"""


@dataclass(frozen=True)
class SampleCrmFiles:
    """What was written, and what a caller may want to say about it."""

    database: Path
    contracts: Path
    sources: Path
    renewals: Path
    customers: int
    installations: int
    renewals_due: int  # contracts ending within 90 days of ``today``
    tour_serial: str | None  # the examples' installation, when there are enough customers


def write_sample_crm(folder: Path, customers: int, today: date) -> SampleCrmFiles:
    """Generate the CRM for ``today`` and write its four files into ``folder``."""
    if not 1 <= customers <= MAX_CUSTOMERS:
        raise InputError(
            f"--customers: from 1 to {MAX_CUSTOMERS}", details={"customers": customers}
        )
    crm = generate(customers, today)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise os_error(exc, folder, "create folder") from None
    write_file(folder / DATABASE, _database(crm))
    write_file(folder / CONTRACTS, _csv(crm))
    write_file(folder / SOURCES, _SOURCES.encode())
    renewals = _renewals(crm, today)
    write_file(folder / RENEWALS, "".join(line + "\n" for line in renewals).encode())
    return SampleCrmFiles(
        database=folder / DATABASE,
        contracts=folder / CONTRACTS,
        sources=folder / SOURCES,
        renewals=folder / RENEWALS,
        customers=len(crm.customers),
        installations=len(crm.installations),
        renewals_due=len(renewals),
        tour_serial=TOUR_SERIAL if any(r[0] == TOUR_SERIAL for r in crm.installations) else None,
    )


def _database(crm: SampleCrm) -> bytes:
    with sqlite3.connect(":memory:") as db:
        db.executescript(_SCHEMA)
        for table, columns in COLUMNS.items():
            marks = ", ".join("?" for _ in columns)
            db.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", crm.table(table)
            )
        db.commit()
        data = db.serialize()
    db.close()
    return data


def _renewals(crm: SampleCrm, today: date) -> list[str]:
    """``batch`` lines for the contracts ending within ``RENEWAL_DAYS``, soonest first."""
    customers = {row[0]: row for row in crm.customers}
    due = sorted(
        (str(row[5]), str(row[2]), customers[row[1]])
        for row in crm.contracts
        if 0 <= (date.fromisoformat(str(row[5])) - today).days <= RENEWAL_DAYS
    )
    return [
        json.dumps(
            {
                "id": f"renewal-{serial}",
                "context": {
                    "locale": customer[7],
                    "region": customer[5],
                    "channel": "print",
                    "lookup": {"serial": serial},
                },
            },
            ensure_ascii=False,
        )
        for _, serial, customer in due
    ]


def _csv(crm: SampleCrm) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS["contracts"])
    writer.writerows(crm.contracts)
    return out.getvalue().encode()
