"""Values outside the library's vocabulary through the engine and the CLI: a warning in every
render's warnings, refused with ``--strict``; and ``lint`` fails on ambiguous variants."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from content_engine.core.errors import OutsideVocabulary
from content_engine.engine.facade import Engine
from tests.support.engine_factory import SAMPLE, copy_sample, make_engine, write_files
from tests.support.factories import context
from tests.support.servers import run_cli

ROLE = "role 'astronaut' is not one of the library's roles: buyer, technician, service-agent"
BLOCK = "product.hp200.overview"


@pytest.fixture
def engine(sample_db_url: str) -> Iterator[Engine]:
    with make_engine(sample_db_url) as e:
        yield e


def test_a_block_warns_first_and_keeps_the_warning_when_cached(engine: Engine) -> None:
    ctx = context("en", role="astronaut")
    first = engine.block(BLOCK, ctx)
    assert first.warnings == [ROLE]
    again = engine.block(BLOCK, ctx)
    assert again is first, "served from the block cache, warning and all"
    assert engine.cached_block(BLOCK, ctx) is first
    with pytest.raises(OutsideVocabulary):
        engine.block(BLOCK, ctx, strict=True)  # a cached block is refused too
    with pytest.raises(OutsideVocabulary):
        engine.cached_block(BLOCK, ctx, strict=True)
    known = engine.block(BLOCK, context("en", role="buyer", region="JP"), strict=True)
    assert known.warnings == [] and known.html == first.html


def test_a_refused_reader_costs_no_assembly(engine: Engine) -> None:
    with pytest.raises(OutsideVocabulary) as caught:
        engine.block(BLOCK, context("en", region="ZZ"), strict=True)
    assert caught.value.details["dimension"] == "region"
    assert caught.value.details["value"] == "ZZ"
    assert "AT" in caught.value.details["known"]
    assert engine.cached_block(BLOCK, context("en", region="ZZ")) is None


def test_a_document_warns_once_not_once_per_block(engine: Engine) -> None:
    ctx = context("en", role="astronaut", channel="pigeon")
    rendered = engine.render("brochure.hp200", ctx, format="json")
    channel = "channel 'pigeon' is not one of the library's channels: print, web, email"
    assert rendered.warnings[:2] == [ROLE, channel]
    assert rendered.warnings.count(ROLE) == 1
    data = json.loads(rendered.content)
    assert data["warnings"][:2] == [ROLE, channel]
    assert all(ROLE not in block["warnings"] for block in data["blocks"])
    with pytest.raises(OutsideVocabulary):
        engine.render("brochure.hp200", ctx, strict=True)
    with pytest.raises(OutsideVocabulary):
        engine.document("brochure.hp200", ctx, strict=True)


def test_explain_warns_and_refuses(engine: Engine) -> None:
    selection = engine.explain(BLOCK, context("en", segments=["astronauts"]))
    assert selection.warnings == [
        "segment 'astronauts' is not one of the library's segments: "
        "residential, enterprise, installer-partner, renewal-due"
    ]
    assert engine.explain(BLOCK, context("en", segments=["enterprise"])).warnings == []
    with pytest.raises(OutsideVocabulary):
        engine.explain(BLOCK, context("en", segments=["astronauts"]), strict=True)


def test_values_stated_only_by_variants_and_inline_conditions_are_known(
    db_url: str, tmp_path: Path
) -> None:
    lib = write_files(
        tmp_path / "lib",
        {
            "library.yaml": "default_locale: en\nroles: [buyer]\n",
            "c/a/component.yaml": "id: a\ntype: snippet\ntitle: A\n",
            "c/a/base.html": '<p data-segment="-vip">x</p><p data-channel="kiosk">y</p>\n',
            "c/a/pro.html": "---\nsegments: [installer]\n---\n<p>pro</p>\n",
        },
    )
    with make_engine(db_url) as engine:
        engine.import_library(lib)
        for ctx in (
            context("en", segments=["vip"]),
            context("en", segments=["installer"]),
            context("en", channel="kiosk"),
            context("en", channel="email"),
        ):
            assert engine.block("a", ctx, strict=True).warnings == []
        assert engine.block("a", context("en", channel="sms")).warnings == [
            "channel 'sms' is not one of the library's channels: web, print, email, kiosk"
        ]
        # A new revision brings its own vocabulary.
        (lib / "c/a/sms.html").write_text("---\nchannels: [sms]\n---\n<p>sms</p>\n")
        engine.import_library(lib)
        engine.refresh()
        assert engine.block("a", context("en", channel="sms"), strict=True).warnings == []


# --- the CLI, as a user runs it ------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["render", "brochure.hp200", "--format", "json"],
        ["block", BLOCK, "--format", "json"],
        ["explain", BLOCK, "--format", "json"],
    ],
)
def test_cli_warns_on_stderr_and_strict_exits_2(
    sample_db: tuple[str, Path], command: list[str]
) -> None:
    db, cwd = sample_db
    reader = ["--locale", "en", "--role", "astronaut", "--db", db]
    warned = run_cli(*command, *reader, cwd=cwd)
    assert warned.returncode == 0, warned.stderr
    assert f"warning: {ROLE}" in warned.stderr.splitlines()
    assert ROLE in json.loads(warned.stdout)["warnings"]
    refused = run_cli(*command, *reader, "--strict", cwd=cwd)
    assert (refused.returncode, refused.stdout) == (2, "")
    assert refused.stderr.splitlines() == [f"error: {ROLE}"]
    fine = run_cli(*command, "--locale", "en", "--role", "buyer", "--strict", "--db", db, cwd=cwd)
    assert fine.returncode == 0 and "warning" not in fine.stderr


def test_cli_strict_reads_the_context_file_too(sample_db: tuple[str, Path]) -> None:
    db, cwd = sample_db
    ctx = cwd / "ctx.json"
    ctx.write_text(json.dumps({"locale": "en", "region": "XX", "segments": ["residential"]}))
    refused = run_cli("block", BLOCK, "--context", str(ctx), "--strict", "--db", db, cwd=cwd)
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: region 'XX' is neither an ISO 3166-1 country code")
    assert "Traceback" not in refused.stderr


def test_batch_warns_per_line_and_strict_fails_the_line(sample_db: tuple[str, Path]) -> None:
    db, cwd = sample_db
    contexts = cwd / "contexts.jsonl"
    lines = [{"locale": "en", "region": "US"}, {"locale": "en", "region": "ZZ"}]
    contexts.write_text("".join(json.dumps(line) + "\n" for line in lines))
    args = ["batch", "brochure.hp200", "--contexts", str(contexts), "--format", "html"]
    warned = run_cli(*args, "--out", str(cwd / "warned"), "--db", db, cwd=cwd)
    assert warned.returncode == 0, warned.stderr
    assert "line 2: warning: region 'ZZ' is neither" in warned.stderr
    assert "line 1: warning" not in warned.stderr
    refused = run_cli(*args, "--out", str(cwd / "strict"), "--strict", "--db", db, cwd=cwd)
    assert refused.returncode == 1  # some lines failed, as with any bad line
    failures = (cwd / "strict" / "failures.jsonl").read_text().splitlines()
    assert [(f["line"], f["code"]) for f in map(json.loads, failures)] == [(2, "unknown_value")]
    assert sorted(p.name for p in (cwd / "strict").glob("*.html")) == ["00001.html"]


# --- lint: an ambiguity fails it ------------------------------------------------------------


def test_lint_exits_1_on_an_ambiguity_and_0_on_warnings_alone(tmp_path: Path) -> None:
    lib = copy_sample(tmp_path)
    # Same locale, no other condition, same priority: only the key decides between them.
    (lib / "docs/docs.disposal/en-copy.html").write_text(
        (lib / "docs/docs.disposal/en.html").read_text(encoding="utf-8"), encoding="utf-8"
    )
    failed = run_cli("lint", str(lib), "--db", f"sqlite:///{tmp_path / 'a.db'}", cwd=tmp_path)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    [line] = [x for x in failed.stdout.splitlines() if "ambiguous" in x or " tie " in x]
    assert line.startswith("error: docs.disposal: variants en, en-copy tie for locale=en")
    assert "1 errors, 0 warnings" in failed.stderr

    lib2 = copy_sample(tmp_path / "second")
    (lib2 / "docs/docs.disposal/xx.html").write_text(
        '---\nlocale: en\npriority: 5\n---\n<p onclick="alert(1)">x</p>\n', encoding="utf-8"
    )
    warned = run_cli("lint", str(lib2), "--db", f"sqlite:///{tmp_path / 'b.db'}", cwd=tmp_path)
    assert warned.returncode == 0, warned.stdout + warned.stderr
    assert warned.stdout.startswith("warning: ")
    warnings = (
        "(warnings do not fail lint: unsafe_markup, broken_slot, stale_translation,"
        " image_without_alt, skipped_heading, table_without_headers, link_without_text)"
    )
    assert warnings in warned.stderr
    help_text = run_cli("lint", "--help", cwd=tmp_path).stdout
    assert "unsafe_markup" in help_text and "broken_slot" in help_text


def test_the_sample_library_lints_clean_for_make_run(engine: Engine) -> None:
    assert [p for p in engine.lint(SAMPLE) if p.severity == "error"] == []
