"""Reduce an editor's body to an allow-list of elements and attributes, at save time.

In: a body (XHTML fragment with Jinja placeholders, as ``xhtml.parse_body`` reads it). Out: a
``Sanitized``: the body with everything outside the policy taken out, and one message per
removal (``removed <script> (line 3)``). A body that needs nothing removed comes back byte for
byte as it was written; otherwise it is re-serialised from the tree with the placeholders put
back exactly and the character references the editor wrote kept as written. Pure: no I/O.

Policy
------
- **Elements kept**: the content elements a document needs (``ALLOWED_ELEMENTS``: headings,
  paragraphs, sections, lists, tables, inline phrasing, ``a``, ``img``, ``br``/``hr``/``wbr``)
  and the engine's own ``<ce-include>``, in no namespace or the XHTML one, in any letter case.
- **Removed with their content** (``DANGEROUS_ELEMENTS``): what runs code, loads other
  documents, takes input or switches the HTML parser into another mode: ``script``, ``style``,
  ``iframe``, ``object``, ``embed``, forms and their controls, ``link``/``meta``/``base``,
  ``svg``, ``math``, ``template``, ``noscript``, media elements, ... Jinja statements
  (``{% ... %}``) inside them stay where the element was, so the template keeps its shape.
- **Unwrapped** (the element goes, its children stay): every other element, including any
  element in a foreign namespace. ``picture``/``source`` are unwrapped too: without ``srcset``
  they carry nothing, and the ``img`` inside stays.
- **Comments and processing instructions** are removed: an HTML parser reads ``<!-->`` and
  ``<?...>`` differently from an XML parser, so markup hidden in them to the XML check could
  come alive in a browser. Notes for editors belong in ``{# ... #}``, which never reach output.
- **Attributes kept**: ``class id title lang dir role``, ``aria-*``, ``data-*`` (the engine's
  inline conditions among them), and per element ``ELEMENT_ATTRIBUTES`` (``a``: href, hreflang,
  rel, target; ``img``: src, alt, width, height, loading; table cells: colspan, rowspan,
  headers, scope; ...). Every ``on*`` attribute goes; so do ``style`` (CSS can carry
  ``url(javascript:...)`` and ``expression()``, and styling belongs to the themes) and
  ``srcset`` (a list of URLs in a syntax of its own, for no gain in print).
- ``a target="_blank"`` gets ``rel="noopener"`` added if it lacks it.
- **URLs** (``href``, ``src``, ``cite``): relative (``assets/x.png``, ``../x``, ``#top``,
  ``//host/x``) or with a scheme from ``SAFE_SCHEMES`` (http, https, mailto, tel); ``img src``
  may also be ``data:image/png|jpeg|gif|webp`` (never SVG). Anything else (``javascript:``,
  ``vbscript:``, other ``data:``, ``file:``, ...) is removed. Values are normalised before
  the check: character references decoded, controls, format characters and whitespace dropped,
  case folded, so ``jav&#x09;ascript:`` and `` JAVASCRIPT:`` are caught. A value with markup
  characters (``< > " `` and backtick) is no URL and goes too. Other attributes whose
  value is a script URL (``javascript:``, ``vbscript:``, ``data:text/html``, ...) go as well.
- **Placeholders in attribute values** cannot be judged before render time. A static prefix that
  already names a scheme is judged now (``href="javascript:{{ x }}"`` goes); otherwise
  ``compile`` wraps the value so the *rendered* URL is checked by the sandbox's ``ce_safe_url``
  filter (``#`` and a warning when unsafe), and every other attribute value holding placeholders
  is re-escaped by ``ce_attr`` (see ``sandbox``).
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from html.entities import html5
from typing import Any

from lxml import etree

from content_engine.core.markup.xhtml import TOKEN, TOKEN_OPEN, Parsed, Restorer, parse_body

XHTML_NAMESPACE = "http://www.w3.org/1999/xhtml"

ALLOWED_ELEMENTS = frozenset(
    """
    h1 h2 h3 h4 h5 h6 p div span section article aside header footer nav main address
    figure figcaption blockquote pre code em strong b i u s small sub sup mark abbr cite q dfn
    kbd samp var time bdi bdo del ins br hr wbr ul ol li dl dt dd table caption thead tbody
    tfoot tr th td col colgroup a img ce-include
    """.split()
)
DANGEROUS_ELEMENTS = frozenset(
    """
    script style iframe frame frameset object embed applet form input button select textarea
    option optgroup datalist output keygen isindex link meta base svg math template noscript
    noembed noframes xmp plaintext listing audio video track canvas param portal
    """.split()
)
VOID_ELEMENTS = frozenset("br hr wbr img col".split())
GLOBAL_ATTRIBUTES = frozenset("class id title lang dir role".split())
ELEMENT_ATTRIBUTES: dict[str, frozenset[str]] = {
    "a": frozenset("href hreflang rel target".split()),
    "img": frozenset("src alt width height loading".split()),
    "td": frozenset("colspan rowspan headers".split()),
    "th": frozenset("colspan rowspan headers scope".split()),
    "ol": frozenset("start reversed type".split()),
    "li": frozenset({"value"}),
    "time": frozenset({"datetime"}),
    "q": frozenset({"cite"}),
    "blockquote": frozenset({"cite"}),
    "del": frozenset({"cite", "datetime"}),
    "ins": frozenset({"cite", "datetime"}),
    "col": frozenset({"span"}),
    "colgroup": frozenset({"span"}),
    "ce-include": frozenset({"component"}),
}
# Attributes whose value is a URL: the policy's three, and for compiling bodies stored before
# this policy, the ones HTML knows elsewhere (all of them are removed by the sanitizer).
URL_ATTRIBUTES = frozenset({"href", "src", "cite"})
URL_LIKE_ATTRIBUTES = URL_ATTRIBUTES | frozenset(
    "action formaction background poster data codebase longdesc usemap dynsrc lowsrc "
    "srcset ping manifest xlink:href".split()
)
SAFE_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
SCRIPT_SCHEMES = frozenset({"javascript", "vbscript", "livescript", "mocha"})
_IMAGE_DATA = re.compile(r"data:image/(?:png|jpeg|jpg|gif|webp)[;,]")
_ACTIVE_DATA = re.compile(r"data:(?:text/|application/|image/svg)")
_NOT_IN_URLS = re.compile(r"[<>\"`\x00]")
_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")
_DATA_NAME = re.compile(r"data-[a-z0-9_][a-z0-9._\-]*")
_ARIA_NAME = re.compile(r"aria-[a-z]+")
_REFERENCE = re.compile(r"&(?:#[xX]([0-9A-Fa-f]+)|#([0-9]+)|([A-Za-z][A-Za-z0-9]*));")
_STATEMENT = re.compile(r"\{%")
_MARKER_BASE = 0xF0000


@dataclass(frozen=True)
class Removal:
    """One thing sanitising took out (or added): what, and on which line of the file."""

    what: str
    line: int

    def __str__(self) -> str:
        return f"{self.what} (line {self.line})"


@dataclass(frozen=True)
class Sanitized:
    """A body after sanitising, and a message for each thing taken out of it."""

    body: str
    removed: list[str]  # "removed <script> (line 3)", one per removal
    removals: list[Removal] = field(default_factory=list)  # the same, structured


# What ``_normalise`` drops of ASCII text: C0 controls, space and DEL (Cc, Zs, isspace).
_ASCII_INVISIBLE = dict.fromkeys([*range(0x21), 0x7F])


def _normalise(value: str) -> str:
    """A URL as a browser would judge its scheme, and then some: stricter, never looser."""
    if value.isascii() and "&" not in value:  # most values: nothing to unescape, one C pass
        return value.translate(_ASCII_INVISIBLE).lower()
    return _normalise_any(value)


def _normalise_any(value: str) -> str:
    text = html.unescape(value)
    kept = (
        ch for ch in text if not (ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zs"))
    )
    return "".join(kept).casefold()


def url_problem(value: str, *, image: bool = False) -> str | None:
    """``None`` if ``value`` is a URL the policy allows, else why not: the scheme that is not
    allowed (``"javascript:"``), or ``"malformed"`` for markup characters, which no URL holds.

    ``image`` allows raster ``data:`` images (for ``img src``).
    """
    texts = (value, html.unescape(value))
    for text in texts:
        normal = _normalise(text)
        match = _SCHEME.match(normal)
        if match is None:
            continue
        scheme = match.group(1)
        if scheme in SAFE_SCHEMES:
            continue
        if scheme == "data" and image and _IMAGE_DATA.match(normal):
            continue
        return f"{scheme}:"
    if any(_NOT_IN_URLS.search(text) for text in texts):
        return "malformed"
    return None


def script_scheme(value: str) -> str | None:
    """The scheme, if a non-URL attribute value is a URL that could run script.

    Inert where it is, but page scripts and old browsers have followed URLs in any attribute.
    """
    normal = _normalise(value)
    match = _SCHEME.match(normal)
    if match is None:
        return None
    if match.group(1) in SCRIPT_SCHEMES or _ACTIVE_DATA.match(normal):
        return f"{match.group(1)}:"
    return None


def _static_prefix(value: str) -> str | None:
    """The part of an attribute value before its first placeholder; ``None`` if it has none."""
    if TOKEN_OPEN not in value:
        return None
    return value.split(TOKEN_OPEN, 1)[0]


def judge_url(value: str, *, image: bool = False) -> str | None:
    """Like ``url_problem`` on a tree value, which may hold placeholder tokens.

    With placeholders only a static prefix that already names a scheme can be judged; the rest
    is left to the render-time check.
    """
    prefix = _static_prefix(value)
    if prefix is None:
        return url_problem(value, image=image)
    if _SCHEME.match(_normalise(prefix)) is None:
        return None
    return url_problem(prefix, image=image)


def is_url_attribute(name: str) -> bool:
    """Whether an attribute (by its lower-case local name) holds a URL a browser may follow."""
    return name in URL_LIKE_ATTRIBUTES


def _local(name: str) -> str:
    return etree.QName(name).localname if name.startswith("{") else name


def _label(node: Any) -> str:
    """An element's name as the editor wrote it (with its prefix, if any)."""
    local = _local(node.tag)
    return f"{node.prefix}:{local}" if node.prefix else local


