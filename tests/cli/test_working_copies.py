"""The command line and working copies: batch and explain for readers, export of live versions
and (``--working``) of working copies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from content_engine.core.models import Variant
from content_engine.library import load_library
from tests.cli.test_commands import Cli
from tests.support.engine_factory import SAMPLE, make_engine

COMPONENT = "product.hp200.overview"
DRAFT = "<p>Entwurf</p>\n"


@pytest.fixture
def cli(db_url: str, capsysbinary: pytest.CaptureFixture[bytes]) -> Cli:
    run = Cli(db_url, capsysbinary)
    assert run("import", str(SAMPLE))[0] == 0
    return run


def save_draft(db_url: str) -> Variant:
    with make_engine(db_url) as engine:
        live = engine.editor.get_variant(COMPONENT, "de-AT")
        draft = live.model_copy(update={"body": DRAFT, "status": "draft"})
        return engine.editor.save_variant(COMPONENT, draft, expected_version=live.version)


def batch_outputs(cli: Cli, tmp_path: Path, name: str) -> dict[str, bytes]:
    contexts = tmp_path / "readers.jsonl"
    readers = [{"id": f"r{i}", "context": {"locale": "de-AT", "region": "AT"}} for i in range(3)]
    contexts.write_text("\n".join(json.dumps(r) for r in readers) + "\n", encoding="utf-8")
    out = tmp_path / name
    code, _, err = cli(
        "batch", "brochure.hp200", "--contexts", str(contexts), "--out", str(out),
        "--format", "html", "--workers", "2",
    )  # fmt: skip
    assert code == 0, err
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


@pytest.mark.slow
def test_batch_renders_live_versions_while_a_draft_waits(
    cli: Cli, db_url: str, tmp_path: Path
) -> None:
    before = batch_outputs(cli, tmp_path, "before")
    save_draft(db_url)
    after = batch_outputs(cli, tmp_path, "after")
    assert before == after and before
    assert not any(DRAFT.strip().encode() in content for content in after.values())


def test_explain_names_live_and_working_versions(cli: Cli, db_url: str) -> None:
    save_draft(db_url)
    code, out, err = cli("explain", COMPONENT, "--locale", "de-AT", "--region", "AT")
    assert code == 0, err
    assert " * de-AT v1  (live v1, working v2)  rank " in out.decode()
    assert " + de v1  rank " in out.decode()  # live, no working copy: nothing to add
    code, out, _ = cli("explain", COMPONENT, "--locale", "de-AT", "--format", "json")
    trace = {v["key"]: v for v in json.loads(out)["variants"]}
    assert (trace["de-AT"]["live"], trace["de-AT"]["working"]) == (1, 2)
    assert (trace["fr"]["live"], trace["fr"]["working"]) == (1, None)


def test_export_writes_live_versions_and_working_copies_with_working(
    cli: Cli, db_url: str, tmp_path: Path
) -> None:
    save_draft(db_url)
    code, _, err = cli("export", str(tmp_path / "live"))
    assert code == 0, err
    code, _, err = cli("export", "--working", str(tmp_path / "working"))
    assert code == 0, err
    live = load_library(tmp_path / "live").components[COMPONENT].variants["de-AT"]
    working = load_library(tmp_path / "working").components[COMPONENT].variants["de-AT"]
    assert (live.status, live.body) != ("draft", DRAFT)
    assert live.status == "published"
    assert (working.status, working.body) == ("draft", DRAFT)
    # Everything else is the same in both.
    assert (
        load_library(tmp_path / "live").components["docs.safety"]
        == (load_library(tmp_path / "working").components["docs.safety"])
    )
    # The working export is the repository's newest state: importing it changes nothing.
    code, _, err = cli("import", str(tmp_path / "working"))
    assert code == 0 and "nothing changed" in err
