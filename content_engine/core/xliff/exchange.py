"""XLIFF 2.1 and 1.2 documents: written from units to translate, read back into translations.

In (write): ``Unit``s (a variant to translate: its component, the target key, the source key
and version, the source's segments, optionally targets) and the two languages. Out: XLIFF
bytes. In (read): bytes a translator sent back. Out: ``ReadUnit``s, each segment's target as
raw inline XML, which ``targets_of`` turns into items checked against the source's protected
parts. Pure: no I/O.

The mapping (CONTRACT 10): one ``<unit>`` (1.2: ``<group>``) per variant; one ``<segment>``
(1.2: ``<trans-unit>``) per segment; an inline element is ``<pc>`` (1.2: ``<g>``); a
placeholder, template statement, ``<ce-...>`` element or void element is a protected ``<ph>``
(``canDelete="no"``; 1.2: ``<ph>`` holding the code, or ``<x/>``). The unit id says what the
unit is, so that nothing rests on attributes a tool might drop:
``COMPONENT:TARGET-KEY:SOURCE-KEY:VERSION`` (names hold no ``:``).

Hostile input is refused before work grows with it: a size cap, no DTD (so no entities, no
XXE), no network, libxml2's depth and size guards (``huge_tree`` off), a cap on units.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from lxml import etree

from content_engine.core.errors import InvalidXliff
from content_engine.core.markup.untrusted import untrusted_parser
from content_engine.core.xliff.segments import (
    Extracted,
    Item,
    Pc,
    Ph,
    Segment,
    Text,
    forbidden_text,
    has_words,
    walk_codes,
)

__all__ = [
    "MAX_UNITS",
    "MAX_XLIFF_BYTES",
    "NS_12",
    "NS_20",
    "ReadUnit",
    "Unit",
    "Version",
    "XliffFile",
    "read_xliff",
    "targets_of",
    "write_xliff",
]

NS_20 = "urn:oasis:names:tc:xliff:document:2.0"
NS_12 = "urn:oasis:names:tc:xliff:document:1.2"
Version = Literal["2.1", "1.2"]
# A translation file of a whole library is a few MB; past this it is not one.
MAX_XLIFF_BYTES = 32 * 1024 * 1024
MAX_UNITS = 50_000
_DTD = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)
_UNIT_ID = re.compile(
    r"([a-z0-9][a-z0-9._-]*):([A-Za-z0-9][A-Za-z0-9._-]*):([A-Za-z0-9][A-Za-z0-9._-]*):([1-9][0-9]{0,9})"
)
_PARSER = untrusted_parser(remove_comments=True, remove_pis=True)


@dataclass(frozen=True)
class Unit:
    """A variant to translate: ``variant`` is the target key, made from ``source`` at
    ``version``; ``targets`` (one per segment) are written when given (pseudo-localisation)."""

    component: str
    variant: str
    source: str
    version: int
    segments: tuple[Segment, ...]
    targets: tuple[tuple[Item, ...], ...] | None = None

    @property
    def id(self) -> str:
        return f"{self.component}:{self.variant}:{self.source}:{self.version}"


@dataclass(frozen=True)
class ReadSegment:
    id: str
    line: int
    target: Any  # the <target> element, or None


@dataclass(frozen=True)
class ReadUnit:
    id: str
    line: int
    component: str
    variant: str
    source: str
    version: int
    segments: tuple[ReadSegment, ...]


@dataclass(frozen=True)
class XliffFile:
    version: Version
    source_language: str
    target_language: str
    units: tuple[ReadUnit, ...]


# --- writing ---------------------------------------------------------------------------------


class _Codes:
    """The ``<originalData>`` of one unit: each code's text under a ``d<n>`` id."""

    def __init__(self) -> None:
        self.data: list[str] = []

    def ref(self, code: str) -> str:
        self.data.append(code)
        return f"d{len(self.data)}"


