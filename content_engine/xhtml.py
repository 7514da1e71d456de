"""Body markup: an editor's XHTML fragment with Jinja placeholders, checked and parsed.

In: a body's source text. Out: an lxml tree whose text holds opaque tokens where the Jinja
placeholders were, and a function that puts them back after serialisation. Malformed markup
raises ``LibraryFormatError`` with file, line and column of the original source.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html.entities import html5
from typing import Any

from lxml import etree

from .errors import LibraryFormatError

# Jinja's own delimiters; what is inside may hold any character, ``<`` included (CONTRACT 4).
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")
_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})
# Private-use characters cannot occur in a sane body; they mark where a placeholder stood.
TOKEN_OPEN, TOKEN_CLOSE, TOKEN_PAD = "\ue000", "\ue001", "\ue002"
_TOKEN = re.compile(f"{TOKEN_OPEN}(\\d+){TOKEN_CLOSE}(?:[{TOKEN_PAD}\\n]|&#10;)*")
_ROOT = "ce-root"
_POSITION_SUFFIX = re.compile(r", line \d+, column \d+$")
_LINE_REF = re.compile(r"\bline (\d+)")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _protect(source: str) -> tuple[str, list[str]]:
    """Replace each Jinja span with a same-length token, so line and column stay true."""
    spans: list[str] = []

    def token(match: re.Match[str]) -> str:
        text = match.group(0)
        head = f"{TOKEN_OPEN}{len(spans)}{TOKEN_CLOSE}"
        spans.append(text)
        pad = "".join("\n" if c == "\n" else TOKEN_PAD for c in text[len(head) :])
        return head + pad

    return _JINJA.sub(token, source), spans


def _entity(match: re.Match[str]) -> str:
    name = match.group(1)
    if name in _XML_ENTITIES:
        return match.group(0)
    chars = html5.get(name + ";")
    if chars is None:
        return match.group(0)  # left for the parser to report with its position
    return "".join(f"&#{ord(c)};" for c in chars)


def parse_body(
    source: str, filename: str = "<body>", line_offset: int = 0
) -> tuple[Any, Callable[[str], str]]:
    """Parse a body into a ``<ce-root>`` element; return it with the token restorer.

    ``line_offset`` is the number of file lines above the body (its front matter).
    """
    protected, spans = _protect(source)
    text = _ENTITY.sub(_entity, protected)
    wrapped = f"<{_ROOT}>{text}</{_ROOT}>"
    try:
        root = etree.fromstring(wrapped, _PARSER)
    except etree.XMLSyntaxError as exc:
        # The parser is shared, so its log may hold older entries: trust the exception's own.
        line, column = exc.position if exc.position else (exc.lineno or 1, 0)
        message = _POSITION_SUFFIX.sub("", str(exc.msg)).replace(_ROOT, "body end")
        message = _LINE_REF.sub(lambda m: f"line {int(m.group(1)) + line_offset}", message)
        if line == 1:
            column = max(1, column - len(_ROOT) - 2)
        raise LibraryFormatError(
            f"malformed XHTML: {message}", file=filename, line=line + line_offset, column=column
        ) from None

    def restore(serialized: str) -> str:
        return _TOKEN.sub(lambda m: spans[int(m.group(1))], serialized)

    return root, restore


def check_body(source: str, filename: str = "<body>", line_offset: int = 0) -> None:
    """Raise ``LibraryFormatError`` if ``source`` is not a well-formed XHTML fragment."""
    parse_body(source, filename, line_offset)
