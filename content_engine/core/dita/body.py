"""A DITA topic, or the target of a conref, as a body: DITA elements in, XHTML out.

In: an element of a parsed DITA file, its heading level and a ``Resolver`` for what lies
outside the element (conref targets, keys, images, the titles of linked topics). Out: the text
of an XHTML body as ``bodies.md`` describes it, with ``<ce-include>`` where a conref or a key's
text stood and ``data-*`` conditions where profiling attributes were. Every element or
attribute that does not carry over is reported to ``Findings`` with its file and line; the
content of an element that is only unwrapped is kept.

Text is data, never a template: a ``{`` that would open a Jinja tag (``{{``, ``{%``, ``{#``)
is written as ``{{ '{' }}``, which prints it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from lxml import etree

from content_engine.core.dita.profiling import Profiler
from content_engine.core.dita.source import XML_LANG, Findings, is_external, refuse

__all__ = ["TOPIC_TYPES", "BodyWriter", "Key", "Resolver", "heading", "text_of"]

TOPIC_TYPES = ("concept", "task", "reference", "topic")
# Other topic elements met in DITA 1.3 documents: converted like ``topic`` (and reported).
_OTHER_TOPICS = frozenset(
    "glossentry glossgroup troubleshooting learningAssessment learningContent learningOverview "
    "learningPlan learningSummary subjectScheme".split()
)
_BODIES = frozenset(
    "body conbody taskbody refbody glossBody troublebody learningBody bodydiv".split()
)
# DITA element → (XHTML element, class): same meaning, one for one.
_PLAIN: dict[str, tuple[str, str | None]] = {
    "p": ("p", None),
    "ul": ("ul", None),
    "ol": ("ol", None),
    "li": ("li", None),
    "sl": ("ul", "sl"),
    "sli": ("li", None),
    "dl": ("dl", None),
    "dt": ("dt", None),
    "dd": ("dd", None),
    "dthd": ("dt", "dthd"),
    "ddhd": ("dd", "ddhd"),
    "lq": ("blockquote", None),
    "pre": ("pre", None),
    "codeblock": ("pre", "codeblock"),
    "lines": ("pre", "lines"),
    "msgblock": ("pre", "msgblock"),
    "screen": ("pre", "screen"),
    "div": ("div", None),
    "sectiondiv": ("div", "sectiondiv"),
    "abstract": ("div", "abstract"),
    "shortdesc": ("p", "shortdesc"),
    "context": ("section", "context"),
    "prereq": ("section", "prereq"),
    "result": ("section", "result"),
    "postreq": ("section", "postreq"),
    "tasktroubleshooting": ("section", "tasktroubleshooting"),
    "steps-informal": ("section", "steps-informal"),
    "refsyn": ("section", "refsyn"),
    "steps": ("ol", "steps"),
    "steps-unordered": ("ul", "steps"),
    "step": ("li", "step"),
    "stepsection": ("li", "stepsection"),
    "substeps": ("ol", "substeps"),
    "substep": ("li", "substep"),
    "cmd": ("span", "cmd"),
    "info": ("div", "info"),
    "stepresult": ("div", "stepresult"),
    "stepxmp": ("div", "stepxmp"),
    "tutorialinfo": ("div", "tutorialinfo"),
    "choices": ("ul", "choices"),
    "choice": ("li", "choice"),
    "b": ("b", None),
    "i": ("i", None),
    "u": ("u", None),
    "sup": ("sup", None),
    "sub": ("sub", None),
    "line-through": ("s", None),
    "overline": ("span", "overline"),
    "tt": ("code", None),
    "codeph": ("code", None),
    "cmdname": ("code", "cmdname"),
    "apiname": ("code", "apiname"),
    "filepath": ("code", "filepath"),
    "parmname": ("code", "parmname"),
    "option": ("code", "option"),
    "synph": ("code", "synph"),
    "varname": ("var", None),
    "userinput": ("kbd", None),
    "systemoutput": ("samp", None),
    "msgph": ("samp", "msgph"),
    "msgnum": ("samp", "msgnum"),
    "ph": ("span", None),
    "keyword": ("span", "keyword"),
    "term": ("dfn", None),
    "uicontrol": ("span", "uicontrol"),
    "wintitle": ("span", "wintitle"),
    "q": ("q", None),
    "cite": ("cite", None),
    "text": ("span", None),
}
# Left out with everything inside, and reported: what has no place in a body.
_LEFT_OUT = {
    "prolog": "metadata (author, dates, keywords) is not carried over",
    "titlealts": "alternative titles are not carried over",
    "indexterm": "index entries are not carried over",
    "indextermref": "index entries are not carried over",
    "index-base": "index entries are not carried over",
    "related-links": "related links are not carried over",
    "draft-comment": "draft comments are not carried over",
    "required-cleanup": "required-cleanup content is not carried over",
    "data": "data elements are not carried over",
    "data-about": "data elements are not carried over",
    "foreign": "foreign content is not carried over",
    "unknown": "unknown content is not carried over",
    "object": "embedded objects are not carried over",
    "colspec": "column specifications (widths, alignment) are not carried over",
    "spanspec": "column specifications (widths, alignment) are not carried over",
    "desc": "descriptions of tables and figures are not carried over",
}
_TRADEMARKS = {"tm": "\u2122", "reg": "\u00ae", "service": "\u2120"}
_VOID = frozenset({"img", "br", "hr", "wbr", "col"})
_JINJA_OPEN = re.compile(r"\{(?=[{%#])")
_DIGITS = re.compile(r"\d{1,5}")
MAX_DEPTH = 200  # nested elements followed; libxml2 stops at 256 already


@dataclass(frozen=True)
class Key:
    """A key a map defines: where it points and, when it has text, where that text is."""

    name: str
    file: str  # the map that defines it
    element: Any  # the defining element
    href: str | None  # a file inside the map's folder, with its fragment
    external: str | None  # an external URL


class Resolver(Protocol):
    """What a body needs from outside the element being converted."""

    def conref(self, file: str, element: Any, value: str, by_key: bool) -> str | None:
        """The component holding the target of ``conref``/``conkeyref`` ``value``."""
        ...

    def key(self, file: str, element: Any, name: str) -> Key | None: ...

    def key_text(self, key: Key) -> str | None:
        """The component holding the text of ``key``, or ``None`` when it has none."""
        ...

    def image(self, file: str, element: Any, href: str, resolved: bool = False) -> str | None:
        """The library path of the image ``href`` (copied to assets), or ``None``; a key's
        href is ``resolved`` already, relative to the map's folder."""
        ...

    def title(self, file: str, element: Any, href: str) -> str | None:
        """The title of the topic ``href`` points at."""
        ...