def _inline(parent: Any, items: Sequence[Item], ns: str, codes: _Codes | None) -> None:
    """Append ``items`` to ``parent`` as XLIFF inline content (2.x with ``codes``, else 1.2)."""
    last: Any = None

    def text(value: str) -> None:
        if last is None:
            parent.text = (parent.text or "") + value
        else:
            last.tail = (last.tail or "") + value

    for item in items:
        if isinstance(item, Text):
            text(item.text)
        elif isinstance(item, Ph):
            last = etree.SubElement(parent, f"{{{ns}}}ph", id=item.id)
            if codes is not None:
                last.set("dataRef", codes.ref(item.code))
                last.set("canCopy", "no")
                last.set("canDelete", "no")
            else:
                last.text = item.code
        else:
            tag = "pc" if codes is not None else "g"
            last = etree.SubElement(parent, f"{{{ns}}}{tag}", id=item.id)
            if codes is not None:
                last.set("dataRefStart", codes.ref(item.start))
                last.set("dataRefEnd", codes.ref(item.end))
                last.set("canCopy", "no")
                last.set("canDelete", "no")
            _inline(last, item.items, ns, codes)


def _unit_20(file: Any, unit: Unit) -> None:
    element = etree.SubElement(
        file, f"{{{NS_20}}}unit", id=unit.id, name=f"{unit.component}/{unit.variant}"
    )
    original = etree.SubElement(element, f"{{{NS_20}}}originalData")
    codes = _Codes()
    for index, segment in enumerate(unit.segments):
        translated = unit.targets is not None
        node = etree.SubElement(
            element,
            f"{{{NS_20}}}segment",
            id=segment.id,
            state="translated" if translated else "initial",
        )
        _inline(etree.SubElement(node, f"{{{NS_20}}}source"), segment.items, NS_20, codes)
        if unit.targets is not None:
            target = etree.SubElement(node, f"{{{NS_20}}}target")
            _inline(target, unit.targets[index], NS_20, _Codes())
    if codes.data:
        for n, code in enumerate(codes.data, 1):
            etree.SubElement(original, f"{{{NS_20}}}data", id=f"d{n}").text = code
    else:
        element.remove(original)
    # A target's codes point at the same data as the source's: renumber them to match.
    for target in element.iter(f"{{{NS_20}}}target"):
        _point_at_source(target, element)


def _point_at_source(target: Any, unit: Any) -> None:
    refs = {
        e.get("id"): e
        for source in unit.iter(f"{{{NS_20}}}source")
        for e in source.iter(f"{{{NS_20}}}ph", f"{{{NS_20}}}pc")
    }
    for e in target.iter(f"{{{NS_20}}}ph", f"{{{NS_20}}}pc"):
        for name in ("dataRef", "dataRefStart", "dataRefEnd"):
            if e.get(name) is not None:
                e.set(name, refs[e.get("id")].get(name))


def _unit_12(body: Any, unit: Unit) -> None:
    group = etree.SubElement(
        body, f"{{{NS_12}}}group", id=unit.id, resname=f"{unit.component}/{unit.variant}"
    )
    for index, segment in enumerate(unit.segments):
        node = etree.SubElement(group, f"{{{NS_12}}}trans-unit", id=f"{unit.id}/{segment.id}")
        _inline(etree.SubElement(node, f"{{{NS_12}}}source"), segment.items, NS_12, None)
        if unit.targets is not None:
            target = etree.SubElement(node, f"{{{NS_12}}}target", state="translated")
            _inline(target, unit.targets[index], NS_12, None)


def _default_ns(namespace: str) -> Any:
    """``{None: namespace}``: lxml's way of saying "the default namespace" (its stubs want str
    keys)."""
    return {None: namespace}


def write_xliff(units: Sequence[Unit], source: str, target: str, version: Version) -> bytes:
    """An XLIFF document of ``units`` from language ``source`` to ``target``."""
    if version == "1.2":
        root = etree.Element(f"{{{NS_12}}}xliff", version="1.2", nsmap=_default_ns(NS_12))
        file = etree.SubElement(root, f"{{{NS_12}}}file", original="content-engine")
        file.set("datatype", "html")
        file.set("source-language", source)
        file.set("target-language", target)
        body = etree.SubElement(file, f"{{{NS_12}}}body")
        for unit in units:
            _unit_12(body, unit)
    else:
        root = etree.Element(
            f"{{{NS_20}}}xliff",
            version="2.1",
            srcLang=source,
            trgLang=target,
            nsmap=_default_ns(NS_20),
        )
        file = etree.SubElement(root, f"{{{NS_20}}}file", id="f1", original="content-engine")
        for unit in units:
            _unit_20(file, unit)
        if not units:  # a file holds at least one unit or group: an empty group says "none"
            etree.SubElement(file, f"{{{NS_20}}}group", id="nothing-to-translate")
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


