"""Diffs between versions: rows with line numbers and + / - marks."""

from __future__ import annotations

import pytest

from content_engine.models import Conditions, Variant
from content_engine.web.ui.diffs import DiffRow, diff_rows, variant_diff, variant_text


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("a\nb\n", "a\nb\n", []),
        (
            "a\nb\nc\n",
            "a\nB\nc\n",
            [
                DiffRow("hunk", None, None, "@@ -1,3 +1,3 @@"),
                DiffRow("context", 1, 1, "a"),
                DiffRow("removed", 2, None, "b"),
                DiffRow("added", None, 2, "B"),
                DiffRow("context", 3, 3, "c"),
            ],
        ),
        (
            "",
            "x\n",
            [DiffRow("hunk", None, None, "@@ -1,0 +1,1 @@"), DiffRow("added", None, 1, "x")],
        ),
    ],
)
def test_diff_rows(old: str, new: str, expected: list[DiffRow]) -> None:
    assert diff_rows(old, new) == expected


def test_far_apart_changes_make_separate_hunks_with_context() -> None:
    old = "".join(f"line {i}\n" for i in range(1, 21))
    new = old.replace("line 2\n", "line two\n").replace("line 19\n", "line nineteen\n")
    rows = diff_rows(old, new, context=2)
    hunks = [r.text for r in rows if r.kind == "hunk"]
    assert hunks == ["@@ -1,4 +1,4 @@", "@@ -17,4 +17,4 @@"]
    assert [r.mark for r in rows if r.kind != "hunk"][:4] == ["", "-", "+", ""]


def test_a_variant_compares_as_its_file_so_conditions_and_status_show() -> None:
    before = Variant(key="en", body="<p>Hi</p>", status="published", version=1)
    after = before.model_copy(
        update={"status": "draft", "conditions": Conditions(roles=("buyer",)), "version": 2}
    )
    assert variant_text(after) == "---\nroles: [buyer]\nstatus: draft\n---\n<p>Hi</p>"
    changed = [(r.mark, r.text) for r in variant_diff(before, after) if r.kind != "context"]
    assert changed == [
        ("@@", "@@ -1,1 +1,5 @@"),
        ("+", "---"),
        ("+", "roles: [buyer]"),
        ("+", "status: draft"),
        ("+", "---"),
    ]
    assert variant_diff(None, before)[1:] == [DiffRow("added", None, 1, "<p>Hi</p>")]
