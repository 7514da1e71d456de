"""The CLI (CONTRACT 5): outputs, one-line errors and exit codes (2 bad input, 1 failed render)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from content_engine.cli import main
from tests.support.engine_factory import SAMPLE, copy_sample, write_files


class Cli:
    def __init__(self, db_url: str, capsys: pytest.CaptureFixture[bytes]) -> None:
        self.db_url, self.capsys = db_url, capsys

    def __call__(self, *args: str) -> tuple[int, bytes, str]:
        self.capsys.readouterr()
        code = main([*args, "--db", self.db_url])
        out, err = self.capsys.readouterr()
        return code, out, err.decode()


@pytest.fixture
def cli(db_url: str, capsysbinary: pytest.CaptureFixture[bytes]) -> Cli:
    run = Cli(db_url, capsysbinary)
    code, _, err = run("import", str(SAMPLE))
    assert code == 0, err
    return run


def test_block_html_and_json(cli: Cli) -> None:
    code, out, err = cli("block", "product.hp200.overview", "--locale", "de_AT", "--region", "AT")
    assert code == 0 and err == ""
    assert out.decode().startswith("<")
    code, out, _ = cli("block", "product.hp200.overview", "--locale", "fr", "--format", "json")
    data = json.loads(out)
    assert data["component"] == "product.hp200.overview"
    assert (data["variant"], data["locale"], data["version"]) == ("fr", "fr", 1)
    assert data["warnings"] == [] and "<" in data["html"]


def test_render_html_to_file(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "out" / "b.html"
    args = ("render", "brochure.hp200", "--locale", "fr", "--region", "FR", "-o", str(target))
    code, out, err = cli(*args)  # the folder is never created for -o
    assert (code, out) == (2, b"")
    assert err == f"error: cannot write {target}: folder {target.parent} does not exist\n"
    assert not target.parent.exists()
    target.parent.mkdir()
    code, out, err = cli(*args)
    assert (code, out, err) == (0, b"", "")
    html = target.read_text(encoding="utf-8")
    assert '<html lang="fr" dir="ltr"' in html
    assert [p.name for p in target.parent.iterdir()] == ["b.html"]  # no staging file left


def test_context_file_and_options_merge(cli: Cli, tmp_path: Path) -> None:
    ctx = tmp_path / "ctx.json"
    ctx.write_text(json.dumps({"locale": "fr", "segments": ["residential"], "role": "buyer"}))
    code, out, _ = cli(
        "explain",
        "product.hp400.overview",
        "--context",
        str(ctx),
        "--locale",
        "en",
        "--segment",
        "installer-partner",
        "--format",
        "json",
    )
    assert code == 0
    data = json.loads(out)
    assert data["context"]["locale"] == "en"  # the option overrides the file
    assert data["context"]["segments"] == ["residential", "installer-partner"]  # added
    assert data["context"]["role"] == "buyer"
    assert set(data) >= {"component", "context", "chain", "winner", "variants"}
    assert data["chain"] == ["en"]
    for variant in data["variants"]:
        assert set(variant) >= {"key", "candidate", "reasons", "rank"}


def test_explain_text_shows_winner_and_reasons(cli: Cli) -> None:
    code, out, _ = cli("explain", "legal.warranty", "--locale", "de-AT", "--region", "AT")
    text = out.decode()
    assert code == 0
    assert "chain: de-AT > de > en" in text
    assert "winner: de-region-at" in text
    assert "locale fr is not in the chain" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["render", "nope", "--locale", "en"], "error: unknown publication 'nope'"),
        (["block", "nope", "--locale", "en"], "error: unknown component 'nope'"),
        (
            ["block", "snippet.hotline", "--locale", "xx-ZZZZZZZZZZ"],
            "error: invalid context: locale: invalid locale tag",
        ),
        (["block", "snippet.hotline"], "error: a locale is required"),
        (
            ["render", "brochure.hp200", "--locale", "en", "--format", "docx"],
            "error: unknown format 'docx'",
        ),
        (
            ["render", "brochure.hp200", "--locale", "en", "--at", "someday"],
            "error: invalid context: at:",
        ),
        (
            ["explain", "legal.warranty", "--locale", "en", "--format", "yaml"],
            "error: unknown format 'yaml'",
        ),
        (
            ["block", "snippet.hotline", "--locale", "en", "--bogus"],
            "error: No such option: --bogus",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(cli: Cli, args: list[str], message: str) -> None:
    code, out, err = cli(*args)
    assert code == 2
    assert out == b""
    assert err.startswith(message), err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_context_file_errors(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"locale": "de",\n "shoe_size": 42}')
    code, _, err = cli("block", "snippet.hotline", "--context", str(bad))
    assert (code, err) == (2, "error: invalid context: shoe_size: unknown key\n")
    bad.write_text('{"locale": "de",,}')
    code, _, err = cli("block", "snippet.hotline", "--context", str(bad))
    assert code == 2 and err.startswith(f"error: {bad}:1:17: ")


def test_failed_render_exits_1(
    db_url: str, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    lib = write_files(
        tmp_path / "lib",
        {
            "library.yaml": "default_locale: en\nlocales: [en]\n",
            "c/only.fr/component.yaml": "id: only.fr\ntype: snippet\n",
            "c/only.fr/fr.html": "---\nlocale: fr\n---\n<p>Bonjour</p>\n",
            "c/boom/component.yaml": "id: boom\ntype: snippet\n",
            "c/boom/x.html": "<p>{{ 'a' * 100000000 }}</p>\n",
            "publications/p.yaml": (
                "id: p\ntitle: P\nslots: [{component: only.fr, required: true}]\n"
            ),
            "publications/q.yaml": "id: q\ntitle: Q\nslots: [{component: boom, required: true}]\n",
        },
    )
    cli = Cli(db_url, capsysbinary)
    assert cli("import", str(lib))[0] == 0
    code, out, err = cli("render", "p", "--locale", "de", "--role", "buyer")
    assert (code, out) == (1, b"")
    assert err == "error: required component only.fr: no variant applies for locale=de role=buyer\n"
    code, _, err = cli("render", "q", "--locale", "en")
    assert code == 1 and "sandbox violation" in err
    code, _, err = cli("block", "only.fr", "--locale", "de")
    assert code == 1 and err == "error: no variant of only.fr applies to locale=de\n"


def test_import_malformed_library_exits_2_with_position(cli: Cli, tmp_path: Path) -> None:
    lib = copy_sample(tmp_path)
    (lib / "docs/docs.disposal/fr.html").write_text("---\nlocale: fr\n---\n<p>un\n<b>deux</p>\n")
    code, _, err = cli("import", str(lib))
    assert code == 2
    assert err.startswith(
        "error: docs/docs.disposal/fr.html:5:12: malformed XHTML: Opening and ending tag mismatch"
    )


def test_lint_exits_1_on_problems(cli: Cli, tmp_path: Path) -> None:
    code, out, err = cli("lint")
    assert code == 0 and out == b"" and "0 errors, 0 warnings" in err
    lib = copy_sample(tmp_path)
    (lib / "docs/docs.disposal/xx.html").write_text(
        '---\nroles: [astronaut]\n---\n<p data-region="Mars">x</p>\n'
    )
    code, out, _ = cli("lint", str(lib))
    text = out.decode()
    assert code == 1
    assert "unknown role 'astronaut'" in text
    assert "unknown region (not an ISO 3166 code nor a declared group) 'Mars'" in text


def test_coverage_lists_every_combination(cli: Cli) -> None:
    code, out, _ = cli("coverage", "service.sheet", "--format", "json")
    data = json.loads(out)
    assert code == 0
    assert len(data["rows"]) == 4 * 3 * 3  # locales × roles × region groups
    assert all(row["covered"] for row in data["rows"])


def test_export_then_import_round_trips(cli: Cli, tmp_path: Path) -> None:
    out_dir = tmp_path / "exported"
    code, _, err = cli("export", str(out_dir))
    assert code == 0, err
    assert (out_dir / "library.yaml").is_file()
    code, _, err = cli("import", str(out_dir))
    assert code == 0 and "nothing changed" in err


def test_pdf_refuses_a_terminal_and_runs_as_a_real_process(db_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "CONTENT_ENGINE_DB": db_url}
    exe = [sys.executable, "-m", "content_engine"]
    done = subprocess.run([*exe, "import", str(SAMPLE)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    done = subprocess.run(
        [
            *exe,
            "render",
            "service.sheet",
            "--locale",
            "de-AT",
            "--role",
            "service-agent",
            "--format",
            "pdf",
        ],
        env=env,
        capture_output=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b"%PDF-")


def test_keys_create_list_revoke(cli: Cli) -> None:
    code, out, err = cli("keys", "create", "--role", "agent", "--name", "call centre")
    assert code == 0
    key = out.decode().strip()
    assert key.startswith("ce_")
    key_id = key.split("_")[1]
    assert f"created key {key_id} with role agent" in err
    code, out, _ = cli("keys", "list")
    listed = out.decode()
    assert key_id in listed and "agent" in listed and "call centre" in listed
    assert key.split("_", 2)[2] not in listed  # the secret is never shown again
    header, row = listed.splitlines()
    assert header.split() == ["id", "role", "status", "created", "last", "used", "name"]
    _, _, status, day, minute, used, *_ = row.split()
    assert (status, day, used) == ("active", datetime.now(UTC).strftime("%Y-%m-%d"), "never")
    assert len(minute) == 5 and minute[2] == ":"
    code, _, err = cli("keys", "revoke", key_id)
    assert code == 0 and f"revoked key {key_id}" in err
    code, out, _ = cli("keys", "list")
    assert "revoked" in out.decode()
    code, _, err = cli("keys", "create", "--role", "god")
    assert code == 2 and err.startswith("error: unknown role 'god'")
    code, _, err = cli("keys", "revoke", "nope")
    assert code == 2 and "error:" in err
