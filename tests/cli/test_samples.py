"""``samples crm`` and the sample library's publications that read it: the service sheet from
a serial number alone and the renewal letter whose variant a segment over CRM data picks,
through the real CLI against the generated SQLite CRM; replay that needs no CRM."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from content_engine.cli import main
from content_engine.core.models import parse_context
from content_engine.engine.facade import Engine
from content_engine.settings import Settings
from tests.support.engine_factory import ROOT, SAMPLE
from tests.support.servers import cli

# Enough customers to reach the tour's installation HP200-0042; a tenth of the real sample.
CUSTOMERS = "150"


@pytest.fixture(scope="module")
def crm(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """``(folder, stderr)``: the CRM written once per module by the real CLI into ``crm/``."""
    where = tmp_path_factory.mktemp("crm")
    done = cli("samples", "crm", "--out", "crm", "--customers", CUSTOMERS, cwd=where)
    return where, done.stderr


def serial_where(folder: Path, condition: str) -> str:
    """An installation of the generated CRM whose contract meets ``condition``."""
    with sqlite3.connect(folder / "crm" / "crm.sqlite") as db:
        query = (
            "SELECT i.serial FROM installations AS i LEFT JOIN contracts AS k USING (serial)"
            f" WHERE {condition} ORDER BY i.serial LIMIT 1"
        )
        row = db.execute(query).fetchone()
    db.close()
    assert row is not None, condition
    return str(row[0])


def test_samples_crm_says_what_it_wrote(crm: tuple[Path, str]) -> None:
    folder, stderr = crm
    lines = stderr.splitlines()
    names = ("crm.sqlite", "contracts.csv", "sources.yaml", "renewals.jsonl")
    assert lines[:4] == [f"wrote {Path('crm') / name}" for name in names]
    assert lines[4].startswith(f"{CUSTOMERS} customers, ")
    assert lines[4].endswith("; try --sources crm/sources.yaml --lookup serial=HP200-0042")
    assert sorted(p.name for p in (folder / "crm").iterdir()) == [
        "contracts.csv", "crm.sqlite", "renewals.jsonl", "sources.yaml",
    ]  # fmt: skip


def test_a_bad_day_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["samples", "crm", "--out", str(tmp_path / "crm"), "--today", "tomorrow"]) == 2
    assert capsys.readouterr() == ("", "error: --today: a date as YYYY-MM-DD, not 'tomorrow'\n")
    assert not (tmp_path / "crm").exists()


def test_the_service_sheet_renders_from_a_serial_number_alone(
    crm: tuple[Path, str], sample_db: tuple[str, Path]
) -> None:
    folder, _ = crm
    db, _ = sample_db
    args = ("render", "service.sheet", "--sources", "crm/sources.yaml", "--db", db)
    args += ("--lookup", "serial=HP200-0042", "--locale", "de-AT", "--region", "AT")
    result = cli(*args, "--role", "service-agent", "-o", "sheet.html", cwd=folder)
    assert result.stderr == ""  # no warning: every name the bodies read was found
    html = (folder / "sheet.html").read_text(encoding="utf-8")
    for text in (
        "<h2>Anna Huber</h2>", "Schubertstraße 8, 8010 Graz", "<code>HP200-0042</code>",
        "Nordwind Care Plus", "Markus Pichler", "Inbetriebnahme und Einweisung",
        "Gesprächsleitfaden",
    ):  # fmt: skip
        assert text in html, text


@pytest.mark.parametrize(
    ("condition", "variant", "says"),
    [
        ("i.serial = 'HP200-0042'", "de-AT-due", "endet am"),
        ("k.valid_until > date('now', '+120 days')", "de-AT", "läuft bis"),
        ("k.id IS NULL", "de-AT", "läuft kein"),
    ],
)
def test_the_renewal_letters_variant_follows_the_contracts_end(
    crm: tuple[Path, str],
    sample_db: tuple[str, Path],
    capsys: pytest.CaptureFixture[str],
    condition: str,
    variant: str,
    says: str,
) -> None:
    folder, _ = crm
    db, _ = sample_db
    serial = serial_where(folder, condition)
    common = ["--sources", str(folder / "crm" / "sources.yaml"), "--lookup", f"serial={serial}"]
    common += ["--locale", "de-AT", "--region", "AT", "--db", db]
    capsys.readouterr()
    assert main(["render", "renewal.letter", "--format", "fragment", *common]) == 0
    out, err = capsys.readouterr()
    assert err == "" and says in out and serial in out
    assert main(["explain", "renewal.offer", "--format", "json", *common]) == 0
    explained = json.loads(capsys.readouterr().out)
    assert explained["winner"] == variant
    assert ("renewal-due" in explained["segments"]) == variant.endswith("-due")


def test_the_renewal_campaign_renders_the_offer_for_every_line(
    crm: tuple[Path, str], db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, _ = crm
    assert main(["import", str(SAMPLE), "--db", db_url]) == 0
    args = ["batch", "renewal.letter", "--contexts", str(folder / "crm" / "renewals.jsonl")]
    args += ["--sources", str(folder / "crm" / "sources.yaml"), "--format", "html"]
    capsys.readouterr()
    assert main([*args, "--out", str(tmp_path / "letters"), "--db", db_url]) == 0
    lines = (folder / "crm" / "renewals.jsonl").read_text("utf-8").splitlines()
    assert f"{len(lines)} written, 0 failed" in capsys.readouterr().err
    letters = sorted((tmp_path / "letters").glob("renewal-*.html"))
    assert len(letters) == len(lines) > 10
    # Every letter is the renewal offer, whatever the customer's language.
    due = re.compile(r"(endet am|ends on|prend fin le)\s")
    assert all(due.search(letter.read_text("utf-8")) for letter in letters)


def test_replay_needs_no_crm_and_ignores_its_changes(
    crm: tuple[Path, str], sample_db_url: str, tmp_path: Path
) -> None:
    shutil.copytree(crm[0] / "crm", tmp_path / "crm")
    sources = tmp_path / "crm" / "sources.yaml"
    reader = parse_context({"locale": "de-AT", "region": "AT", "lookup": {"serial": "HP200-0042"}})
    with Engine(Settings(db_url=sample_db_url, home=ROOT, sources=str(sources))) as engine:
        rendered = engine.render("renewal.letter", reader)
        assert "Anna Huber" in rendered.content.decode()
        with sqlite3.connect(tmp_path / "crm" / "crm.sqlite") as db:
            db.execute("UPDATE customers SET name = 'Anna Berger' WHERE name = 'Anna Huber'")
        db.close()
        (tmp_path / "crm" / "contracts.csv").unlink()
        assert engine.replay(rendered.receipt.id).content == rendered.content
    with Engine(Settings(db_url=sample_db_url, home=ROOT, sources=str(sources))) as engine:
        # A new render sees the change (the cache of the first engine is gone) ...
        assert "Anna Berger" in engine.render("renewal.letter", reader).content.decode()
        (tmp_path / "crm" / "crm.sqlite").unlink()
        # ... the receipt's replay does not, and needs no CRM at all.
        assert engine.replay(rendered.receipt.id).content == rendered.content
