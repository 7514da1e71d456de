"""A tagged PDF's structure tree read back with pypdf: the elements in document order."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

HEADINGS = ("/H1", "/H2", "/H3", "/H4", "/H5", "/H6")


@dataclass(frozen=True)
class Element:
    """One structure element: its type (``/H2``), alt text and attributes."""

    role: str
    alt: str | None
    node: DictionaryObject


def _resolved(value: Any) -> Any:
    return value.get_object() if isinstance(value, IndirectObject) else value


def elements(reader: PdfReader) -> list[Element]:
    """Every structure element of ``reader``, depth first: the reading order."""
    root = _resolved(reader.trailer["/Root"])
    tree = _resolved(root.get("/StructTreeRoot"))
    if tree is None:
        return []
    found: list[Element] = []

    def walk(node: Any) -> Iterator[None]:
        node = _resolved(node)
        if isinstance(node, ArrayObject):
            for kid in node:
                yield from walk(kid)
            return
        if not isinstance(node, DictionaryObject) or node.get("/Type") == "/OBJR":
            return
        role = node.get("/S")
        if role is not None:
            alt = node.get("/Alt")
            found.append(Element(str(role), None if alt is None else str(alt), node))
        kids = node.get("/K")
        if kids is not None:
            yield from walk(kids)

    for _ in walk(tree.get("/K")):
        pass
    return found


def heading_levels(found: list[Element]) -> list[int]:
    return [int(e.role[2]) for e in found if e.role in HEADINGS]


def heading_gaps(levels: list[int]) -> list[tuple[int, int]]:
    """(previous, next) pairs where a heading goes more than one level deeper, or the first
    heading is not an H1."""
    gaps = [(0, levels[0])] if levels and levels[0] != 1 else []
    gaps += [(a, b) for a, b in itertools.pairwise(levels) if b > a + 1]
    return gaps
