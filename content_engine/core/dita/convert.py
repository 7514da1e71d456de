"""A DITA map and its topics as a library: ``convert_map``.

In: the map's name, a ``Read`` callable that gives the bytes of a file of the map's folder by
name, and the ``--map`` mapping of profiling attributes. Out: a ``Conversion``: a ``Library``
(each topic a component of its type, conref targets and the text of keys as components reached
by ``<ce-include>``, the map a publication whose slots follow its topicrefs in order, nested
ones one heading level down) and the findings, every construct not carried over with its file
and line.

Refused with an error (nothing converted): a map or topic that is not well-formed XML, an href
leading out of the map's folder, a cycle of conrefs, keys or submaps, more topicrefs than
``MAX_SLOTS``; what the ``Read`` callable refuses (a symlink leading out, a FIFO, a huge file).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from content_engine.core.dita.body import TOPIC_TYPES, BodyWriter, Key, heading, text_of
from content_engine.core.dita.profiling import PROFILING_ATTRIBUTES, Profiler
from content_engine.core.dita.source import (
    XML_LANG,
    Finding,
    Findings,
    MissingFile,
    Read,
    is_external,
    parse_xml,
    refuse,
    resolve_href,
    split_href,
)
from content_engine.core.errors import InputError
from content_engine.core.locales import normalize_tag
from content_engine.core.models import (
    Component,
    Conditions,
    Library,
    LibrarySettings,
    Publication,
    Slot,
    Variant,
)
from content_engine.core.names import MAX_NAME, name_problem

__all__ = ["MAX_SLOTS", "Conversion", "convert_map"]

MAX_SLOTS = 20_000  # topicrefs of one publication
MAX_CHAIN = 15  # conrefs and keys nested: includes may go 16 deep (CONTRACT 4)
IMAGE_TYPES = frozenset({"svg", "png", "jpg", "jpeg", "gif", "webp"})
ASSETS = "assets/dita"
# Elements of maps and bookmaps that point at a topic (specialisations of topicref).
_TOPICREFS = frozenset(
    "topicref chapter appendix part preface notices bookabstract dedication colophon amendments "
    "glossref draftintro appendices topicset".split()
)
_CONTAINERS = frozenset({"topicgroup", "frontmatter", "backmatter", "booklists", "map", "bookmap"})
_GENERATED = "generated lists (tables of contents, indexes) are not carried over"
_MAP_LEFT_OUT = {
    "reltable": "relationship tables are not carried over",
    "bookmeta": "book metadata is not carried over",
    "anchorref": "anchor references are not supported",
    "navref": "navigation references are not supported",
    "anchor": "anchors are not supported",
    **dict.fromkeys(
        "toc indexlist figurelist tablelist abbrevlist trademarklist bibliolist glossarylist "
        "booklist".split(),
        _GENERATED,
    ),
}
_ID_JUNK = re.compile(r"[^a-z0-9._-]+")


def _name(text: str, fallback: str) -> str:
    """``text`` as a name the library takes (CONTRACT 1): lowercase, other characters ``-``."""
    return _ID_JUNK.sub("-", text.lower()).strip("-._")[: MAX_NAME - 8] or fallback


_VARIANT_DIMENSIONS = {"role": "roles", "segment": "segments", "region": "regions",
                       "channel": "channels"}  # fmt: skip


@dataclass
class Conversion:
    """A converted map: the library to write, and what could not be carried over."""

    library: Library
    publication: str
    topics: int
    findings: list[Finding]


@dataclass
class _Topic:
    component: str
    conditions: dict[str, tuple[str, ...]]
    level: int


@dataclass
class _Converter:
    read: Read
    findings: Findings
    profiler: Profiler
    trees: dict[str, Any] = field(default_factory=dict)
    keys: dict[str, Key] = field(default_factory=dict)
    components: dict[str, Component] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    topics: dict[tuple[str, str], _Topic] = field(default_factory=dict)
    fragments: dict[tuple[str, str], str] = field(default_factory=dict)
    ids: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    key_texts: dict[str, str | None] = field(default_factory=dict)
    chain: list[str] = field(default_factory=list)
    locales: set[str] = field(default_factory=set)
    slots: list[Slot] = field(default_factory=list)

    # -- files and names ----------------------------------------------------------------

    def tree(self, name: str) -> Any:
        if name not in self.trees:
            self.trees[name] = parse_xml(self.read(name), name)
        return self.trees[name]

    def claim(self, base: str) -> str:
        """A component id from ``base``, unique in the library."""
        clean = _name(base, "topic")
        if name_problem("component id", clean):  # a name the layout keeps (``component.yaml``)
            clean = f"{clean}-topic"
        candidate, n = clean, 2
        while candidate in self.components:
            candidate, n = f"{clean}-{n}", n + 1
        return candidate

    def locale(self, file: str, element: Any) -> str | None:
        raw = element.get(XML_LANG) if element is not None else None
        if not raw:
            return None
        try:
            tag = normalize_tag(raw)
        except InputError:
            self.findings.add(file, element, "@xml:lang", f"{raw!r} is no BCP 47 tag: ignored")
            return None
        self.locales.add(tag)
        return tag

    def add(
        self,
        base: str,
        folder: str,
        type_: str,
        title: str,
        body: str,
        locale: str | None,
        conditions: dict[str, tuple[str, ...]] | None = None,
    ) -> str:
        component_id = self.claim(base)
        stated = {_VARIANT_DIMENSIONS[d]: v for d, v in (conditions or {}).items()}
        variant = Variant(
            key=locale or "default",
            conditions=Conditions(locale=locale, **stated),
            body=body,
        )
        folder = "/".join(p for p in (_name(s, "") for s in folder.split("/")) if p)
        if name_problem("folder", folder):  # ``assets/``, ``publications/``: the library's
            folder = f"dita/{folder}"
        self.components[component_id] = Component(
            id=component_id,
            type=type_,
            title=title[:500],
            folder=folder,
            variants={variant.key: variant},
        )
        return component_id

    # -- keys -----------------------------------------------------------------------------

    def collect_keys(self, map_name: str, root: Any, stack: tuple[str, ...]) -> list[str]:
        """The keys ``root`` defines (the first definition of a name wins, the referencing
        map's before its submaps'); returns the submaps met, for the caller to visit."""
        submaps: list[str] = []
        for el in root.iter():
            if not isinstance(el.tag, str):
                continue
            if el.get("keyscope") is not None:
                self.findings.add(
                    map_name, el, "@keyscope", "key scopes are not supported: keys are global"
                )
            href = el.get("href")
            is_map = el.get("format") == "ditamap" or el.tag == "mapref"
            if is_map and href and not is_external(href) and el.get("scope") != "external":
                submaps.append(resolve_href(map_name, href, el))
            names = (el.get("keys") or "").split()
            if not names:
                continue
            if any(el.get(a) is not None for a in PROFILING_ATTRIBUTES):
                self.findings.add(
                    map_name,
                    el,
                    "key definition",
                    "profiling attributes on a key definition are not applied: the key is "
                    "defined for every reader",
                )
            target = external = None
            if href and (el.get("scope") == "external" or is_external(href)):
                external = href
            elif href:
                path = resolve_href(map_name, href, el)
                target = path + ("#" + split_href(href)[1] if split_href(href)[1] else "")
            for name in names:
                self.keys.setdefault(name, Key(name, map_name, el, target, external))
        return submaps

    def key(self, file: str, element: Any, name: str) -> Key | None:
        name = name.split("/")[0]
        found = self.keys.get(name)
        if found is None:
            self.findings.add(
                file, element, "@keyref", f"key {name!r} is not defined in the map: ignored"
            )
        return found

    def key_text(self, key: Key) -> str | None:
        if key.name in self.key_texts:
            return self.key_texts[key.name]
        source = _key_source(key)
        if source is None:
            self.key_texts[key.name] = None
            return None
        self.enter(f"key {key.name}", key.file, key.element)
        body = BodyWriter(key.file, self.findings, self.profiler, self).inline(source)
        self.chain.pop()
        locale = self.locale(key.file, key.element.getroottree().getroot())
        component = self.add(f"key.{key.name}", "keys", "snippet", f"key {key.name}", body, locale)
        self.key_texts[key.name] = component
        return component

    def plain_title(self, title: Any) -> str:
        """A title's text for editors, an empty element with a keyref read as the key's text."""
        parts: list[str] = []

        def visit(el: Any) -> None:
            key = self.keys.get((el.get("keyref") or "").split("/")[0])
            source = _key_source(key) if key is not None and not text_of(el) else None
            if source is not None:
                parts.append(text_of(source))
            else:
                parts.append(el.text or "")
                for child in el:
                    if isinstance(child.tag, str):
                        visit(child)
                    parts.append(child.tail or "")

        visit(title)
        return " ".join("".join(parts).split())

    def enter(self, what: str, file: str, element: Any) -> None:
        if what in self.chain:
            loop = " -> ".join([*self.chain[self.chain.index(what) :], what])
            raise refuse(f"a cycle of conrefs or keys: {loop}", file, element)
        if len(self.chain) >= MAX_CHAIN:
            raise refuse(f"conrefs and keys nested deeper than {MAX_CHAIN}", file, element)
        self.chain.append(what)

    # -- conrefs --------------------------------------------------------------------------

    def conref(self, file: str, element: Any, value: str, by_key: bool) -> str | None:
        if by_key:
            name, _, element_id = value.partition("/")
            key = self.key(file, element, name)
            if key is None:
                return None
            if key.href is None:
                self.findings.add(
                    file, element, "@conkeyref", f"key {name!r} points at no topic: ignored"
                )
                return None
            path, topic_id = split_href(key.href)
            fragment = f"{topic_id}/{element_id}" if element_id else topic_id
        else:
            path, fragment = split_href(value)
            path = resolve_href(file, value, element) if path else file
        where = f"{path}#{fragment}"
        if (path, fragment) in self.fragments:
            return self.fragments[(path, fragment)]
        try:
            target = self.find(path, fragment, file)
        except MissingFile:
            self.findings.add(file, element, "@conref", f"{where}: no such file: ignored")
            return None
        if target is None:
            self.findings.add(file, element, "@conref", f"{where}: no such element: ignored")
            return None
        self.enter(where, file, element)
        body = BodyWriter(path, self.findings, self.profiler, self).fragment(target, 2)
        self.chain.pop()
        root = target.getroottree().getroot()
        # The file and the element's id name it; the topic's id only when there is no element.
        base = ".".join(p for p in [*posixpath.splitext(path)[0].split("/"),
                                    fragment.rpartition("/")[2]] if p)  # fmt: skip
        component = self.add(
            base,
            posixpath.dirname(path),
            "snippet",
            f"{where}",
            body,
            self.locale(path, root),
        )
        self.fragments[(path, fragment)] = component
        return component

    def find(self, path: str, fragment: str, file: str) -> Any:
        """The element ``fragment`` (``topic`` or ``topic/element``) names in ``path``."""
        root = self.tree(path)
        if path not in self.ids:  # one walk a file, however many conrefs point into it
            index: dict[str, list[Any]] = {}
            for el in root.iter():
                if isinstance(el.tag, str) and el.get("id") is not None:
                    index.setdefault(el.get("id"), []).append(el)
            self.ids[path] = index
        index = self.ids[path]
        topic_id, _, element_id = fragment.partition("/")
        if not topic_id or (topic_id == "." and path == file):
            topic: Any = root
        else:
            topic = next(iter(index.get(topic_id, ())), None)
        if topic is None or not element_id:
            return topic
        return next(
            (el for el in index.get(element_id, ()) if topic in el.iterancestors() or el is topic),
            None,
        )

    # -- images and titles --------------------------------------------------------------

    def image(self, file: str, element: Any, href: str, resolved: bool = False) -> str | None:
        if is_external(href):
            self.findings.add(file, element, "<image>", f"external image {href!r}: not fetched")
            return None
        path = split_href(href)[0] if resolved else resolve_href(file, href, element)
        extension = posixpath.splitext(path)[1].lstrip(".").lower()
        if extension not in IMAGE_TYPES or any(p.startswith(".") for p in path.split("/")):
            self.findings.add(
                file, element, "<image>", f"{path}: not an image type the library takes"
            )
            return None
        asset = f"{ASSETS}/{path}"
        if asset not in self.files:
            try:
                self.files[asset] = self.read(path)
            except MissingFile:
                self.findings.add(
                    file, element, "<image>", f"{path}: no such file: its alt text is kept"
                )
                return None
        return asset

    def title(self, file: str, element: Any, href: str) -> str | None:
        path = resolve_href(file, href, element)
        try:
            found = self.find(path, split_href(href)[1] or "", file)
            root = found if found is not None else self.tree(path)
        except MissingFile:
            return None
        title = root.find("title")
        return text_of(title) if title is not None else None

    # -- topics and the map ---------------------------------------------------------------

    def topic(
        self,
        map_name: str,
        ref: Any,
        path: str,
        fragment: str,
        level: int,
        conditions: dict[str, tuple[str, ...]],
    ) -> _Topic | None:
        known = self.topics.get((path, fragment))
        if known is not None:
            if known.level != level or known.conditions != conditions:
                self.findings.add(
                    map_name,
                    ref,
                    "<topicref>",
                    f"{path} is referenced again at another level or with other profiling: "
                    "the first reference's heading level and conditions are kept",
                )
            return known
        try:
            root = self.find(path, fragment, path) if fragment else self.tree(path)
        except MissingFile:
            self.findings.add(map_name, ref, "<topicref>", f"{path}: no such file: left out")
            return None
        if root is None:
            self.findings.add(
                map_name, ref, "<topicref>", f"{path}#{fragment}: no such topic: left out"
            )
            return None
        first = root if root.tag != "dita" else next(
            (c for c in root if isinstance(c.tag, str)), root
        )  # fmt: skip
        kind = first.tag if first.tag in TOPIC_TYPES else "topic"
        title_el = first.find("title")
        title = self.plain_title(title_el) if title_el is not None else path
        body = BodyWriter(path, self.findings, self.profiler, self).topic(root, level)
        base = posixpath.splitext(path)[0].replace("/", ".")
        if fragment:
            base += "." + fragment.replace("/", ".")
        locale = self.locale(path, first)
        component = self.add(base, posixpath.dirname(path), kind, title, body, locale, conditions)
        topic = _Topic(component, conditions, level)
        self.topics[(path, fragment)] = topic
        return topic

    def walk(
        self,
        map_name: str,
        parent: Any,
        level: int,
        conditions: dict[str, tuple[str, ...]],
        maps: tuple[str, ...],
    ) -> None:
        for el in parent:
            if not isinstance(el.tag, str):
                continue
            tag = el.tag
            if tag == "topicmeta":
                self.metadata(map_name, el)
                continue
            if tag in ("title", "booktitle", "keydef"):
                continue
            if tag in _MAP_LEFT_OUT:
                self.findings.add(map_name, el, f"<{tag}>", _MAP_LEFT_OUT[tag])
                continue
            own = self.map_conditions(map_name, el, conditions)
            if own is None:
                continue
            href = el.get("href")
            if el.get("keyref") and not href:
                key = self.key(map_name, el, el.get("keyref") or "")
                href = key.href if key is not None else None
            is_map = tag == "mapref" or el.get("format") == "ditamap"
            if is_map and href:
                self.submap(map_name, el, href, level, own, maps, el.get("href") is None)
                continue
            if tag in _CONTAINERS:
                self.walk(map_name, el, level, own, maps)
                continue
            if tag not in _TOPICREFS and tag != "topichead":
                self.findings.add(
                    map_name, el, f"<{tag}>", "not a map element this converter knows: skipped"
                )
                continue
            if el.get("processing-role") == "resource-only":
                continue
            self.reference(map_name, el, href, level, own)
            self.walk(map_name, el, level + 1, own, maps)

    def reference(
        self,
        map_name: str,
        el: Any,
        href: str | None,
        level: int,
        conditions: dict[str, tuple[str, ...]],
    ) -> None:
        fmt = el.get("format") or "dita"
        if href and (el.get("scope") == "external" or is_external(href) or fmt != "dita"):
            self.findings.add(
                map_name, el, f"<{el.tag}>", f"{href!r}: only DITA topics are carried over"
            )
            return
        if href:
            path = self.target(map_name, el, href, el.get("href") is None)
            topic = self.topic(map_name, el, path, split_href(href)[1], level, conditions)
            if topic is not None:
                navtitle = el.find("topicmeta/navtitle")
                locked = el.get("locktitle") == "yes" and navtitle is not None
                self.slot(topic.component, conditions, text_of(navtitle) if locked else None)
            return
        navtitle = el.find("topicmeta/navtitle")
        title = el.get("navtitle") or (text_of(navtitle) if navtitle is not None else "")
        if title:  # a topichead: a heading of its own
            body = heading(title, level)
            component = self.add(f"heading.{title}", "headings", "topic", title, body, None,
                                 conditions)  # fmt: skip
            self.slot(component, conditions)

    def slot(
        self, component: str, conditions: dict[str, tuple[str, ...]], title: str | None = None
    ) -> None:
        """A slot of the publication; ``title``, a locked ``navtitle``, heads it in the TOC."""
        if len(self.slots) >= MAX_SLOTS:
            raise InputError(f"the map references more than {MAX_SLOTS} topics")
        self.slots.append(Slot(component=component, required=not conditions, title=title or None))

    def metadata(self, map_name: str, meta: Any) -> None:
        """Reports what a map's or topicref's ``topicmeta`` holds beyond titles and key text."""
        # A key's text is read from its keywords or linktext (``key_text``).
        kept = (
            {"navtitle", "linktext", "keywords"} if meta.getparent().get("keys") else {"navtitle"}
        )
        for el in meta:
            tag = el.tag if isinstance(el.tag, str) else ""
            if tag and tag not in kept:
                self.findings.add(map_name, el, f"<{tag}>", "map metadata is not carried over")

    def map_conditions(
        self, map_name: str, el: Any, inherited: dict[str, tuple[str, ...]]
    ) -> dict[str, tuple[str, ...]] | None:
        """The conditions of the topics under ``el``: its own and its ancestors' together,
        each dimension the values both allow. ``None`` when no reader can get them."""
        own = self.profiler.values(el, map_name)
        if own is None:
            return None
        merged = dict(inherited)
        for dimension, values in own.items():
            if dimension == "locale":
                self.findings.add(
                    map_name,
                    el,
                    "profiling",
                    "a topicref limited to a locale is not supported: kept for every locale",
                )
                continue
            if dimension in merged:
                values = tuple(v for v in values if v in merged[dimension])
                if not values:
                    self.findings.add(
                        map_name,
                        el,
                        "profiling",
                        f"no {dimension} is allowed both here and by the enclosing topicrefs: "
                        "left out",
                    )
                    return None
            merged[dimension] = values
        return merged

    @staticmethod
    def target(map_name: str, el: Any, href: str, from_key: bool) -> str:
        """The file a topicref's href names; a key's href is resolved already (against the
        map that defines the key)."""
        return split_href(href)[0] if from_key else resolve_href(map_name, href, el)

    def submap(
        self,
        map_name: str,
        el: Any,
        href: str,
        level: int,
        conditions: dict[str, tuple[str, ...]],
        maps: tuple[str, ...],
        from_key: bool,
    ) -> None:
        if el.get("scope") == "external" or is_external(href):
            self.findings.add(map_name, el, f"<{el.tag}>", f"external map {href!r}: not read")
            return
        path = self.target(map_name, el, href, from_key)
        if path in maps:
            raise refuse(f"a cycle of maps: {' -> '.join([*maps, path])}", map_name, el)
        try:
            root = self.tree(path)
        except MissingFile:
            self.findings.add(map_name, el, f"<{el.tag}>", f"{path}: no such map: left out")
            return
        self.walk(path, root, level, conditions, (*maps, path))

    def all_keys(self, map_name: str, root: Any, maps: tuple[str, ...]) -> None:
        for path in self.collect_keys(map_name, root, maps):
            if path in maps:
                raise refuse(f"a cycle of maps: {' -> '.join([*maps, path])}", map_name, root)
            try:
                self.all_keys(path, self.tree(path), (*maps, path))
            except MissingFile:
                continue  # reported when the map is walked


def _key_source(key: Key) -> Any:
    """The element holding a key's text: its keyword, else its linktext or navtitle."""
    meta = key.element.find("topicmeta")
    if meta is None:
        return None
    for path in ("keywords/keyword", "linktext", "navtitle"):
        found = meta.find(path)
        if found is not None:
            return found
    return None