def _attribute_label(node: Any, name: str) -> str:
    if not name.startswith("{"):
        return name
    qname = etree.QName(name)
    prefixes = {uri: prefix for prefix, uri in node.nsmap.items() if prefix}
    prefix = prefixes.get(qname.namespace)
    return f"{prefix}:{qname.localname}" if prefix else qname.localname


def _attribute_allowed(element: str, name: str) -> bool:
    return (
        name in GLOBAL_ATTRIBUTES
        or name in ELEMENT_ATTRIBUTES.get(element, ())
        or _DATA_NAME.fullmatch(name) is not None
        or _ARIA_NAME.fullmatch(name) is not None
    )


class _Cleaner:
    def __init__(self, spans: tuple[str, ...], line_offset: int) -> None:
        self.spans = spans
        self.line_offset = line_offset
        self.removals: list[Removal] = []

    def note(self, node: Any, what: str) -> None:
        self.removals.append(Removal(what, (node.sourceline or 1) + self.line_offset))

    # --- the tree --------------------------------------------------------------------------

    def clean(self, parent: Any) -> None:
        for node in list(parent):
            tag = node.tag
            if not isinstance(tag, str):
                kind = "comment" if isinstance(node, etree._Comment) else "processing instruction"
                self.note(node, f"removed {kind}")
                self.drop(node)
                continue
            namespace = etree.QName(tag).namespace if tag[:1] == "{" else None
            name = _local(tag).lower()
            if name in DANGEROUS_ELEMENTS:
                self.note(node, f"removed <{_label(node)}>")
                self.drop(node)
            elif name in ALLOWED_ELEMENTS and namespace in (None, XHTML_NAMESPACE):
                self.attributes(node, name)
                self.clean(node)
            else:
                has_content = bool(node.text) or len(node) > 0
                self.clean(node)
                kept = ", kept its content" if has_content else ""
                self.note(node, f"removed <{_label(node)}>{kept}")
                self.unwrap(node)

    def statements(self, node: Any) -> str:
        """The Jinja statement tokens in a subtree's text, so removing it keeps Jinja's shape.

        Statements in attribute values are left out: ``compile`` makes those balance within
        their own value, so dropping the value drops whole blocks.
        """
        texts = [node.text or ""]
        if isinstance(node.tag, str):
            for inner in node.iterdescendants():
                texts += [inner.text or "", inner.tail or ""]
        return "".join(
            m.group(0)
            for text in texts
            for m in TOKEN.finditer(text)
            if _STATEMENT.match(self.spans[int(m.group(1))])
        )

    def drop(self, node: Any) -> None:
        _replace(node, self.statements(node))

    def unwrap(self, node: Any) -> None:
        parent = node.getparent()
        _append_text(parent, node, node.text or "")
        node.text = None
        children = list(node)
        for child in children:
            node.addprevious(child)  # moves the child, its tail with it
        if children:
            last = children[-1]
            last.tail = (last.tail or "") + (node.tail or "")
            node.tail = None
        _replace(node, "")

    # --- attributes ------------------------------------------------------------------------

    def attributes(self, node: Any, element: str) -> None:
        # Names are made for a removal's message only: most elements keep every attribute.
        for name, value in node.items():
            local = _local(name).lower()
            if name.startswith("{") or not _attribute_allowed(element, local):
                shown = _attribute_label(node, name)
                self.note(node, f"removed attribute {shown} from <{_label(node)}>")
                del node.attrib[name]
                continue
            if local in URL_ATTRIBUTES:
                bad = judge_url(value, image=element == "img" and local == "src")
            else:
                bad = script_scheme(_static_prefix(value) or value)
            if bad is not None:
                shown = _attribute_label(node, name)
                self.note(node, f"removed {bad} URL from <{_label(node)} {shown}>")
                del node.attrib[name]
        if element == "a":
            self.noopener(node, _label(node))

    def noopener(self, node: Any, label: str) -> None:
        names = {_local(n).lower(): n for n in node.attrib}
        target = node.get(names["target"]) if "target" in names else None
        if target is None:
            return
        if target.strip().lower() != "_blank" and TOKEN_OPEN not in target:
            return
        rel_name = names.get("rel", "rel")
        rel = node.get(rel_name, "")
        if "noopener" in rel.lower().split():
            return
        node.set(rel_name, f"{rel} noopener".strip())
        self.note(node, f'added rel="noopener" to <{label} target>')


