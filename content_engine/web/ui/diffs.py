"""Readable differences between two versions of a variant, in bounded time.

In: two variants (or two texts). Out: a ``Diff``: ``DiffRow``s of a unified diff with line
numbers, each marked ``+`` (added), ``-`` (removed) or kept, so a table can say what changed in
marks and words, not by colour alone. A variant is compared as the text of its file (front
matter, then the body), so a changed condition or status shows like a changed line.

``difflib`` is quadratic or worse on some texts (two 600-line versions took 4.4 s, 1,000 lines
15 s), and a history page makes one diff per version. So: the lines both versions share at
the start and the end are set aside first (linear, and most edits are local); the rest is
paired line by line (``autojunk`` on: very common lines such as blank ones are not used as
anchors) only while it is at most ``MAX_LINES`` lines and the page's ``DiffBudget`` lasts;
past that it is shown as removed, then added (``simplified``, and the page says so). At most
``MAX_ROWS`` rows of one diff are shown (``omitted`` counts the rest).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from difflib import SequenceMatcher
from itertools import islice
from typing import Literal

from content_engine.core.diffing import common_ends
from content_engine.core.models import Variant
from content_engine.engine import format_variant

Kind = Literal["hunk", "context", "added", "removed"]
MARKS: dict[Kind, str] = {"hunk": "@@", "context": "", "added": "+", "removed": "-"}
# Differing lines (both sides together) paired line by line; measured worst cases stay well
# under 0.2 s at this size, where unbounded difflib took seconds.
MAX_LINES = 2_000
# Lines a whole page may pair line by line (a history of many long versions).
PAGE_LINES = 20_000
MAX_ROWS = 2_000

Opcode = tuple[str, int, int, int, int]


@dataclass(frozen=True)
class DiffRow:
    kind: Kind
    old: int | None  # line number in the old text
    new: int | None  # line number in the new text
    text: str

    @property
    def mark(self) -> str:
        return MARKS[self.kind]


@dataclass(frozen=True)
class Diff:
    rows: list[DiffRow]
    simplified: bool = False  # the changed lines were too many to pair: removed, then added
    omitted: int = 0  # rows past ``MAX_ROWS``, not shown

    def __bool__(self) -> bool:
        return bool(self.rows)


@dataclass
class DiffBudget:
    """The lines one page may still pair line by line; spent by each ``diff_rows``."""

    lines: int = PAGE_LINES

    def take(self, wanted: int) -> bool:
        if wanted > MAX_LINES or wanted > self.lines:
            return False
        self.lines -= wanted
        return True


def variant_text(variant: Variant | None) -> str:
    return "" if variant is None else format_variant(variant.model_copy(update={"version": 0}))


def diff_rows(old: str, new: str, context: int = 3, budget: DiffBudget | None = None) -> Diff:
    """The changed lines of ``old`` → ``new`` with ``context`` kept lines around each change."""
    a, b = old.splitlines(), new.splitlines()
    opcodes, simplified = _opcodes(a, b, budget or DiffBudget())
    groups = _grouped(opcodes, context)
    total = sum(
        1 + sum(i2 - i1 + (j2 - j1 if t != "equal" else 0) for t, i1, i2, j1, j2 in g)
        for g in groups
    )
    rows = list(islice(_rows(a, b, groups), MAX_ROWS))
    return Diff(rows, simplified, total - len(rows))


def _rows(a: list[str], b: list[str], groups: list[list[Opcode]]) -> Iterator[DiffRow]:
    for group in groups:
        first, last = group[0], group[-1]
        header = f"@@ -{first[1] + 1},{last[2] - first[1]} +{first[3] + 1},{last[4] - first[3]} @@"
        yield DiffRow("hunk", None, None, header)
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                yield from (
                    DiffRow("context", i1 + k + 1, j1 + k + 1, a[i1 + k]) for k in range(i2 - i1)
                )
                continue
            yield from (DiffRow("removed", i + 1, None, a[i]) for i in range(i1, i2))
            yield from (DiffRow("added", None, j + 1, b[j]) for j in range(j1, j2))


def variant_diff(old: Variant | None, new: Variant, budget: DiffBudget | None = None) -> Diff:
    return diff_rows(variant_text(old), variant_text(new), budget=budget)


def _opcodes(a: list[str], b: list[str], budget: DiffBudget) -> tuple[list[Opcode], bool]:
    """``SequenceMatcher.get_opcodes`` of ``a`` → ``b``, within the bounds; whether simplified."""
    head, tail = common_ends(a, b)
    a_end, b_end = len(a) - tail, len(b) - tail
    middle: list[Opcode]
    simplified = False
    if head in (a_end, b_end):  # only added or only removed lines: nothing to pair
        middle = [("replace", head, a_end, head, b_end)] if (a_end, b_end) != (head, head) else []
    elif budget.take((a_end - head) + (b_end - head)):
        matcher = SequenceMatcher(None, a[head:a_end], b[head:b_end], autojunk=True)
        middle = [
            (tag, i1 + head, i2 + head, j1 + head, j2 + head)
            for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        ]
    else:
        middle, simplified = [("replace", head, a_end, head, b_end)], True
    opcodes: list[Opcode] = []
    if head:
        opcodes.append(("equal", 0, head, 0, head))
    opcodes += middle
    if tail:
        opcodes.append(("equal", a_end, len(a), b_end, len(b)))
    return opcodes, simplified


def _grouped(opcodes: list[Opcode], context: int) -> list[list[Opcode]]:
    """The changes with ``context`` equal lines around each, as ``get_grouped_opcodes`` groups
    them (``difflib``'s own needs the matcher; ours comes from the bounded ``_opcodes``)."""
    if not any(tag != "equal" for tag, *_ in opcodes):
        return []
    codes = list(opcodes)
    tag, i1, i2, j1, j2 = codes[0]
    if tag == "equal":
        codes[0] = (tag, max(i1, i2 - context), i2, max(j1, j2 - context), j2)
    tag, i1, i2, j1, j2 = codes[-1]
    if tag == "equal":
        codes[-1] = (tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context))
    groups: list[list[Opcode]] = []
    group: list[Opcode] = []
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal" and i2 - i1 > 2 * context:
            group.append((tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context)))
            groups.append(group)
            group = []
            i1, j1 = max(i1, i2 - context), max(j1, j2 - context)
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        groups.append(group)
    return groups
