"""Data sources wired into the engine and the CLI (CONTRACT 8): lookup keys in, a context filled
from real sources out (a CSV file and an HTTP service on 127.0.0.1), receipts that replay
without asking, explain that lists every source asked."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from content_engine.cli import main
from content_engine.core.errors import LookupNotFound, SourcesConfigError, SourceUnavailable
from content_engine.core.models import Context, parse_context
from content_engine.engine.facade import Engine
from content_engine.settings import Settings
from tests.sources.service import Service, running
from tests.support.engine_factory import ROOT
from tests.support.lookups import write_library, write_sources


@pytest.fixture
def service() -> Iterator[Service]:
    with running() as started:
        yield started


@pytest.fixture
def setup(db_url: str, tmp_path: Path, service: Service) -> tuple[str, Path]:
    """The library imported into ``db_url``; the sources file's path."""
    with Engine(Settings(db_url=db_url, home=ROOT)) as engine:
        engine.import_library(write_library(tmp_path / "lib"))
    return db_url, write_sources(tmp_path / "deploy", service.url)


def engine_on(setup: tuple[str, Path], *, sources: bool = True) -> Engine:
    db_url, path = setup
    return Engine(Settings(db_url=db_url, home=ROOT, sources=str(path) if sources else ""))


def reader(serial: str, **extra: object) -> Context:
    return parse_context({"locale": "en", "lookup": {"serial": serial}, **extra})


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_block_renders_what_the_sources_found(
    setup: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    db_url, sources = setup
    common = ("--locale", "en", "--sources", str(sources), "--db", db_url)
    code, out, err = run(capsys, "block", "greeting", "--lookup", "serial=HP200-0077", *common)
    assert (code, err) == (0, "")
    assert out.strip() == "<p>Hello Ben Ort, your HP200 Eco.</p>"
    # Anna is gold: a segment rule over fetched data picks the other variant.
    code, out, err = run(capsys, "block", "greeting", "--lookup", "serial=HP200-0042", *common)
    assert (code, err) == (0, "")
    assert out.strip() == "<p>Dear Anna Huber (gold), your HP200 Pro.</p>"


def test_cli_lookup_not_found_and_a_bad_file_are_one_line_exit_2(
    setup: tuple[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db_url, sources = setup
    args = ("block", "greeting", "--locale", "en", "--db", db_url, "--lookup", "serial=NOPE-1")
    code, out, err = run(capsys, *args, "--sources", str(sources))
    assert (code, out) == (2, "")
    assert err == "error: data source 'installation' found nothing for lookup key 'serial'\n"
    assert "NOPE-1" not in err
    bad = tmp_path / "bad.yaml"
    bad.write_text("deadline: 1\nsources:\n  x: {kind: ftp, key: a}\n", encoding="utf-8")
    code, out, err = run(capsys, *args, "--sources", str(bad))
    assert (code, out) == (2, "")
    assert err.startswith(f"error: {bad}:3:") and err.count("\n") == 1
    assert "Traceback" not in err
    code, out, err = run(capsys, *args, "--sources", str(tmp_path / "missing.yaml"))
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1
    code, _, err = run(capsys, *args[:-1], "serial", "--sources", str(sources))
    assert (code, err) == (2, "error: --lookup takes NAME=VALUE, e.g. serial=HP200-0042\n")


def test_a_bad_sources_file_fails_at_start(tmp_path: Path, db_url: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources: [1, 2]\n", encoding="utf-8")
    with pytest.raises(SourcesConfigError, match=r"bad\.yaml:1:"):
        Engine(Settings(db_url=db_url, home=ROOT, sources=str(bad)))


def test_the_contexts_own_values_win_and_data_is_a_template_variable(
    setup: tuple[str, Path],
) -> None:
    with engine_on(setup) as engine:
        given = reader("HP200-0077", customer={"name": "Mr. Ort"}, data={"installation": {}})
        block = engine.block("greeting", given)
        assert block.html.strip() == "<p>Hello Mr. Ort, your .</p>"


def test_without_sources_a_lookup_is_a_warning_and_asks_nothing(
    setup: tuple[str, Path], service: Service
) -> None:
    with engine_on(setup, sources=False) as engine:
        block = engine.block("greeting", reader("HP200-0042"))
    assert block.warnings[0].startswith("the context has lookup keys, but no data sources")
    assert service.count("/customers") == 0


def test_a_hanging_source_is_unavailable_within_the_deadline(setup: tuple[str, Path]) -> None:
    with engine_on(setup) as engine:
        started = time.monotonic()
        with pytest.raises(SourceUnavailable) as caught:
            engine.block("stuck", reader("HP200-0042"))
        assert time.monotonic() - started < 1.5
        assert caught.value.details == {"source": "hanging", "reason": "ran past its timeout"}
        # Only what the body reads is asked: the greeting never waits on the hanging source.
        assert "Ben Ort" in engine.block("greeting", reader("HP200-0077")).html


def test_only_sources_something_reads_are_asked(setup: tuple[str, Path], service: Service) -> None:
    with engine_on(setup) as engine:
        assert engine.block("plain", reader("HP200-0042")).html.strip() == "<p>No data here.</p>"
    # The segment rule reads customer.tier: the customer is asked even for a body without data.
    assert service.count("/customers") == 1 and service.count("/hang") == 0


def test_the_receipt_keeps_the_values_and_replay_asks_nothing(
    setup: tuple[str, Path], service: Service
) -> None:
    with engine_on(setup) as engine:
        rendered = engine.render("letter", reader("HP200-0042"))
    assert b"Dear Anna Huber (gold), your HP200 Pro." in rendered.content
    asked = service.count("/customers")
    service.stop.set()  # the systems of record are gone: a replay must not need them
    with engine_on(setup, sources=False) as engine:
        receipt = engine.receipt(rendered.receipt.id)
        assert receipt.context.lookup == {"serial": "HP200-0042"}
        assert receipt.context.data["installation"]["model"] == "HP200 Pro"
        assert receipt.context.customer["name"] == "Anna Huber"
        stored = json.dumps(receipt.model_dump(mode="json"))
        assert "127.0.0.1" not in stored and "installations.csv" not in stored
        replayed = engine.replay(rendered.receipt.id)
    assert replayed.content == rendered.content
    assert service.count("/customers") == asked


def test_explain_lists_every_source_asked_in_text_and_json(
    setup: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    db_url, sources = setup
    args = ("explain", "greeting", "--locale", "en", "--lookup", "serial=HP200-0042")
    args += ("--sources", str(sources), "--db", db_url)
    code, out, err = run(capsys, *args, "--format", "json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["winner"] == "gold"
    assert [(s["source"], s["key"], s["outcome"]) for s in data["sources"]] == [
        ("installation", "serial", "found"),
        ("customer", "customer_id", "found"),
    ]
    assert all(s["seconds"] >= 0 and s["cache_hit"] is False for s in data["sources"])
    code, out, err = run(capsys, *args)
    assert code == 0
    lines = [line for line in out.splitlines() if line.startswith("source ")]
    assert [line.rsplit(" in ", 1)[0] for line in lines] == [
        "source installation by serial: found",
        "source customer by customer_id: found",
    ]


def test_a_required_source_that_finds_nothing_is_lookup_not_found(
    setup: tuple[str, Path],
) -> None:
    with engine_on(setup) as engine, pytest.raises(LookupNotFound) as caught:
        engine.render("letter", reader("HP200-9999"))
    assert caught.value.details == {"source": "installation", "key": "serial"}


def test_a_batch_chunk_is_asked_once_and_its_answers_end_with_it(
    setup: tuple[str, Path], service: Service
) -> None:
    readers = [reader("HP200-0042"), reader("HP200-0077"), reader("HP200-0042")]
    with engine_on(setup) as engine:
        with engine.bulk_lookups("letter", readers):
            assert service.count("/customers") == 2  # two customers, each asked once
            documents = [engine.document("letter", r) for r in readers]
            assert service.count("/customers") == 2
        assert [d.blocks[0].html.strip() for d in documents] == [
            "<p>Dear Anna Huber (gold), your HP200 Pro.</p>",
            "<p>Hello Ben Ort, your HP200 Eco.</p>",
            "<p>Dear Anna Huber (gold), your HP200 Pro.</p>",
        ]
        engine.document("letter", readers[1])  # outside the chunk, cache_ttl 0: asked again
        assert service.count("/customers") == 3