def text_of(element: Any) -> str:
    """The text of ``element`` with whitespace collapsed, comments and PIs aside."""
    parts = [t for t in element.xpath(".//text()[not(parent::comment())]")]
    return " ".join("".join(parts).split())


def _local(element: Any) -> str:
    tag = element.tag
    return tag if isinstance(tag, str) else ""


class BodyWriter:
    """Converts the elements of one DITA file into XHTML bodies."""

    def __init__(
        self, file: str, findings: Findings, profiler: Profiler, resolver: Resolver
    ) -> None:
        self.file, self.findings, self.profiler, self.resolver = file, findings, profiler, resolver

    # -- entry points -------------------------------------------------------------------

    def topic(self, element: Any, level: int) -> str:
        """The body of the topic ``element`` with its title at heading ``level``."""
        out = etree.Element("root")
        self._node(element, out, level, 0)
        return _serialise(out)

    def fragment(self, element: Any, level: int) -> str:
        """The body of one element (a conref target, a key's text), itself included."""
        out = etree.Element("root")
        self._node(element, out, level, 0, conref=False)
        return _serialise(out)

    def inline(self, element: Any) -> str:
        """The content of ``element`` without the element itself (a keyword's text)."""
        out = etree.Element("root")
        self._content(element, out, 2, 0)
        return _serialise(out)

    # -- the walk -----------------------------------------------------------------------

    def _report(self, element: Any, message: str) -> None:
        self.findings.add(self.file, element, f"<{_local(element) or 'node'}>", message)

    def _content(self, src: Any, dst: Any, level: int, depth: int) -> None:
        _append_text(dst, src.text)
        for child in src:
            self._node(child, dst, level, depth + 1)
            _append_text(dst, child.tail)

    def _node(self, src: Any, dst: Any, level: int, depth: int, *, conref: bool = True) -> None:
        if depth > MAX_DEPTH:
            raise refuse(f"elements nested deeper than {MAX_DEPTH}", self.file, src)
        if isinstance(src, etree._Entity):
            self.findings.add(self.file, src, f"&{src.name};", "entity references are not expanded")
            return
        if not isinstance(src.tag, str):  # comments and processing instructions: not content
            return
        tag = src.tag
        if tag.startswith("{"):
            self._report(src, "elements in another namespace are not carried over")
            return
        if tag in _LEFT_OUT:
            self._report(src, _LEFT_OUT[tag])
            return
        data = self.profiler.data_attributes(src, self.file)
        if data is None:
            return
        referenced = src.get("conref") is not None or src.get("conkeyref") is not None
        if conref and referenced and self._conref(src, dst, data):
            return
        for attribute in ("conaction", "conrefend"):
            if src.get(attribute) is not None:
                self._report(src, f"@{attribute} (pushing or ranges of conrefs) is not supported")
        self._element(src, dst, level, depth, data)

    def _conref(self, src: Any, dst: Any, data: dict[str, str]) -> bool:
        by_key = src.get("conkeyref") is not None
        value = src.get("conkeyref") if by_key else src.get("conref")
        target = self.resolver.conref(self.file, src, value, by_key)
        if target is None:
            return False  # reported; DITA falls back to the element's own content
        _sub(dst, "ce-include", None, {"component": target, **data})
        return True

    def _element(self, src: Any, dst: Any, level: int, depth: int, data: dict[str, str]) -> None:
        tag = src.tag
        attrs = dict(data)
        lang = src.get(XML_LANG)
        if lang and tag not in TOPIC_TYPES and tag not in _OTHER_TOPICS:
            attrs["lang"] = lang
        outputclass = src.get("outputclass")
        if tag in TOPIC_TYPES or tag in _OTHER_TOPICS or tag == "dita":
            self._topic(src, dst, level, depth, attrs)
        elif src.get("keyref") is not None and self._keyref(src, dst, level, depth, attrs):
            pass
        elif tag in _BODIES:
            self._content(src, dst, level, depth)
        elif tag in _PLAIN:
            name, css = _PLAIN[tag]
            el = _sub(dst, name, _classes(css, outputclass), attrs)
            self._content(src, el, level, depth)
        elif tag in ("section", "example", "fig", "table", "simpletable", "properties"):
            self._titled(src, dst, level, depth, attrs, outputclass)
        elif tag == "title":
            el = _sub(dst, f"h{min(level, 6)}", outputclass, attrs)
            self._content(src, el, level, depth)
        elif tag == "note":
            kind = src.get("type") or "note"
            el = _sub(dst, "div", _classes(f"note {kind}", outputclass), attrs)
            self._content(src, el, level, depth)
        elif tag in ("tgroup", "dlentry", "dlhead"):
            if tag == "tgroup":
                self._unwrap_cals(src)
            self._content(src, dst, level, depth)
        elif tag in ("thead", "tbody", "sthead", "strow", "row", "prophead", "property",
                     "chhead", "chrow"):  # fmt: skip
            self._row(src, dst, level, depth, attrs, outputclass)
        elif tag == "image":
            self._image(src, dst, attrs, outputclass)
        elif tag in ("xref", "link"):
            self._xref(src, dst, level, depth, attrs, outputclass)
        elif tag == "tm":
            self._content(src, dst, level, depth)
            _append_text(dst, _TRADEMARKS.get(src.get("tmtype") or "tm", ""))
        elif tag == "menucascade":
            el = _sub(dst, "span", _classes("menucascade", outputclass), attrs)
            for i, child in enumerate(c for c in src if isinstance(c.tag, str)):
                if i:
                    _append_text(el, " > ")
                self._node(child, el, level, depth + 1)
        elif tag == "fn":
            self._report(src, "footnotes are kept inline, in parentheses, not as footnotes")
            el = _sub(dst, "small", _classes("fn", outputclass), attrs)
            _append_text(el, " (")
            self._content(src, el, level, depth)
            _append_text(el, ")")
        elif tag == "alt":
            return  # read by <image>
        else:
            self._report(src, "not a DITA 1.3 element this converter knows: its content is kept")
            el = _sub(dst, "span", outputclass, attrs) if attrs or outputclass else dst
            self._content(src, el, level, depth)

    def _topic(self, src: Any, dst: Any, level: int, depth: int, attrs: dict[str, str]) -> None:
        if src.tag == "dita":  # a file of several topics
            self._content(src, dst, level, depth)
            return
        if src.tag in _OTHER_TOPICS:
            self._report(src, "a specialised topic type: converted as a plain topic")
        lang = src.get(XML_LANG)
        if lang and depth:  # the outermost topic's language is its variant's locale
            attrs["lang"] = lang
        el = _sub(dst, "article", _classes(src.tag, src.get("outputclass")), attrs)
        _append_text(el, "\n")
        for child in src:
            tag = child.tag if isinstance(child.tag, str) else ""
            nested = tag in TOPIC_TYPES or tag in _OTHER_TOPICS
            self._node(child, el, level + 1 if nested else level, depth + 1)
            _append_text(el, "\n")

    def _titled(
        self,
        src: Any,
        dst: Any,
        level: int,
        depth: int,
        attrs: dict[str, str],
        outputclass: str | None,
    ) -> None:
        tag = src.tag
        name = {"fig": "figure", "section": "section", "example": "section"}.get(tag, "table")
        css = {"example": "example", "simpletable": "simpletable", "properties": "properties"}
        el = _sub(dst, name, _classes(css.get(tag), outputclass), attrs)
        _append_text(el, src.text)
        for child in src:
            if _local(child) == "title":
                heading = {"figure": "figcaption", "table": "caption"}.get(
                    name, f"h{min(level + 1, 6)}"
                )
                self._content(child, _sub(el, heading, None, {}), level, depth + 1)
            else:
                self._node(child, el, level + 1, depth + 1)
            _append_text(el, child.tail)

    def _unwrap_cals(self, tgroup: Any) -> None:
        for entry in tgroup.iter("entry"):
            for attribute in ("namest", "nameend", "spanname"):
                if entry.get(attribute) is not None:
                    self._report(entry, f"@{attribute}: cells spanning columns are not supported")

    def _row(
        self,
        src: Any,
        dst: Any,
        level: int,
        depth: int,
        attrs: dict[str, str],
        outputclass: str | None,
    ) -> None:
        tag = src.tag
        if tag in ("thead", "tbody"):
            el = _sub(dst, tag, outputclass, attrs)
            self._content(src, el, level, depth)
            return
        header = tag in ("sthead", "prophead", "chhead") or _local(src.getparent()) == "thead"
        row = _sub(dst, "tr", outputclass, attrs)
        _append_text(row, src.text)
        for cell in src:
            if not isinstance(cell.tag, str):
                continue
            data = self.profiler.data_attributes(cell, self.file)
            if data is None:
                continue
            cell_attrs = dict(data)
            rows = cell.get("morerows")
            if rows and _DIGITS.fullmatch(rows):
                cell_attrs["rowspan"] = str(int(rows) + 1)
            td = _sub(row, "th" if header else "td", cell.get("outputclass"), cell_attrs)
            self._content(cell, td, level, depth + 1)
            _append_text(row, cell.tail)

    def _image(self, src: Any, dst: Any, attrs: dict[str, str], outputclass: str | None) -> None:
        alt_el = src.find("alt")
        alt = text_of(alt_el) if alt_el is not None else (src.get("alt") or "")
        href = src.get("href")
        key = src.get("keyref")
        by_key = bool(key) and not href
        if key and not href:
            found = self.resolver.key(self.file, src, key)
            href = found.href if found is not None else None
        path = self.resolver.image(self.file, src, href, by_key) if href else None
        if path is None:
            if not href:
                self._report(src, "an image without href")
            el = _sub(dst, "span", _classes("image", outputclass), attrs)
            _append_text(el, alt)
            return
        img = {"src": path, "alt": alt, **attrs}
        for size in ("width", "height"):
            value = src.get(size)
            if value and _DIGITS.fullmatch(value):
                img[size] = value
            elif value:
                self._report(src, f"@{size}={value!r}: only sizes in pixels are carried over")
        if src.get("placement") == "break":
            figure = _sub(dst, "p", _classes("image", outputclass), {})
            _sub(figure, "img", None, img)
        else:
            _sub(dst, "img", outputclass, img)

    def _xref(
        self,
        src: Any,
        dst: Any,
        level: int,
        depth: int,
        attrs: dict[str, str],
        outputclass: str | None,
    ) -> None:
        href = src.get("href")
        external = href is not None and (src.get("scope") == "external" or is_external(href))
        has_text = bool(text_of(src)) or any(isinstance(c.tag, str) for c in src)
        if external and href:
            el = _sub(dst, "a", outputclass, {"href": href, **attrs})
            if has_text:
                self._content(src, el, level, depth)
            else:
                _append_text(el, href)
            return
        el = _sub(dst, "span", _classes("xref", outputclass), attrs)
        if has_text:
            self._content(src, el, level, depth)
        elif href:
            _append_text(el, self.resolver.title(self.file, src, href) or href)
        self._report(src, "a cross-reference inside the map becomes its text, not a link")

    def _keyref(self, src: Any, dst: Any, level: int, depth: int, attrs: dict[str, str]) -> bool:
        """An element with ``@keyref``: its own content if it has one, else the key's text."""
        key = self.resolver.key(self.file, src, src.get("keyref") or "")
        if src.tag in ("image",) or key is None:
            return False
        has_content = bool(text_of(src)) or any(isinstance(c.tag, str) for c in src)
        if src.tag in ("xref", "link") and key.external and not src.get("href"):
            el = _sub(dst, "a", src.get("outputclass"), {"href": key.external, **attrs})
            if has_content:
                self._content(src, el, level, depth)
                return True
            text = self.resolver.key_text(key)
            if text is None:
                _append_text(el, key.external)
            else:
                _sub(el, "ce-include", None, {"component": text})
            return True
        if has_content:
            return False
        text = self.resolver.key_text(key)
        if text is None:
            self._report(src, f"key {key.name!r} has no text and the element none of its own")
            return True
        name, css = _PLAIN.get(src.tag, ("span", None))
        el = _sub(dst, name, _classes(css, src.get("outputclass")), attrs)
        _sub(el, "ce-include", None, {"component": text})
        return True