def _append_text(parent: Any, node: Any, text: str) -> None:
    """Put ``text`` where ``node`` starts (after its previous sibling, or in its parent)."""
    if not text:
        return
    prev = node.getprevious()
    if prev is not None:
        prev.tail = (prev.tail or "") + text
    else:
        parent.text = (parent.text or "") + text


def _replace(node: Any, text: str) -> None:
    """Remove ``node`` (with its content), leaving ``text`` and its tail in its place."""
    parent = node.getparent()
    _append_text(parent, node, text + (node.tail or ""))
    parent.remove(node)


# --- serialisation -------------------------------------------------------------------------


def _references(source: str) -> dict[str, str]:
    """Character → the reference the editor wrote for it, for characters worth keeping so.

    Markup characters, whitespace and private-use characters are left to the serialiser.
    """
    found: dict[str, str] = {}
    for match in _REFERENCE.finditer(source):
        hexa, decimal, name = match.groups()
        if name is not None:
            char = html5.get(name + ";", "")
        else:
            number = int(hexa, 16) if hexa else int(decimal)
            char = chr(number) if 0 < number <= 0x10FFFF else ""
        if len(char) != 1 or char in "<>&\"' \t\n\r\f":
            continue
        if unicodedata.category(char) in ("Co", "Cs"):
            continue
        found.setdefault(char, match.group(0))
    return found


