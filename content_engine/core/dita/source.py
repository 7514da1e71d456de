"""DITA files as trees, hrefs as names inside the map's folder, and what was not carried over.

In: a file's bytes and its name (a POSIX path relative to the map's folder), or an href met in
one. Out: an lxml tree, the name an href points at, or an error naming file, line and column.

DITA files declare DOCTYPEs with public ids (``-//OASIS//DTD DITA Task//EN``) whose system ids
point at DTDs nobody ships with the content. The parser loads no DTD, expands no entity and
asks no network: a DTD's defaults (such as ``@class``) are therefore unknown here, and the
converter goes by element names. An entity reference stays a node the converter reports.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import unquote

from lxml import etree

from content_engine.core.errors import InputError, LibraryFormatError
from content_engine.core.markup.untrusted import untrusted_parser
from content_engine.core.markup.xhtml import first_reserved, reserved_character

__all__ = ["Finding", "Findings", "MissingFile", "Read", "parse_xml", "resolve_href", "split_href"]

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# A scheme (``http:``, ``file:``, ``c:``) makes an href point outside the map's folder.
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


class MissingFile(Exception):
    """Raised by a ``Read`` callable when nothing is at the name: the converter reports it."""


# The one door to the files: a name relative to the map's folder in, its bytes out.
Read = Callable[[str], bytes]


@dataclass(frozen=True)
class Finding:
    """One construct the converter could not carry over, and where it stood."""

    file: str
    line: int | None
    construct: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.construct}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Findings:
    """The findings of one conversion, each once, in the order they were met."""

    items: list[Finding] = field(default_factory=list)
    _seen: set[Finding] = field(default_factory=set)

    def add(self, file: str, node: Any, construct: str, message: str) -> None:
        line = getattr(node, "sourceline", None) if node is not None else None
        finding = Finding(file, line, construct, message)
        if finding not in self._seen:
            self._seen.add(finding)
            self.items.append(finding)


def parse_xml(data: bytes, name: str) -> Any:
    """The root element of the XML document ``data`` (the file ``name``), parsed safely."""
    parser = untrusted_parser()
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (None, None)
        message = re.sub(r", line \d+, column \d+$", "", str(exc.msg or exc))
        raise LibraryFormatError(
            f"malformed XML: {message}", file=name, line=line or None, column=column or None
        ) from None
    if root is None:  # pragma: no cover - lxml raises for an empty document
        raise LibraryFormatError("malformed XML: no root element", file=name)
    _refuse_reserved(root, name)
    return root


def _refuse_reserved(root: Any, name: str) -> None:
    """A character the engine reserves, written as itself or as a reference, is refused here,
    at its DITA file and line: the body it would land in is refused anyway, naming neither."""
    for node in root.iter():
        texts = [node.tail]
        if isinstance(node.tag, str):  # an element; a comment's or PI's own text is not carried
            texts += [node.text, *node.attrib.values()]
        for text in texts:
            code = first_reserved(text) if text else None
            if code is not None:
                raise reserved_character(code, name, node.sourceline)


def split_href(href: str) -> tuple[str, str]:
    """``file.dita#topic/element`` as ``("file.dita", "topic/element")``."""
    path, _, fragment = href.strip().partition("#")
    return unquote(path), fragment


def is_external(href: str) -> bool:
    """Whether ``href`` names something on the web (``https:``, ``mailto:``, ``//host``):
    not a file at all. ``file:`` and drive letters (``c:``) name files, outside the folder."""
    found = _SCHEME.match(href.strip())
    scheme = found.group(0)[:-1].lower() if found else ""
    return (len(scheme) > 1 and scheme != "file") or href.strip().startswith("//")


def resolve_href(base: str, href: str, node: Any) -> str:
    """The name, relative to the map's folder, of the file ``href`` points at from ``base``.

    An href that leaves the map's folder (``../``, an absolute path, a scheme, a backslash) is
    refused: the folder given is the whole of what may be read.
    """
    path, _ = split_href(href)
    if not path:
        return base
    line = getattr(node, "sourceline", None)
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(base), path))
    if (
        _SCHEME.match(path)
        or path.startswith("/")
        or "\\" in path
        or "\x00" in path
        or joined == ".."
        or joined.startswith("../")
    ):
        raise LibraryFormatError(
            f"href {href!r} points outside the map's folder: only files beside the map or "
            "below it are read",
            file=base,
            line=line,
        )
    return joined


def refuse(message: str, file: str, node: Any) -> InputError:
    """An error about the construct ``node`` of ``file``, naming its line."""
    return LibraryFormatError(message, file=file, line=getattr(node, "sourceline", None))