def heading(title: str, level: int) -> str:
    """A body that is only a heading: a map's ``topichead``."""
    out = etree.Element("root")
    _append_text(_sub(out, f"h{min(level, 6)}", None, {}), title)
    return _serialise(out)


def _classes(*names: str | None) -> str | None:
    joined = " ".join(n for n in names if n)
    return joined or None


def _sub(parent: Any, tag: str, css: str | None, attrs: dict[str, str]) -> Any:
    el = etree.SubElement(parent, tag)
    if css:
        el.set("class", css)
    for name, value in attrs.items():
        el.set(name, value)
    return el


def _append_text(dst: Any, text: str | None) -> None:
    if not text:
        return
    if len(dst):
        last = dst[-1]
        last.tail = (last.tail or "") + text
    else:
        dst.text = (dst.text or "") + text


def _escape(text: str | None) -> str | None:
    return None if text is None else _JINJA_OPEN.sub("{{ '{' }}", text)


def _serialise(root: Any) -> str:
    """The children of ``root`` as an XHTML fragment, with text that Jinja prints as it is."""
    for el in root.iter():
        el.text, el.tail = _escape(el.text), _escape(el.tail)
        for name, value in el.attrib.items():
            el.set(name, _escape(value) or "")
        if el.text is None and el.tag not in _VOID and el is not root:
            el.text = ""  # <p></p>, not <p/>, which an HTML parser reads as an open tag
    parts = [root.text or ""]
    parts.extend(etree.tostring(child, encoding="unicode") for child in root)
    return "".join(parts).strip() + "\n"
