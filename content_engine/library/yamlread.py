"""Load one library YAML document safely: no aliases, bounded depth and size.

In: the document's text, the file it came from and the ``FolderLimits``. Out: the plain Python
value (mappings, lists, scalars), or a ``LibraryFormatError`` at the file, line and column of
the problem. The documents are untrusted, so their shape is checked on the parser's event
stream before anything recursive sees them.
"""

from __future__ import annotations

from typing import Any

import yaml

from content_engine.core.errors import LibraryFormatError
from content_engine.library.limits import FolderLimits

__all__ = ["safe_load"]

# libyaml's loader when PyYAML was built with it: the pure-Python one took most of the time of
# loading a large library folder. Its error messages are terser, so errors are read again by
# the pure-Python loader for the message an editor sees.
_FAST_LOADER = getattr(yaml, "CSafeLoader", None)
_COLLECTION_START = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_COLLECTION_END = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def _check_shape(text: str, file: str, limits: FolderLimits, loader: Any, line_offset: int) -> None:
    """Refuse aliases, and documents nested or sized past the limits, from the event stream.

    The parser is iterative, so this runs before anything recursive (the composer, the
    constructor, pydantic) sees the document. Aliases are refused rather than expanded: a
    1 kB "billion laughs" document expands to gigabytes wherever it is walked, and library
    files have no need of them.
    """
    depth = nodes = 0
    for event in yaml.parse(text, Loader=loader):
        problem = None
        if isinstance(event, yaml.AliasEvent):
            problem = "YAML aliases (*name) are not allowed in library files"
        elif isinstance(event, _COLLECTION_START):
            depth += 1
            if depth > limits.max_yaml_depth:
                problem = f"nested over {limits.max_yaml_depth} levels deep"
        elif isinstance(event, _COLLECTION_END):
            depth -= 1
        if isinstance(event, (yaml.ScalarEvent, *_COLLECTION_START)):
            nodes += 1
            if nodes > limits.max_yaml_nodes:
                problem = f"over {limits.max_yaml_nodes} values in one document"
        if problem:
            mark = event.start_mark
            if mark is None:
                raise LibraryFormatError(problem, file=file)
            raise LibraryFormatError(
                problem, file=file, line=mark.line + 1 + line_offset, column=mark.column + 1
            )


# Every mapping or sequence a YAML document opens starts at one of these indicators.
_OPENERS = ("[", "{", "-", ":", "?")


def surely_in_shape(text: str, limits: FolderLimits) -> bool:
    """Whether ``text`` passes ``_check_shape`` for sure, told from its characters alone.

    An alias needs a ``*``; each mapping or sequence opens at a ``[``, ``{``, ``-``, ``:`` or
    ``?``, so no more can be open at once than the text holds of them; and each value
    (mapping, sequence or scalar, an empty one included) takes a character or follows a
    separator, so a short text holds few. A library's front matter and component files are a
    few short lines: reading their events only to learn that was a sixth of loading them.
    """
    if "*" in text or 2 * len(text) + 2 > limits.max_yaml_nodes:
        return False
    return sum(text.count(c) for c in _OPENERS) <= limits.max_yaml_depth


def safe_load(text: str, file: str, limits: FolderLimits, *, line_offset: int = 0) -> Any:
    """The value of the YAML document ``text``; ``line_offset`` lines precede it in ``file``."""
    if _FAST_LOADER is not None:
        try:
            if not surely_in_shape(text, limits):
                _check_shape(text, file, limits, _FAST_LOADER, line_offset)
            return yaml.load(text, Loader=_FAST_LOADER)
        except (yaml.YAMLError, ValueError):
            pass
    try:
        _check_shape(text, file, limits, yaml.SafeLoader, line_offset)
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        if mark is None:
            raise LibraryFormatError(message, file=file) from None
        raise LibraryFormatError(
            message, file=file, line=mark.line + 1 + line_offset, column=mark.column + 1
        ) from None
    except (yaml.YAMLError, ValueError) as exc:
        # PyYAML raises a bare ValueError for impossible dates such as 2026-13-01.
        raise LibraryFormatError(f"invalid YAML: {exc}", file=file) from None
    except RecursionError:  # a nesting the shape check cannot see (kept as a last guard)
        raise LibraryFormatError("nested too deeply", file=file) from None