def _mark_references(root: Any, source: str) -> dict[str, str]:
    """Swap the characters the editor wrote as references for markers the serialiser keeps.

    Only in text and attribute values (a name may hold the same letter). Returns marker →
    reference. Markers come from plane 15 (private use, never a name character in XML).
    """
    references = _references(source)
    if not references or any(ord(c) >= _MARKER_BASE for c in source if ord(c) > 0xFFFF):
        return {}
    markers = {char: chr(_MARKER_BASE + i) for i, char in enumerate(references)}

    def mark(text: str) -> str:
        return "".join(markers.get(ch, ch) for ch in text)

    for node in root.iter():
        if node.text:
            node.text = mark(node.text)
        if node.tail:
            node.tail = mark(node.tail)
        if isinstance(node.tag, str):
            for name, value in node.attrib.items():
                node.set(name, mark(value))
    return {marker: references[char] for char, marker in markers.items()}


def _serialize(root: Any, source: str, restore: Restorer) -> str:
    for node in root.iter():
        empty = isinstance(node.tag, str) and node.text is None and len(node) == 0
        if empty and _local(node.tag).lower() not in VOID_ELEMENTS:
            node.text = ""  # <p></p>, not <p/>: an HTML parser reads the latter as an opening
    etree.cleanup_namespaces(root)
    references = _mark_references(root, source)
    inner = etree.tostring(root, encoding="unicode", method="xml")
    markup = inner[inner.index(">") + 1 : inner.rindex("</")]
    if references:
        markup = "".join(references.get(ch, ch) for ch in markup)
    if "\r\n" in source:
        markup = markup.replace("\n", "\r\n")
    return restore(markup)


def sanitize_body(
    body: str, filename: str = "<body>", line_offset: int = 0, parsed: Parsed | None = None
) -> Sanitized:
    """Reduce ``body`` to the policy; raise ``LibraryFormatError`` if it is malformed.

    ``line_offset`` is the number of file lines above the body, as for ``parse_body``;
    ``parsed``, the body parsed already, by a caller that parses it once for several uses
    (the tree is changed).
    """
    root, restore = parsed or parse_body(body, filename, line_offset)
    cleaner = _Cleaner(restore.spans, line_offset)
    cleaner.clean(root)
    if not cleaner.removals:
        return Sanitized(body, [])
    removals = cleaner.removals
    return Sanitized(_serialize(root, body, restore), [str(r) for r in removals], removals)
