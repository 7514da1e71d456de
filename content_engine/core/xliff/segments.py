"""A body split into what a translator translates and what nobody may touch.

In: a body (XHTML fragment with Jinja placeholders, as ``markup.xhtml.parse_body`` reads it).
Out: an ``Extracted``: the **segments** (one per block-level element holding text, or per run
of text between blocks) as inline items, and the **skeleton** around them. Inline items are
``Text``, ``Pc`` (an inline element such as ``<strong>`` or ``<a href=...>``, whose start and
end tags are kept here) and ``Ph`` (a placeholder, template statement or comment, a
``<ce-...>`` element, a void element such as ``<br/>``: kept here whole). ``rebuild`` puts
translated segments back into the skeleton. Pure: no I/O.

What a translator sends back never carries markup or template code of its own: every tag and
placeholder in a rebuilt body is the one extracted here from the source, picked by its id, so
attributes (conditions like ``data-role``, ``href``) and template code round-trip exactly and
cannot be broken or injected. Text is escaped; template delimiters in it are refused.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from lxml import etree

from content_engine.core.markup.xhtml import RESERVED_CLASS, TOKEN, parse_body

__all__ = [
    "Extracted",
    "Item",
    "Pc",
    "Ph",
    "Segment",
    "Text",
    "extract",
    "forbidden_text",
    "has_words",
    "rebuild",
    "serialize_items",
]

# Elements that hold a segment of their own (or contain others that do).
BLOCK_ELEMENTS = frozenset(
    "address article aside blockquote caption dd details div dl dt figcaption figure footer "
    "h1 h2 h3 h4 h5 h6 header hgroup li main nav ol p pre section summary table tbody td tfoot "
    "th thead tr ul".split()
)
# Elements without content: a placeholder wherever they stand.
VOID_ELEMENTS = frozenset("area br col hr img wbr".split())
_XML_NS = "{http://www.w3.org/XML/1998/namespace}"
# Template delimiters a translation's text may not hold: a translator writes text, and the
# text becomes part of a template (the placeholders are ``<ph>``); nor any character the
# engine reserves for its marks (all of them, not only the three placeholders use).
_TEMPLATE = re.compile(r"\{\{|\{%|\{#|[" + RESERVED_CLASS + "]")


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Ph:
    """A protected part, kept whole: ``code`` is its markup or template text."""

    id: str
    code: str


@dataclass(frozen=True)
class Pc:
    """An inline element around translatable content: ``start`` and ``end`` are its tags."""

    id: str
    start: str
    end: str
    items: tuple[Item, ...]


Item = Text | Ph | Pc


@dataclass(frozen=True)
class Segment:
    id: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Extracted:
    """A body's segments and the skeleton around them: ``skeleton`` holds strings and the
    indexes of ``segments`` where each goes."""

    segments: tuple[Segment, ...]
    skeleton: tuple[str | int, ...]

    def codes(self) -> dict[str, Ph | Pc]:
        """Every protected part of every segment, by its id (ids are unique in the body)."""
        return {code.id: code for segment in self.segments for code in walk_codes(segment.items)}


def walk_codes(items: Sequence[Item]) -> Iterator[Ph | Pc]:
    """The ``Ph`` and ``Pc`` items in document order, nested ones included."""
    for item in items:
        if isinstance(item, Ph):
            yield item
        elif isinstance(item, Pc):
            yield item
            yield from walk_codes(item.items)


def has_words(items: Sequence[Item]) -> bool:
    """Whether there is text to translate (not only whitespace and protected parts)."""
    return any(
        (isinstance(i, Text) and i.text.strip()) or (isinstance(i, Pc) and has_words(i.items))
        for i in items
    )


def forbidden_text(text: str) -> str | None:
    """What in a translation's text may not reach a template, or ``None``."""
    found = _TEMPLATE.search(text)
    return None if found is None else found.group()


def _name(element: Any) -> str:
    return str(etree.QName(element).localname)


def _attribute_name(name: str) -> str:
    if name.startswith(_XML_NS):
        return "xml:" + name[len(_XML_NS) :]
    return str(etree.QName(name).localname) if name.startswith("{") else name


class _Writer:
    """Serialises the parsed tree back to body text, placeholders restored as written."""

    def __init__(self, spans: Sequence[str]) -> None:
        self.spans = spans

    def restore(self, text: str) -> str:
        return TOKEN.sub(lambda m: self.spans[int(m.group(1))], text)

    def text(self, text: str) -> str:
        out, pos = [], 0
        for match in TOKEN.finditer(text):
            out.append(html.escape(text[pos : match.start()], quote=False))
            out.append(self.spans[int(match.group(1))])
            pos = match.end()
        out.append(html.escape(text[pos:], quote=False))
        return "".join(out)

    def start(self, element: Any, *, close: bool = False) -> str:
        parts = [_name(element)]
        for name, value in element.attrib.items():
            restored = self.restore(value)
            quote = "'" if '"' in restored and "'" not in restored else '"'
            escaped = self._attribute(value, quote)
            parts.append(f"{_attribute_name(name)}={quote}{escaped}{quote}")
        return f"<{' '.join(parts)}{'/' if close else ''}>"

    def _attribute(self, value: str, quote: str) -> str:
        out, pos = [], 0

        def plain(text: str) -> str:
            text = text.replace("&", "&amp;").replace("<", "&lt;")
            return text.replace(quote, "&quot;" if quote == '"' else "&#39;")

        for match in TOKEN.finditer(value):
            out += [plain(value[pos : match.start()]), self.spans[int(match.group(1))]]
            pos = match.end()
        out.append(plain(value[pos:]))
        return "".join(out)

    def end(self, element: Any) -> str:
        return f"</{_name(element)}>"

    def element(self, element: Any) -> str:
        """The whole element as body text."""
        if not isinstance(element.tag, str):
            return ""  # comments and processing instructions are no content (sanitize)
        inner = self.content(element)
        name = _name(element)
        if not inner and (name in VOID_ELEMENTS or name.startswith("ce-")):
            return self.start(element, close=True)
        return self.start(element) + inner + self.end(element)

    def content(self, element: Any) -> str:
        parts = [self.text(element.text or "")]
        for child in element:
            parts += [self.element(child), self.text(child.tail or "")]
        return "".join(parts)


