"""Body markup: an editor's XHTML fragment with Jinja placeholders, checked and parsed.

In: a body's source text. Out: an lxml tree whose text holds opaque tokens where the Jinja
placeholders were, and a function that puts them back after serialisation. Malformed markup
raises ``LibraryFormatError`` with file, line and column of the original source.

Placeholders are delimited the way Jinja's own lexer delimits them (string literals and
brackets included), never by a looser pattern: whatever Jinja will print as template data must
be what the XHTML check (and the sanitizer after it) saw as markup. ``{% raw %}`` is refused,
since its content would reach the output as template data that nobody checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.entities import html5
from typing import Any

from lxml import etree

from content_engine.core.errors import LibraryFormatError
from content_engine.core.markup.untrusted import untrusted_parser

# Jinja's own delimiters; what is inside may hold any character, ``<`` included (CONTRACT 4).
_OPENERS = re.compile(r"\{\{|\{%|\{#")
_ENDS = {"{{": "}}", "{%": "%}"}
# As jinja2.lexer: the raw directive, and string literals inside expressions and statements.
_RAW_BEGIN = re.compile(r"\{%[-+]?\s*raw\s*[-+]?%\}")
_STRING = re.compile(r"'([^'\\]*(?:\\.[^'\\]*)*)'|\"([^\"\\]*(?:\\.[^\"\\]*)*)\"", re.S)
_CLOSERS = {"(": ")", "[": "]", "{": "}"}
# Inside a tag, the characters that can end it or change how it ends; any other is plain.
_TAG_STOPS = {
    "}}": re.compile(r"[\'\"()\[\]{}]"),
    "%}": re.compile(r"%\}|[\'\"()\[\]{}]"),
}
_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")
_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})
# Private-use characters mark where a placeholder stood (and, in ``compile``, conditions,
# includes and filtered attributes): a body holding one of them is refused, since the text
# would be taken for a mark (an include it never wrote, a placeholder that is not there).
TOKEN_OPEN, TOKEN_CLOSE, TOKEN_PAD = "\ue000", "\ue001", "\ue002"
_RESERVED_FROM, _RESERVED_TO = 0xE000, 0xE01F
# The characters above as a regular expression's class, for whoever takes text into a body.
RESERVED_CLASS = "\ue000-\ue01f"
_RESERVED = re.compile(f"[{RESERVED_CLASS}]")
# A numeric character reference (long ones too: ``&#x0000E000;`` is the same character).
_CHAR_REF = re.compile(r"&#(?:[xX]([0-9a-fA-F]{1,16})|([0-9]{1,20}));")
TOKEN = re.compile(f"{TOKEN_OPEN}(\\d+){TOKEN_CLOSE}")
# What a token's padding can have become in the tree: attribute values turn newlines into spaces.
_PAD_RUN = re.compile(f"[{TOKEN_PAD}\n ]*")
_NOT_NEWLINE = re.compile("[^\n]")
_ROOT = "ce-root"
_POSITION_SUFFIX = re.compile(r", line \d+, column \d+$")
_LINE_REF = re.compile(r"\bline (\d+)")
_PARSER = untrusted_parser()


class _Refused(Exception):
    """A tag the body may not hold, at ``position`` of its source."""

    def __init__(self, position: int, message: str) -> None:
        self.position, self.message = position, message


_RAW_REFUSED = (
    "template syntax: {% raw %} is not allowed in a body (its content would reach the "
    "output unchecked); write {{ '{{' }} for a literal brace"
)


def _tag_end(source: str, start: int) -> int | None:
    """Where the ``{{``/``{%`` tag at ``start`` ends, as Jinja's lexer sees it.

    The end delimiter counts only outside string literals and with brackets balanced. ``None``
    when Jinja would refuse the tag (unterminated, unbalanced): the template check reports it.
    Only the characters that can change that are visited (``_TAG_STOPS``): a search in C
    steps over the rest, which read one by one in Python was a tenth of an import.
    """
    end = _ENDS[source[start : start + 2]]
    stops = _TAG_STOPS[end]
    stack: list[str] = []
    i = start + 2
    while (stop := stops.search(source, i)) is not None:
        i = stop.start()
        if not stack and source.startswith(end, i):
            return i + 2
        char = source[i]
        if char in "'\"":
            string = _STRING.match(source, i)
            if string is None:
                return None
            i = string.end()
            continue
        if char in _CLOSERS:
            stack.append(_CLOSERS[char])
        elif char in ")]}" and (not stack or stack.pop() != char):
            return None
        i += 1  # a ``%`` of ``%}`` inside brackets is plain text
    return None


def _spans(source: str) -> list[tuple[int, int]]:
    """Start and end of every Jinja tag in ``source``, in order."""
    found: list[tuple[int, int]] = []
    pos = 0
    while (opener := _OPENERS.search(source, pos)) is not None:
        start = opener.start()
        end: int | None
        if opener.group() == "{#":
            close = source.find("#}", start + 2)
            end = len(source) if close < 0 else close + 2  # as Jinja: unclosed runs to the end
        else:
            if _RAW_BEGIN.match(source, start):
                raise _Refused(start, _RAW_REFUSED)
            end = _tag_end(source, start)
            if end is None:  # refused by Jinja later; delimit it loosely meanwhile
                close = source.find(_ENDS[opener.group()], start + 2)
                if close < 0:
                    # Refused here: left as text, the compiler would print it (a brace of
                    # the body's text is printed, as a character reference's is).
                    raise _Refused(
                        start,
                        f"template syntax: {opener.group()} is never closed "
                        f"(with {_ENDS[opener.group()]})",
                    )
                end = close + 2
        found.append((start, end))
        pos = end
    return found


def _protect(
    source: str, found: list[tuple[int, int]], pad: bool
) -> tuple[str, list[str], list[int]]:
    """Replace each Jinja span in ``found`` with a token; also return the spans' texts and the
    length of each token's padding.

    ``pad``: each token followed by padding that keeps line and column true after it: one
    ``TOKEN_PAD`` per character of the span past the token's own length, each newline of the
    span kept (those the token's own characters stand on first). The parse drops the padding
    again (``_compact_tree``).
    """
    spans: list[str] = []
    pads: list[int] = []
    parts: list[str] = []
    pos = 0
    for start, end in found:
        text = source[start:end]
        head = f"{TOKEN_OPEN}{len(spans)}{TOKEN_CLOSE}"
        spans.append(text)
        parts += [source[pos:start], head]
        if pad:
            rest = text[len(head) :]
            padding = "\n" * text.count("\n", 0, len(head))
            padding += _NOT_NEWLINE.sub(TOKEN_PAD, rest) if "\n" in rest else TOKEN_PAD * len(rest)
            parts.append(padding)
            pads.append(len(padding))
        pos = end
    parts.append(source[pos:])
    return "".join(parts), spans, pads


def _compact(text: str, pads: list[int]) -> str:
    """Drop each token's padding (``pads[n]`` characters after token ``n``), so a token is
    just ``OPEN n CLOSE`` wherever it ends up."""
    out: list[str] = []
    pos = 0
    for match in TOKEN.finditer(text):
        end = match.end()
        out.append(text[pos:end])
        run = _PAD_RUN.match(text, end)
        pos = end + min(pads[int(match.group(1))], run.end() - end if run else 0)
    out.append(text[pos:])
    return "".join(out)


def _compact_tree(root: Any, pads: list[int]) -> None:
    for node in root.iter():
        if node.text and TOKEN_OPEN in node.text:
            node.text = _compact(node.text, pads)
        if node.tail and TOKEN_OPEN in node.tail:
            node.tail = _compact(node.tail, pads)
        if isinstance(node.tag, str):
            for name, value in node.attrib.items():
                if TOKEN_OPEN in value:
                    node.set(name, _compact(value, pads))


def _entity(match: re.Match[str]) -> str:
    name = match.group(1)
    if name in _XML_ENTITIES:
        return match.group(0)
    chars = html5.get(name + ";")
    if chars is None:
        return match.group(0)  # left for the parser to report with its position
    return "".join(f"&#{ord(c)};" for c in chars)


def _refuse_reserved(source: str, filename: str, line_offset: int) -> None:
    """Refuse the characters the engine marks with, written as they are or as references."""
    found = _RESERVED.search(source)
    at, code = (found.start(), ord(found.group())) if found else (-1, 0)
    if found is None and "&#" in source:
        for ref in _CHAR_REF.finditer(source):
            number = int(ref.group(1), 16) if ref.group(1) else int(ref.group(2))
            if _RESERVED_FROM <= number <= _RESERVED_TO:
                at, code = ref.start(), number
                break
    if at < 0:
        return
    line, column = _line_column(source, at)
    raise reserved_character(code, filename, line + line_offset, column)


def reserved_character(
    code: int, filename: str, line: int | None, column: int | None = None
) -> LibraryFormatError:
    """The error for a character the engine reserves, met in ``filename`` (a body, or a file
    an importer reads, which would put it into one)."""
    return LibraryFormatError(
        f"the character U+{code:04X} is one the engine reserves (private use, U+E000 to "
        "U+E01F, marks placeholders while a body is compiled): remove it",
        file=filename,
        line=line,
        column=column,
    )


def first_reserved(text: str) -> int | None:
    """The first reserved character in ``text`` (parsed text: references already resolved)."""
    found = _RESERVED.search(text)
    return ord(found.group()) if found else None


def _line_column(source: str, at: int) -> tuple[int, int]:
    """The line and column (both from 1) of the character at offset ``at``."""
    return source.count("\n", 0, at) + 1, at - (source.rfind("\n", 0, at) + 1) + 1


@dataclass(frozen=True)
class Restorer:
    """Puts the placeholders back into serialised markup; ``spans[n]`` is token ``n``'s text."""

    spans: tuple[str, ...]

    def __call__(self, serialized: str) -> str:
        return TOKEN.sub(lambda m: self.spans[int(m.group(1))], serialized)


# A parsed body: its ``<ce-root>`` element and the restorer of its placeholders.
Parsed = tuple[Any, Restorer]


def parse_body(source: str, filename: str = "<body>", line_offset: int = 0) -> Parsed:
    """Parse a body into a ``<ce-root>`` element; return it with the token restorer.

    ``line_offset`` is the number of file lines above the body (its front matter).
    """
    _refuse_reserved(source, filename, line_offset)
    try:
        found = _spans(source)
    except _Refused as exc:
        line, column = _line_column(source, exc.position)
        raise LibraryFormatError(
            exc.message, file=filename, line=line + line_offset, column=column
        ) from None
    # Padded tokens keep every line and column true, but the padding must then be dropped
    # from the whole tree again (a sixth of a parse). A body whose placeholders each sit on
    # one line keeps its lines true with bare tokens, and only the parser's errors need true
    # columns: it is parsed with bare tokens, and again padded only if that parse fails.
    if not any("\n" in source[start:end] for start, end in found):
        protected, spans, _ = _protect(source, found, pad=False)
        try:
            return _xml(protected), Restorer(tuple(spans))
        except etree.XMLSyntaxError:
            pass
    protected, spans, pads = _protect(source, found, pad=True)
    try:
        root = _xml(protected)
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
    _compact_tree(root, pads)
    return root, Restorer(tuple(spans))


def _xml(protected: str) -> Any:
    """The ``<ce-root>`` element of a protected body (HTML's named entities as references)."""
    text = _ENTITY.sub(_entity, protected) if "&" in protected else protected
    return etree.fromstring(f"<{_ROOT}>{text}</{_ROOT}>", _PARSER)


def check_body(source: str, filename: str = "<body>", line_offset: int = 0) -> None:
    """Raise ``LibraryFormatError`` if ``source`` is not a well-formed XHTML fragment."""
    parse_body(source, filename, line_offset)