# --- reading ---------------------------------------------------------------------------------


def _fail(message: str, line: int | None = None, unit: str | None = None) -> InvalidXliff:
    return InvalidXliff(
        message, file="xliff", line=line, details=[{"unit": unit, "line": line, "message": message}]
    )


def _parse(data: bytes) -> Any:
    if len(data) > MAX_XLIFF_BYTES:
        raise _fail(f"an XLIFF file is at most {MAX_XLIFF_BYTES // (1024 * 1024)} MB")
    if _DTD.search(data):
        raise _fail("a DOCTYPE or entity declaration is not allowed in XLIFF")
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else None
        raise _fail(f"malformed XML: {exc.msg}", line) from None
    except ValueError as exc:  # lxml: text with an encoding declaration it cannot honour
        raise _fail(f"malformed XML: {exc}") from None
    tree = root.getroottree()
    info: Any = tree.docinfo
    if info.doctype or info.internalDTD is not None:
        raise _fail("a DOCTYPE or entity declaration is not allowed in XLIFF")
    return root


def _split_id(unit_id: str | None, line: int) -> tuple[str, str, str, int]:
    match = _UNIT_ID.fullmatch(unit_id or "")
    if match is None:
        raise _fail(
            f"unit {unit_id!r} is not one this engine wrote (COMPONENT:KEY:SOURCE:VERSION)",
            line,
            unit_id,
        )
    return match.group(1), match.group(2), match.group(3), int(match.group(4))


def _read_units_20(root: Any) -> Iterator[ReadUnit]:
    for element in root.iter(f"{{{NS_20}}}unit"):
        line = element.sourceline or 0
        unit_id = element.get("id")
        component, variant, source, version = _split_id(unit_id, line)
        segments = tuple(
            ReadSegment(s.get("id") or "", s.sourceline or line, s.find(f"{{{NS_20}}}target"))
            for s in element.iter(f"{{{NS_20}}}segment")
        )
        yield ReadUnit(str(unit_id), line, component, variant, source, version, segments)


def _read_units_12(root: Any) -> Iterator[ReadUnit]:
    for group in root.iter(f"{{{NS_12}}}group"):
        line = group.sourceline or 0
        unit_id = group.get("id")
        component, variant, source, version = _split_id(unit_id, line)
        segments = []
        for node in group.iter(f"{{{NS_12}}}trans-unit"):
            node_id = node.get("id") or ""
            prefix = f"{unit_id}/"
            if not node_id.startswith(prefix):
                raise _fail(f"trans-unit {node_id!r} is not in its group", node.sourceline, unit_id)
            target = node.find(f"{{{NS_12}}}target")
            segments.append(ReadSegment(node_id[len(prefix) :], node.sourceline or line, target))
        yield ReadUnit(str(unit_id), line, component, variant, source, version, tuple(segments))


def read_xliff(data: bytes) -> XliffFile:
    """The units of an XLIFF 2.x or 1.2 document; structure errors name the line."""
    root = _parse(data)
    if root.tag == f"{{{NS_20}}}xliff":
        version: Version = "2.1"
        source, target = root.get("srcLang"), root.get("trgLang")
        units = _read_units_20(root)
    elif root.tag == f"{{{NS_12}}}xliff":
        version = "1.2"
        files = root.findall(f"{{{NS_12}}}file")
        languages = {(f.get("source-language"), f.get("target-language")) for f in files}
        if len(languages) > 1:
            raise _fail("every <file> of one import must have the same languages", 1)
        source, target = next(iter(languages), (None, None))
        units = _read_units_12(root)
    else:
        raise _fail(f"not an XLIFF 2.x or 1.2 document (root element {root.tag!r})", 1)
    if not target:
        raise _fail("the file names no target language (trgLang / target-language)", 1)
    read: list[ReadUnit] = []
    seen: dict[tuple[str, str], int] = {}
    for unit in units:
        if len(read) == MAX_UNITS:
            raise _fail(f"an XLIFF file holds at most {MAX_UNITS} units", unit.line, unit.id)
        key = (unit.component, unit.variant)
        if key in seen:
            raise _fail(
                f"unit {unit.id} translates {unit.component}/{unit.variant} again "
                f"(first on line {seen[key]})",
                unit.line,
                unit.id,
            )
        seen[key] = unit.line
        read.append(unit)
    return XliffFile(version, source or "", target, tuple(read))


