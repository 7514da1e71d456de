"""What two sequences share at their ends, so a diff only pairs up the middle.

``difflib.SequenceMatcher`` is quadratic in what it is given; a body or a text usually changes
in one place, so setting the shared head and tail aside first keeps a diff of a long document
as cheap as the change itself. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

__all__ = ["common_ends"]

T = TypeVar("T")


def common_ends(a: Sequence[T], b: Sequence[T]) -> tuple[int, int]:
    """How many items ``a`` and ``b`` share at the start, and then at the end: the two never
    overlap, so ``a[head:len(a) - tail]`` and ``b[head:len(b) - tail]`` hold every difference."""
    shortest = min(len(a), len(b))
    head = 0
    while head < shortest and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < shortest - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    return head, tail
