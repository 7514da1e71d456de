"""``batch`` with a ``lookup`` per line, through the real CLI and a real SQLite CRM: each chunk
of lines costs one query per source (asked in bulk), a line whose key the CRM lacks ends in
``failures.jsonl`` and the others are written with their own customer's data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from content_engine.cli import main
from tests.support.lookups import write_library

CUSTOMERS = 12
LINES = 60


def write_crm(path: Path) -> str:
    """A SQLite CRM: installations ``HP-0000``... and their customers, ``C-0``... (gold or not)."""
    url = f"sqlite:///{path}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE installations (serial TEXT, model TEXT, owner TEXT)"))
        conn.execute(sa.text("CREATE TABLE customers (id TEXT, name TEXT, tier TEXT)"))
        conn.execute(
            sa.text("INSERT INTO installations VALUES (:s, :m, :o)"),
            [
                {"s": f"HP-{n:04d}", "m": f"Model {n}", "o": f"C-{n % CUSTOMERS}"}
                for n in range(LINES)
            ],
        )
        conn.execute(
            sa.text("INSERT INTO customers VALUES (:i, :n, :t)"),
            [
                {"i": f"C-{n}", "n": f"Name {n}", "t": "gold" if n == 0 else "silver"}
                for n in range(CUSTOMERS)
            ],
        )
    engine.dispose()
    return url


def write_sources(folder: Path, url: str, *, bulk: bool) -> Path:
    """Both sources in the CRM; ``bulk``: each with its ``bulk_query``."""

    def source(name: str, table: str, columns: str, key: str, extra: str) -> str:
        select = f"SELECT {columns} FROM {table} WHERE {key}"
        text = (
            f"  {name}:\n    kind: sql\n    url: {json.dumps(url)}\n    key: {key}\n"
            f"    query: {json.dumps(f'{select} = :{key}')}\n"
            f"    required: true\n    timeout: 3\n{extra}"
        )
        return text + (f"    bulk_query: {json.dumps(f'{select} IN :{key}')}\n" if bulk else "")

    path = folder / ("bulk.yaml" if bulk else "single.yaml")
    path.write_text(
        "deadline: 5\nsources:\n"
        + source("installation", "installations", "serial, model, owner", "serial", "")
        + source("customer", "customers", "id, name, tier", "id", "    from: installation.owner\n"),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def statements(tmp_path: Path) -> Iterator[Path]:
    """A file with a line per statement any engine runs against the CRM, in this process and in
    the batch's worker processes (forked: they inherit the listener)."""
    log = tmp_path / "statements.log"
    log.touch()

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "installations" in statement or "customers" in statement:
            with log.open("a", encoding="utf-8") as fh:
                fh.write(" ".join(statement.split()) + "\n")

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", count)
    yield log
    sa.event.remove(sa.engine.Engine, "before_cursor_execute", count)


def run_batch(db_url: str, sources: Path, contexts: Path, out: Path, workers: int) -> int:
    return main(
        [
            "batch", "letter", "--contexts", str(contexts), "--out", str(out), "--format", "html",
            "--workers", str(workers), "--sources", str(sources), "--db", db_url,
        ]
    )  # fmt: skip


def test_batch_asks_the_crm_in_bulk_and_a_missing_key_fails_its_line_only(
    db_url: str, tmp_path: Path, statements: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(write_library(tmp_path / "lib")), "--db", db_url]) == 0
    url = write_crm(tmp_path / "crm.db")
    lines = [
        {"id": f"r{n}", "context": {"locale": "en", "lookup": {"serial": f"HP-{n:04d}"}}}
        for n in range(LINES)
    ]
    lines[7]["context"]["lookup"]["serial"] = "HP-9999"  # the CRM has no such installation
    contexts = tmp_path / "contexts.jsonl"
    contexts.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    capsys.readouterr()
    statements.write_text("")  # what made the CRM

    out = tmp_path / "bulk"
    assert run_batch(db_url, write_sources(tmp_path, url, bulk=True), contexts, out, 2) == 1
    err = capsys.readouterr().err
    assert f"{LINES - 1} written, 1 failed" in err
    failures = [json.loads(line) for line in (out / "failures.jsonl").read_text().splitlines()]
    assert failures == [
        {
            "line": 8,
            "code": "lookup_not_found",
            "message": "data source 'installation' found nothing for lookup key 'serial'",
        }
    ]
    assert not (out / "r7.html").exists()
    assert "Dear Name 0 (gold), your Model 0." in (out / "r0.html").read_text()
    assert "Hello Name 5, your Model 17." in (out / "r17.html").read_text()
    bulk = statements.read_text().splitlines()
    # Two workers, a chunk of 30 lines each: one query per source and chunk, whatever the lines.
    assert len(bulk) == 4 and all(" IN (" in s for s in bulk), bulk

    statements.write_text("")
    single = tmp_path / "single"
    assert run_batch(db_url, write_sources(tmp_path, url, bulk=False), contexts, single, 2) == 1
    capsys.readouterr()
    asked = statements.read_text().splitlines()
    # No bulk form: a query per distinct key and chunk (each chunk's 12 customers asked once).
    assert len(asked) == LINES + 2 * CUSTOMERS and " IN " not in "".join(asked)
    for name in (f"r{n}.html" for n in range(LINES) if n != 7):
        assert (single / name).read_bytes() == (out / name).read_bytes()