def _map_title(root: Any) -> str | None:
    title = root.find("title")
    if title is not None and text_of(title):
        return text_of(title)
    main = root.find("booktitle/mainbooktitle")
    if main is not None and text_of(main):
        return text_of(main)
    title_attribute: str | None = root.get("title")
    return title_attribute


def convert_map(map_name: str, read: Read, mapping: dict[str, str]) -> Conversion:
    """The library that the map ``map_name`` (a name ``read`` knows) and its topics make."""
    findings = Findings()
    converter = _Converter(read, findings, Profiler(mapping, findings))
    try:
        root = converter.tree(map_name)
    except MissingFile:
        raise InputError(f"{map_name}: no such map") from None
    if root.tag not in ("map", "bookmap"):
        raise refuse(f"<{root.tag}> is not a DITA map (expected <map> or <bookmap>)", map_name,
                     root)  # fmt: skip
    for extra in ("booklibrary", "booktitlealt"):
        for el in root.iterfind(f"booktitle/{extra}"):
            findings.add(map_name, el, f"<{extra}>", "only the main book title is carried over")
    converter.all_keys(map_name, root, (map_name,))
    converter.walk(map_name, root, 1, {}, (map_name,))
    stem = posixpath.splitext(posixpath.basename(map_name))[0]
    publication_id = _name(stem, "map")
    publication = Publication(
        id=publication_id,
        title=_map_title(root) or stem,
        slots=tuple(converter.slots),
    )
    default = converter.locale(map_name, root) or next(iter(sorted(converter.locales)), "en")
    vocabulary = {
        _VARIANT_DIMENSIONS[d]: tuple(sorted(v))
        for d, v in converter.profiler.vocabulary.items()
        if d in _VARIANT_DIMENSIONS and d != "region"
    }
    settings = LibrarySettings(
        name=publication.title,
        default_locale=default,
        locales=tuple(sorted(converter.locales | {default})),
        **vocabulary,
    )
    library = Library(
        settings=settings,
        components=converter.components,
        publications={publication_id: publication},
        files=converter.files,
    )
    return Conversion(library, publication_id, len(converter.topics), findings.items)