class _Extractor:
    def __init__(self, writer: _Writer) -> None:
        self.writer = writer
        self.segments: list[Segment] = []
        self.skeleton: list[str | int] = []
        self.codes = 0

    def next_id(self) -> str:
        self.codes += 1
        return f"c{self.codes}"

    def has_block(self, element: Any) -> bool:
        if not isinstance(element.tag, str) or _name(element).startswith("ce-"):
            return False
        return any(isinstance(e.tag, str) and _name(e) in BLOCK_ELEMENTS for e in element.iter())

    def container(self, element: Any) -> None:
        """The content of ``element``: runs of inline content between block children."""
        run: list[Any] = []
        if element.text:
            run.append(element.text)
        for child in element:
            if self.has_block(child):
                self.flush(run)
                run = []
                self.skeleton.append(self.writer.start(child))
                self.container(child)
                self.skeleton.append(self.writer.end(child))
            else:
                run.append(child)
            if child.tail:
                run.append(child.tail)
        self.flush(run)

    def inline(self, run: Sequence[Any]) -> list[Item]:
        items: list[Item] = []
        for piece in run:
            if isinstance(piece, str):
                pos = 0
                for match in TOKEN.finditer(piece):
                    if match.start() > pos:
                        items.append(Text(piece[pos : match.start()]))
                    items.append(Ph(self.next_id(), self.writer.spans[int(match.group(1))]))
                    pos = match.end()
                if pos < len(piece):
                    items.append(Text(piece[pos:]))
            elif not isinstance(piece.tag, str):
                continue
            elif _name(piece).startswith("ce-") or _name(piece) in VOID_ELEMENTS:
                items.append(Ph(self.next_id(), self.writer.element(piece)))
            else:
                code = self.next_id()
                inner: list[Any] = [piece.text] if piece.text else []
                for child in piece:
                    inner.append(child)
                    if child.tail:
                        inner.append(child.tail)
                start, end = self.writer.start(piece), self.writer.end(piece)
                items.append(Pc(code, start, end, tuple(self.inline(inner))))
        return items

    def flush(self, run: Sequence[Any]) -> None:
        if not run:
            return
        items = self.inline(run)
        if not has_words(items):
            self.skeleton.append(serialize_items(items))
            return
        # Whitespace and protected parts around a segment's words are no text to translate:
        # they stay in the skeleton, so the translator sees the sentence alone.
        head: list[Item] = []
        tail: list[Item] = []
        while not _words_at(items[0]):
            head.append(items.pop(0))
        while not _words_at(items[-1]):
            tail.insert(0, items.pop())
        if isinstance(items[0], Text):
            text = items[0].text
            items[0] = Text(text.lstrip())
            head.append(Text(text[: len(text) - len(items[0].text)]))
        if isinstance(items[-1], Text):
            text = items[-1].text
            items[-1] = Text(text.rstrip())
            tail.insert(0, Text(text[len(items[-1].text) :]))
        self.skeleton += [serialize_items(head), len(self.segments), serialize_items(tail)]
        self.segments.append(Segment(f"s{len(self.segments) + 1}", tuple(items)))


def _words_at(item: Item) -> bool:
    return has_words((item,))


def _escaped(text: str) -> str:
    """``text`` as body text. A ``{`` at its end is written ``&#123;``: the placeholder that may
    follow (``{{ name }}``) would otherwise read as ``{{{ name }}``, one tag Jinja refuses."""
    escaped = html.escape(text, quote=False)
    return escaped[:-1] + "&#123;" if escaped.endswith("{") else escaped


def serialize_items(items: Sequence[Item]) -> str:
    """Inline items as body text: text escaped, codes as they were extracted."""
    out = []
    for item in items:
        if isinstance(item, Text):
            out.append(_escaped(item.text))
        elif isinstance(item, Ph):
            out.append(item.code)
        else:
            out += [item.start, serialize_items(item.items), item.end]
    return "".join(out)


def extract(body: str, filename: str = "<body>") -> Extracted:
    """The segments and skeleton of ``body`` (malformed bodies raise ``LibraryFormatError``)."""
    root, restorer = parse_body(body, filename)
    extractor = _Extractor(_Writer(restorer.spans))
    extractor.container(root)
    return Extracted(tuple(extractor.segments), tuple(extractor.skeleton))


def rebuild(extracted: Extracted, targets: Sequence[Sequence[Item]]) -> str:
    """The body with each segment replaced by its translation (in order of ``segments``)."""
    return "".join(
        part if isinstance(part, str) else serialize_items(targets[part])
        for part in extracted.skeleton
    )
