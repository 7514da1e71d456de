"""What in a body breaks it for a reader with assistive technology (screen reader, braille).

In: a body (XHTML fragment with Jinja placeholders, as ``xhtml.parse_body`` reads it). Out:
``Barrier``s, each with its code, what is wrong and the line of the file. Pure: no I/O. ``lint``
reports them as warnings; the rendered HTML is checked in a browser by axe-core (tests).

Rules
-----
- ``image_without_alt``: every ``<img>`` has an ``alt``. ``alt=""`` says "decorative: skip
  me", so it is allowed only on an image also marked decorative with ``role="presentation"``
  or ``role="none"``; an empty ``alt`` on any other image is reported as well, since it is
  usually a text nobody wrote.
- ``skipped_heading``: within a body, a heading is at most one level below the one before it
  (``h2`` then ``h4`` skips ``h3``). The first heading may have any level: the page around the
  block decides where it starts.
- ``table_without_headers``: a ``<table>`` has at least one header cell (``<th>``) of its own
  (a nested table's do not count).
- ``link_without_text``: an ``<a href>`` has an accessible name: text (a placeholder counts, as
  it prints text), an ``aria-label``, ``aria-labelledby`` or ``title``, or an image inside
  with a non-empty ``alt``.

A placeholder (``{{ ... }}``) in ``alt`` or in a link's text is judged present: what it prints
is known only at render time. Statements and comments (``{% ... %}``, ``{# ... #}``) print
nothing and count for nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from content_engine.core.markup.xhtml import TOKEN, parse_body

DECORATIVE_ROLES = frozenset({"presentation", "none"})
_NAME_ATTRIBUTES = ("aria-label", "aria-labelledby", "title")
_HEADINGS = {f"h{n}": n for n in range(1, 7)}


@dataclass(frozen=True)
class Barrier:
    """One accessibility barrier in a body: its code, what it is, and its line in the file."""

    code: str
    what: str
    line: int


def _name(node: Any) -> str:
    """An element's lower-case local name ('' for comments and processing instructions)."""
    if not isinstance(node.tag, str):
        return ""
    return etree.QName(node.tag).localname.lower()


class _Text:
    """Whether a value prints any text, with the body's placeholders told apart."""

    def __init__(self, spans: tuple[str, ...]) -> None:
        self.spans = spans

    def __call__(self, value: str | None) -> bool:
        if not value:
            return False
        printed = TOKEN.sub(
            lambda m: "x" if self.spans[int(m.group(1))].startswith("{{") else "", value
        )
        return bool(printed.strip())


def _image_barrier(node: Any, has_text: _Text) -> str | None:
    alt = node.get("alt")
    if alt is None:
        return '<img> without alt text (write alt="" with role="presentation" if decorative)'
    role = (node.get("role") or "").strip().lower()
    if not has_text(alt) and role not in DECORATIVE_ROLES:
        return '<img> with empty alt not marked decorative (add role="presentation" or alt text)'
    return None


def _own_header_cells(table: Any) -> bool:
    """Whether ``table`` has a ``<th>`` that is not inside a nested table."""
    pending = list(table)
    while pending:
        node = pending.pop()
        name = _name(node)
        if name == "th":
            return True
        if name != "table":
            pending.extend(node)
    return False


def _link_named(link: Any, has_text: _Text) -> bool:
    """Whether a link has an accessible name: a name attribute, text, or an image's alt."""
    if any(has_text(link.get(attribute)) for attribute in _NAME_ATTRIBUTES):
        return True
    if has_text("".join(link.itertext())):
        return True
    return any(_name(n) == "img" and has_text(n.get("alt")) for n in link.iter())


def find_barriers(root: Any, spans: tuple[str, ...], line_offset: int = 0) -> list[Barrier]:
    """The barriers in a parsed body (``parse_body``'s root and its restorer's ``spans``), in
    document order."""
    has_text = _Text(spans)
    barriers: list[Barrier] = []
    previous: int | None = None

    def note(node: Any, code: str, what: str) -> None:
        barriers.append(Barrier(code, what, (node.sourceline or 1) + line_offset))

    for node in root.iter():
        name = _name(node)
        if name == "img" and (what := _image_barrier(node, has_text)) is not None:
            note(node, "image_without_alt", what)
        elif name in _HEADINGS:
            level = _HEADINGS[name]
            if previous is not None and level > previous + 1:
                skipped = ", ".join(f"h{n}" for n in range(previous + 1, level))
                note(node, "skipped_heading", f"<{name}> after <h{previous}> skips {skipped}")
            previous = level
        elif name == "table" and not _own_header_cells(node):
            note(node, "table_without_headers", "<table> without header cells (<th>)")
        elif name == "a" and node.get("href") is not None and not _link_named(node, has_text):
            note(node, "link_without_text", "<a> without text or accessible name")
    return barriers


def body_barriers(body: str, filename: str = "<body>", line_offset: int = 0) -> list[Barrier]:
    """The barriers in ``body``; raise ``LibraryFormatError`` if it is malformed.

    ``line_offset`` is the number of file lines above the body, as for ``parse_body``.
    """
    root, restore = parse_body(body, filename, line_offset)
    return find_barriers(root, restore.spans, line_offset)