# --- targets against their source ------------------------------------------------------------

_PH_TAGS = {f"{{{NS_20}}}ph", f"{{{NS_12}}}ph", f"{{{NS_12}}}x"}
_PC_TAGS = {f"{{{NS_20}}}pc", f"{{{NS_12}}}g"}


def _items(element: Any, codes: dict[str, Ph | Pc], where: str) -> tuple[Item, ...]:
    items: list[Item] = []

    def text(value: str | None, line: int) -> None:
        if value:
            bad = forbidden_text(value)
            if bad is not None and len(bad) == 1:
                raise _fail(
                    f"{where}: the text holds U+{ord(bad):04X}, a character the engine reserves "
                    "for its own marks (private use, U+E000 to U+E01F): remove it",
                    line,
                )
            if bad is not None:
                raise _fail(
                    f"{where}: the text holds {bad!r}; template code is a protected <ph>, "
                    "never text",
                    line,
                )
            items.append(Text(value))

    text(element.text, element.sourceline)
    for child in element:
        line = child.sourceline or element.sourceline
        code = codes.get(child.get("id") or "")
        if child.tag in _PH_TAGS:
            if not isinstance(code, Ph):
                raise _fail(f"{where}: no placeholder {child.get('id')!r} in its source", line)
            items.append(code)
        elif child.tag in _PC_TAGS:
            if not isinstance(code, Pc):
                raise _fail(f"{where}: no inline element {child.get('id')!r} in its source", line)
            items.append(Pc(code.id, code.start, code.end, _items(child, codes, where)))
        else:
            name = etree.QName(child).localname if isinstance(child.tag, str) else "?"
            raise _fail(f"{where}: <{name}> is not supported in a target", line)
        text(child.tail, line)
    return tuple(items)


def _check_codes(source: Segment, target: tuple[Item, ...], where: str, line: int) -> None:
    """Refuse a target whose protected parts are missing, doubled or reordered, or that lost
    all of its words."""
    if not has_words(target):
        raise _fail(f"{where}: the target has no text", line)
    expected = [c.id for c in walk_codes(source.items) if isinstance(c, Ph)]
    got = [c.id for c in walk_codes(target) if isinstance(c, Ph)]
    pairs = Counter(c.id for c in walk_codes(target) if isinstance(c, Pc))
    wanted = {c.id for c in walk_codes(source.items) if isinstance(c, Pc)}
    counts = Counter(got)
    for code in expected:
        if counts[code] == 0:
            raise _fail(f"{where}: placeholder <ph id={code!r}> is missing", line)
        if counts[code] > 1:
            raise _fail(f"{where}: placeholder <ph id={code!r}> is doubled", line)
    if got != expected:
        raise _fail(
            f"{where}: placeholders are reordered: {', '.join(got)} instead of "
            f"{', '.join(expected)}",
            line,
        )
    for code in sorted(wanted):
        if pairs[code] != 1:
            what = "missing" if pairs[code] == 0 else "doubled"
            raise _fail(f"{where}: inline element <pc id={code!r}> is {what}", line)


def targets_of(unit: ReadUnit, source: Extracted) -> list[tuple[Item, ...]] | None:
    """Each segment's target as items, checked against ``source`` (the body the unit was made
    from); ``None`` when no segment has a target yet (an untranslated unit)."""
    if all(s.target is None for s in unit.segments):
        return None
    by_id = {s.id: s for s in unit.segments}
    expected = [s.id for s in source.segments]
    if sorted(by_id) != sorted(expected) or len(by_id) != len(unit.segments):
        raise _fail(
            f"unit {unit.id}: segments {', '.join(s.id for s in unit.segments)} do not match "
            f"its source's {', '.join(expected) or '(none)'}",
            unit.line,
            unit.id,
        )
    codes = source.codes()
    targets = []
    for segment in source.segments:
        read = by_id[segment.id]
        where = f"unit {unit.id} segment {segment.id}"
        if read.target is None:
            raise _fail(f"{where}: no target (translate every segment of a unit)", read.line)
        try:
            items = _items(read.target, codes, where)
            _check_codes(segment, items, where, read.target.sourceline or read.line)
        except InvalidXliff as exc:
            raise _fail(exc.details[0]["message"], exc.line, unit.id) from None
        targets.append(items)
    return targets
