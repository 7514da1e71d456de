"""``batch``: one output per context line, bad lines reported, the rest still done."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.cli.test_commands import Cli
from tests.support.engine_factory import SAMPLE

pytestmark = pytest.mark.slow


@pytest.fixture
def cli(db_url: str, capsysbinary: pytest.CaptureFixture[bytes]) -> Cli:
    run = Cli(db_url, capsysbinary)
    assert run("import", str(SAMPLE))[0] == 0
    return run


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("workers", ["1", "2"])
def test_batch_writes_one_file_per_line_and_reports_bad_lines(
    cli: Cli, tmp_path: Path, workers: str
) -> None:
    contexts = write_lines(
        tmp_path / "c.jsonl",
        [
            json.dumps({"locale": "de-AT", "region": "AT", "customer": {"name": "Anna"}}),
            json.dumps({"locale": "fr", "region": "FR"}),
            "{broken",
            json.dumps({"locale": "en", "shoe": 42}),
            "",
            json.dumps({"id": "bob", "context": {"locale": "en", "region": "US"}}),
            json.dumps({"id": "../evil", "context": {"locale": "en"}}),
        ],
    )
    out = tmp_path / "out"
    code, _, err = cli(
        "batch",
        "brochure.hp200",
        "--contexts",
        str(contexts),
        "--out",
        str(out),
        "--workers",
        workers,
    )
    assert code == 1  # some lines failed
    assert sorted(p.name for p in out.glob("*.pdf")) == ["00001.pdf", "00002.pdf", "bob.pdf"]
    assert "Anna" in PdfReader(out / "00001.pdf").pages[0].extract_text()
    assert PdfReader(out / "bob.pdf").pages[1].mediabox.height < 800  # US Letter
    failures = [json.loads(line) for line in (out / "failures.jsonl").read_text().splitlines()]
    assert [(f["line"], f["code"]) for f in failures] == [
        (3, "bad_json"),
        (4, "invalid_context"),
        (7, "bad_id"),
    ]
    assert "3 written, 3 failed" in err
    assert not list(out.glob("*.part"))


def test_batch_unknown_publication_fails_before_any_work(cli: Cli, tmp_path: Path) -> None:
    contexts = write_lines(tmp_path / "c.jsonl", [json.dumps({"locale": "en"})])
    code, _, err = cli("batch", "nope", "--contexts", str(contexts), "--out", str(tmp_path / "o"))
    assert code == 2 and err.startswith("error: unknown publication 'nope'")
    assert not (tmp_path / "o").exists()


def test_batch_longer_than_one_worker_round_finishes(
    sample_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers retire after a round of jobs; the batch must go on with fresh ones (a pool with
    max_tasks_per_child hung here on Python 3.11)."""
    from content_engine.engine import batch
    from content_engine.settings import Settings
    from tests.support.engine_factory import ROOT

    db_url = sample_db_url
    monkeypatch.setattr(batch, "TASKS_PER_WORKER", 2)
    lines = [json.dumps({"locale": "en", "customer": {"name": f"R{i}"}}) for i in range(7)]
    seen: list[int] = []
    report = batch.run_batch(
        Settings(db_url=db_url, home=ROOT),
        "service.sheet",
        iter(lines),
        fmt="html",
        out_dir=tmp_path / "o",
        workers=2,
        on_progress=lambda done, total: seen.append(done),
    )
    assert (len(report.written), report.failures) == (7, [])
    assert seen[-1] == 7
