"""``lint`` warns about accessibility barriers in a body, with component, variant, file and
line, and never fails on them (issue 18, item 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from content_engine.cli import main
from tests.support.engine_factory import copy_sample

BARRIERS = (
    "---\nlocale: fr\n---\n"
    "<h2>Élimination</h2>\n"
    "<h4>Détails</h4>\n"
    '<p><img src="assets/logo.png"/> <a href="#top"> </a></p>\n'
    "<table><tr><td>1</td></tr></table>\n"
)


def test_lint_warns_about_each_barrier_where_it_is(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lib = copy_sample(tmp_path)
    (lib / "docs/docs.disposal/fr.html").write_text(BARRIERS, encoding="utf-8")
    capsys.readouterr()
    code = main(["lint", str(lib), "--db", db_url])
    out, err = capsys.readouterr()
    assert code == 0, out + err  # warnings only
    where = "warning: docs/docs.disposal/fr.html"
    assert out.splitlines() == [
        f"{where}:5: docs.disposal/fr: <h4> after <h2> skips h3",
        f"{where}:6: docs.disposal/fr: <img> without alt text "
        '(write alt="" with role="presentation" if decorative)',
        f"{where}:6: docs.disposal/fr: <a> without text or accessible name",
        f"{where}:7: docs.disposal/fr: <table> without header cells (<th>)",
    ]
    assert "0 errors, 4 warnings" in err
    code = main(["lint", str(lib), "--db", db_url, "--format", "json"])
    found = json.loads(capsys.readouterr().out)
    assert [(p["code"], p["component"], p["variant"], p["line"]) for p in found] == [
        ("skipped_heading", "docs.disposal", "fr", 5),
        ("image_without_alt", "docs.disposal", "fr", 6),
        ("link_without_text", "docs.disposal", "fr", 6),
        ("table_without_headers", "docs.disposal", "fr", 7),
    ]
