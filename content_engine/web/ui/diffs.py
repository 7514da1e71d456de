"""Readable differences between two versions of a variant.

In: two variants (or two texts). Out: ``DiffRow``s of a unified diff with line numbers, each
marked ``+`` (added), ``-`` (removed) or kept, so a table can say what changed in marks and
words, not by colour alone. A variant is compared as the text of its file (front matter, then
the body), so a changed condition or status shows like a changed line.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

from ...library import format_variant
from ...models import Variant

Kind = Literal["hunk", "context", "added", "removed"]
MARKS: dict[Kind, str] = {"hunk": "@@", "context": "", "added": "+", "removed": "-"}


@dataclass(frozen=True)
class DiffRow:
    kind: Kind
    old: int | None  # line number in the old text
    new: int | None  # line number in the new text
    text: str

    @property
    def mark(self) -> str:
        return MARKS[self.kind]


def variant_text(variant: Variant | None) -> str:
    return "" if variant is None else format_variant(variant.model_copy(update={"version": 0}))


def diff_rows(old: str, new: str, context: int = 3) -> list[DiffRow]:
    """The changed lines of ``old`` → ``new`` with ``context`` kept lines around each change."""
    a, b = old.splitlines(), new.splitlines()
    rows: list[DiffRow] = []
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        first, last = group[0], group[-1]
        header = f"@@ -{first[1] + 1},{last[2] - first[1]} +{first[3] + 1},{last[4] - first[3]} @@"
        rows.append(DiffRow("hunk", None, None, header))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows += [
                    DiffRow("context", i1 + k + 1, j1 + k + 1, a[i1 + k]) for k in range(i2 - i1)
                ]
                continue
            rows += [DiffRow("removed", i + 1, None, a[i]) for i in range(i1, i2)]
            rows += [DiffRow("added", None, j + 1, b[j]) for j in range(j1, j2)]
    return rows


def variant_diff(old: Variant | None, new: Variant) -> list[DiffRow]:
    return diff_rows(variant_text(old), variant_text(new))
