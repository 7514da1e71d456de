"""Compile a variant body once per version into a sandboxed template.

In: a body (XHTML fragment with ``data-*`` inline conditions, ``<ce-include>`` and Jinja
placeholders). Out: a ``CompiledBody`` whose template has the inline conditions folded into
``{% if %}`` tests and each include turned into a call, so a request costs one template render
and no markup parsing. The order of CONTRACT 4 holds: an element an inline condition drops is
never rendered, so its placeholders and includes are never evaluated.

An attribute value that holds placeholders is wrapped in a filter block: URLs in ``ce_safe_url``
(the rendered URL must have a safe scheme, see ``sanitize``), any other value in ``ce_attr``
(re-escaped whole, so no filter's ``Markup`` can close the quotes). Jinja blocks then nest inside
one attribute value or not at all, which keeps template structure and markup structure aligned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lxml import etree

from content_engine.core.conditions import INLINE_ATTRIBUTES, InlineCondition
from content_engine.core.errors import LibraryFormatError
from content_engine.core.markup.sanitize import is_url_attribute
from content_engine.core.markup.xhtml import RESERVED_CLASS, TOKEN_OPEN, Parsed, parse_body
from content_engine.core.templates.sandbox import BodySandbox

INCLUDE_TAG = "ce-include"
KEEP_FN, INCLUDE_FN = "__ce_keep", "__ce_include"
# More private-use markers, around conditional elements and in place of includes.
_IF_OPEN, _IF_CLOSE, _ENDIF, _INC_OPEN, _INC_CLOSE = (
    "\ue010",
    "\ue011",
    "\ue012",
    "\ue013",
    "\ue014",
)
# And around attribute values with placeholders: which filter, and the end of the block.
_ATTR_FILTERS = {
    "\ue015": "{% filter ce_safe_url %}",
    "\ue016": "{% filter ce_safe_url(images=true) %}",
    "\ue017": "{% filter ce_attr %}",
    "\ue018": "{% endfilter %}",
}
_URL, _IMAGE_URL, _ATTR, _END_FILTER = _ATTR_FILTERS
# What each marker becomes: ``IF_OPEN n IF_CLOSE`` the test of condition n, ``INC_OPEN n
# INC_CLOSE`` the call of include n.
_MARKER_TEXT = tuple(
    {
        _IF_OPEN: "{% if " + KEEP_FN + "(",
        _IF_CLOSE: ") %}",
        _ENDIF: "{% endif %}",
        _INC_OPEN: "{{ " + INCLUDE_FN + "(",
        _INC_CLOSE: ") }}",
        **_ATTR_FILTERS,
    }.items()
)


@dataclass(frozen=True)
class CompiledBody:
    """A body ready to render: the sandboxed template and what it refers to."""

    source: str  # the Jinja source, for debugging and ``explain``
    template: Any
    conditions: tuple[InlineCondition, ...]
    includes: tuple[str, ...]  # component ids, indexed by the include calls
    # Every variable the template reads from its render variables (``customer``, ``_``...).
    names: frozenset[str] = frozenset()


def _append_text(element: Any, text: str, *, before: bool) -> None:
    """Put ``text`` just before (or just after) ``element`` in document order."""
    if before:
        prev = element.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + text
        else:
            parent = element.getparent()
            parent.text = (parent.text or "") + text
    else:
        element.tail = text + (element.tail or "")


def _fold(root: Any) -> tuple[list[InlineCondition], list[str]]:
    """Replace inline conditions and includes in ``root`` by markers; return what they were.

    Each element's attributes are read in one call, and only an element with an inline
    condition is changed (a large import folds every body).
    """
    conditions: list[InlineCondition] = []
    includes: list[str] = []
    for element in root.iterdescendants(etree.Element):
        inline = {name: value for name, value in element.items() if name in INLINE_ATTRIBUTES}
        # The condition's markers first: the include marker must end up inside them.
        condition = InlineCondition.from_attributes(inline) if inline else None
        if condition is not None:
            attrib = element.attrib
            for name in inline:
                del attrib[name]
            conditions.append(condition)
            _append_text(element, f"{_IF_OPEN}{len(conditions) - 1}{_IF_CLOSE}", before=True)
            _append_text(element, _ENDIF, before=False)
        if element.tag == INCLUDE_TAG:
            includes.append(element.get("component", "").strip())
            marker = f"{_INC_OPEN}{len(includes) - 1}{_INC_CLOSE}"
            _append_text(element, marker, before=False)
    if includes:
        _drop_includes(root)
    return conditions, includes


def _drop_includes(root: Any) -> None:
    """Take the include elements out, their tails kept in place (their markers are in them)."""
    for element in list(root.iter(INCLUDE_TAG)):
        tail = element.tail
        element.tail = None
        parent = element.getparent()
        prev = element.getprevious()
        parent.remove(element)
        if tail:
            if prev is not None:
                prev.tail = (prev.tail or "") + tail
            else:
                parent.text = (parent.text or "") + tail


def _guard_attributes(root: Any) -> None:
    """Wrap each attribute value that holds placeholders in its filter block (markers)."""
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        tag = etree.QName(element.tag).localname.lower()
        for name, value in element.attrib.items():
            if TOKEN_OPEN not in value:
                continue
            local = etree.QName(name).localname.lower()
            if is_url_attribute(local):
                start = _IMAGE_URL if (tag, local) == ("img", "src") else _URL
            else:
                start = _ATTR
            element.set(name, f"{start}{value}{_END_FILTER}")


VOID_ELEMENTS = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)


def _serialize(root: Any) -> str:
    """The children of ``root`` as markup an HTML parser reads right.

    XML serialisation keeps URLs as written (the HTML method would percent-encode the
    placeholders in ``href``); empty non-void elements get an end tag, since ``<div/>`` opens
    a div in HTML.
    """
    for element in root.iter():
        empty = element.text is None and len(element) == 0
        if empty and isinstance(element.tag, str) and element.tag not in VOID_ELEMENTS:
            element.text = ""
    inner = etree.tostring(root, encoding="unicode", method="xml")
    start = inner.index(">") + 1
    end = inner.rindex("</")
    return inner[start:end]


def _jinja_markers(html: str) -> str:
    """Jinja in place of each marker. A marker is one character no body may hold (``xhtml``
    refuses them), so a plain replacement per kind of marker present does it: each is one
    fast scan, where ``str.translate`` with this table looks every character up (~20×
    slower on a typical body) and a pattern calls back per marker."""
    for marker, jinja in _MARKER_TEXT:
        if marker in html:
            html = html.replace(marker, jinja)
    return html


# Before the placeholders are put back, every ``{`` in the serialised markup is the body's own
# text or attribute value: a character reference (``&#123;``), a CDATA section, or a brace
# just before a mark. Where the next character would make it open a Jinja tag (``{``, ``%``,
# ``#``, or a placeholder's or the compiler's mark, which become ``{{``/``{%``), it is
# printed as the brace it is. Only the placeholders the markup check delimited and the
# compiler's own marks become Jinja: ``title="&#123;% if 0 %}"`` closed by ``&#123;% endif %}``
# in a later text had cut everything between out of the output, the attribute's closing quote
# with it, and what followed in the text became attributes (a handler the sanitizer never saw).
_LITERAL_OPENER = re.compile(r"\{(?=[{%#" + RESERVED_CLASS + "])")


def _jinja_source(
    body: str, filename: str, line_offset: int, parsed: Parsed | None = None
) -> tuple[str, list[InlineCondition], list[str]]:
    """The Jinja source ``body`` compiles to, with its inline conditions and includes."""
    root, restore = parsed or parse_body(body, filename, line_offset)
    conditions, includes = _fold(root)
    _guard_attributes(root)
    markup = _serialize(root)
    if "{" in markup:
        markup = _LITERAL_OPENER.sub("{{ '{' }}", markup)
    return _jinja_markers(restore(markup)), conditions, includes


def compile_body(
    body: str, sandbox: BodySandbox, filename: str = "<body>", line_offset: int = 0
) -> CompiledBody:
    """Check, fold and compile ``body``; raise ``LibraryFormatError`` if it is malformed."""
    try:
        source, conditions, includes = _jinja_source(body, filename, line_offset)
        template, names = sandbox.compile_body(source, filename, line_offset)
    except LibraryFormatError:
        # A template error in the editor's own text comes first, at its true position; the
        # folded source's line numbers are near it but not always on it. Parsed only on
        # failure: importing a large library spent a sixth of its time on this second parse.
        sandbox.check_syntax(body, filename, line_offset)
        raise
    return CompiledBody(source, template, tuple(conditions), tuple(includes), names)


# Shapes kept by one ``check_body`` caller: enough for every layout of a large library.
MAX_SHAPES = 20_000


def check_body(
    body: str,
    sandbox: BodySandbox,
    passed: set[str],
    filename: str = "<body>",
    line_offset: int = 0,
    parsed: Parsed | None = None,
) -> tuple[str, ...]:
    """What ``compile_body`` refuses, refused alike; the ids the body includes.

    ``parsed``: the body parsed already (``parse_body``), by a caller that parses it once for
    this and for sanitising; the tree is changed.

    ``passed`` holds the shapes (``BodySandbox.shape_of``) of bodies that compiled: a body of
    the same shape compiles too, since only its template text differs, so its markup is
    parsed and folded but Jinja's code generator (four fifths of compiling) is not run again.
    A library's variants share a few layouts, so importing one compiles each layout about once.
    """
    try:
        source, _conditions, includes = _jinja_source(body, filename, line_offset, parsed)
    except LibraryFormatError:
        return compile_body(body, sandbox, filename, line_offset).includes  # raises, as it must
    shape = sandbox.shape_of(source)
    if shape is not None and shape in passed:
        return tuple(includes)
    compiled = compile_body(body, sandbox, filename, line_offset)
    if shape is not None and len(passed) < MAX_SHAPES:
        passed.add(shape)
    return compiled.includes


def body_includes(body: str, filename: str = "<body>") -> tuple[str, ...]:
    """The component ids a body includes, in order (for the include graph)."""
    root, _ = parse_body(body, filename)
    return tuple(e.get("component", "").strip() for e in root.iter(INCLUDE_TAG))


def body_conditions(body: str, filename: str = "<body>") -> tuple[InlineCondition, ...]:
    """The inline conditions of a body, for lint."""
    root, _ = parse_body(body, filename)
    found = (InlineCondition.from_attributes(e.attrib) for e in root.iter() if e is not root)
    return tuple(c for c in found if c is not None)
