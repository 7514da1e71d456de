"""Diffs between versions: rows with line numbers and + / - marks."""

from __future__ import annotations

import re
import time
from difflib import SequenceMatcher

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from content_engine.core.models import Conditions, Variant
from content_engine.web.ui import diffs
from content_engine.web.ui.diffs import (
    MAX_LINES,
    MAX_ROWS,
    Diff,
    DiffBudget,
    DiffRow,
    diff_rows,
    variant_diff,
    variant_text,
)


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
    assert diff_rows(old, new) == Diff(expected)


def test_far_apart_changes_make_separate_hunks_with_context() -> None:
    old = "".join(f"line {i}\n" for i in range(1, 21))
    new = old.replace("line 2\n", "line two\n").replace("line 19\n", "line nineteen\n")
    rows = diff_rows(old, new, context=2).rows
    hunks = [r.text for r in rows if r.kind == "hunk"]
    assert hunks == ["@@ -1,4 +1,4 @@", "@@ -17,4 +17,4 @@"]
    assert [r.mark for r in rows if r.kind != "hunk"][:4] == ["", "-", "+", ""]


def test_a_variant_compares_as_its_file_so_conditions_and_status_show() -> None:
    before = Variant(key="en", body="<p>Hi</p>", status="published", version=1)
    after = before.model_copy(
        update={"status": "draft", "conditions": Conditions(roles=("buyer",)), "version": 2}
    )
    assert variant_text(after) == "---\nroles: [buyer]\nstatus: draft\n---\n<p>Hi</p>"
    changed = [(r.mark, r.text) for r in variant_diff(before, after).rows if r.kind != "context"]
    assert changed == [
        ("@@", "@@ -1,1 +1,5 @@"),
        ("+", "---"),
        ("+", "roles: [buyer]"),
        ("+", "status: draft"),
        ("+", "---"),
    ]
    assert variant_diff(None, before).rows[1:] == [DiffRow("added", None, 1, "<p>Hi</p>")]


LINES = st.lists(st.sampled_from(["", "a", "b", "c", "<p>x</p>", "  d"]), max_size=60)


HUNK = re.compile(r"@@ -(\d+),(\d+) \+(\d+),(\d+) @@")


def patched(a: list[str], diff: Diff) -> list[str]:
    """``a`` with the diff applied, checking every line the diff says ``a`` holds."""
    out: list[str] = []
    at = 0  # next line of ``a`` not yet copied
    for row in diff.rows:
        if row.kind == "hunk":
            found = HUNK.fullmatch(row.text)
            assert found is not None, row.text
            start = int(found.group(1)) - 1  # this header counts an empty range from 1 too
            out += a[at:start]
            at = start
        elif row.kind == "added":
            out.append(row.text)
        else:
            assert row.old == at + 1 and a[at] == row.text, row
            at += 1
            if row.kind == "context":
                out.append(row.text)
    return out + a[at:]


def text(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


@settings(max_examples=400)
@given(LINES, LINES, st.integers(min_value=0, max_value=4), st.booleans())
def test_every_diff_turns_the_old_text_into_the_new(
    a: list[str], b: list[str], context: int, tight: bool
) -> None:
    """Exact or simplified (no budget left), the rows are a true diff: applied, they give the
    new text, and the line numbers are the lines' own."""
    budget = DiffBudget(lines=0) if tight else None
    diff = diff_rows(text(a), text(b), context=context, budget=budget)
    assert diff.omitted == 0
    assert patched(a, diff) == b
    assert all(b[r.new - 1] == r.text for r in diff.rows if r.new is not None)
    assert bool(diff.rows) == (a != b)


@given(LINES, LINES, st.integers(min_value=0, max_value=4))
def test_the_grouping_is_difflibs(a: list[str], b: list[str], context: int) -> None:
    matcher = SequenceMatcher(None, a, b, autojunk=True)
    assert diffs._grouped(matcher.get_opcodes(), context) == list(
        matcher.get_grouped_opcodes(context)
    )


def shapes(n: int) -> dict[str, tuple[list[str], list[str]]]:
    """Texts on which difflib without bounds is quadratic or worse."""
    k = n // (n // 100 + 1)
    return {
        "blank-lines": (
            ["" if i % 2 else f"a{i}" for i in range(n)],
            ["" if i % 2 else f"b{i}" for i in range(n)],
        ),
        "same-line": (["x"] * n, ["x"] * (n - 1) + ["y"]),
        "repeats": ([f"l{i % k}" for i in range(n)], [f"l{(i * 7) % k}" for i in range(n)]),
        "reversed": ([f"l{i % k}" for i in range(n)], [f"l{i % k}" for i in range(n)][::-1]),
        "alternating": (["x", "y"] * (n // 2), ["y", "x"] * (n // 2)),
    }


@pytest.mark.parametrize("lines", [600, 1_000, 5_000, 50_000])
@pytest.mark.parametrize("shape", list(shapes(10)))
def test_a_diff_takes_bounded_time(lines: int, shape: str) -> None:
    a, b = shapes(lines)[shape]
    started = time.perf_counter()
    diff = diff_rows("\n".join(a), "\n".join(b))
    # Generous: these took 4.4 s (600 lines) and 15 s (1,000) unbounded; bounded, milliseconds.
    assert time.perf_counter() - started < 3
    assert len(diff.rows) <= MAX_ROWS
    assert diff.simplified or lines * 2 <= MAX_LINES + 2 or shape == "same-line"


def test_a_long_diff_is_simplified_and_cut_and_says_so() -> None:
    old = "\n".join(f"old {i}" for i in range(3_000))
    new = "\n".join(f"new {i}" for i in range(3_000))
    diff = diff_rows(old, new)
    assert diff.simplified
    assert len(diff.rows) == MAX_ROWS and diff.omitted == 6_000 + 1 - MAX_ROWS
    assert [r.kind for r in diff.rows[1:4]] == ["removed"] * 3


def test_a_page_budget_keeps_the_diffs_after_it_simple() -> None:
    budget = DiffBudget(lines=10)
    assert not diff_rows("a\nb\nc", "a\nB\nc", budget=budget).simplified  # 2 lines paired
    assert budget.lines == 8
    assert diff_rows("x\n" * 5 + "1", "y\n" * 5 + "1", budget=budget).simplified
