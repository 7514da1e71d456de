"""Imported bodies are stored sanitised, with a warning per removal; lint flags them first
(issue 5, "Escaping")."""

from __future__ import annotations

from pathlib import Path

import pytest

from content_engine.cli import main
from tests.support.engine_factory import SAMPLE, copy_sample, make_engine

UNSAFE = (
    "---\nlocale: fr\n---\n"
    "<p>Élimination</p>\n"
    '<p onmouseover="steal()">{{ customer.name }}</p>\n'
    "<script>alert(1)</script>\n"
)
CLEAN = "<p>Élimination</p>\n<p>{{ customer.name }}</p>\n\n"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_import_stores_sanitised_bodies_and_warns(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lib = copy_sample(tmp_path)
    (lib / "docs/docs.disposal/fr.html").write_text(UNSAFE, encoding="utf-8")
    code, _, err = run(capsys, "import", str(lib), "--db", db_url)
    assert code == 0, err
    lines = err.splitlines()
    assert lines[:2] == [
        "warning: docs/docs.disposal/fr.html: removed attribute onmouseover from <p> (line 5)",
        "warning: docs/docs.disposal/fr.html: removed <script> (line 6)",
    ]
    assert lines[2].startswith("revision 1: ")  # ImportReport.summary() as before
    with make_engine(db_url) as engine:
        assert engine.repository.get_variant("docs.disposal", "fr").body == CLEAN
    # Stored sanitised: the same folder again changes nothing, and warns the same.
    code, _, err = run(capsys, "import", str(lib), "--db", db_url)
    assert code == 0 and err.splitlines()[-1] == "nothing changed (revision 1)"
    assert len(err.splitlines()) == 3


def test_engine_import_reports_what_it_removed(db_url: str, tmp_path: Path) -> None:
    lib = copy_sample(tmp_path)
    (lib / "docs/docs.disposal/fr.html").write_text(UNSAFE, encoding="utf-8")
    with make_engine(db_url) as engine:
        report = engine.import_library(lib)
    assert report.warnings == [
        "docs/docs.disposal/fr.html: removed attribute onmouseover from <p> (line 5)",
        "docs/docs.disposal/fr.html: removed <script> (line 6)",
    ]
    assert report.summary().startswith("revision 1: ")


def test_the_sample_library_imports_with_nothing_removed_and_lints_clean(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "import", str(SAMPLE), "--db", db_url)
    assert code == 0 and "warning" not in err
    code, out, err = run(capsys, "lint", str(SAMPLE), "--db", db_url)
    assert (code, out) == (0, "")
    assert "0 errors, 0 warnings" in err


def test_lint_flags_bodies_sanitising_would_change(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lib = copy_sample(tmp_path)
    (lib / "docs/docs.disposal/fr.html").write_text(UNSAFE, encoding="utf-8")
    code, out, err = run(capsys, "lint", str(lib), "--db", db_url)
    assert code == 0  # warnings only
    assert out.splitlines() == [
        "warning: docs/docs.disposal/fr.html:5: docs.disposal/fr: "
        "removed attribute onmouseover from <p>",
        "warning: docs/docs.disposal/fr.html:6: docs.disposal/fr: removed <script>",
    ]
    assert "0 errors, 2 warnings" in err
    with make_engine(db_url) as engine:
        problems = [p for p in engine.lint(lib) if p.code == "unsafe_markup"]
    assert [(p.severity, p.line) for p in problems] == [("warning", 5), ("warning", 6)]
