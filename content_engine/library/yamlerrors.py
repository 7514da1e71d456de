"""Say where in a YAML file a problem is: the file, line and column of a key or item.

In: a document's text and the path of the offending key (a pydantic error's ``loc``, or a
key the file may not hold). Out: a ``LibraryFormatError`` whose message names the key and
whose place is that key's line and column, the way Jinja names a template error's place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml
from pydantic import ValidationError

from content_engine.core.errors import LibraryFormatError

__all__ = ["first_error", "format_error", "locate", "reject_unknown_keys"]


def locate(text: str, loc: Sequence[str | int], *, line_offset: int = 0) -> tuple[int, int] | None:
    """Line and column (1-based) of the YAML key or item that ``loc`` points at.

    Walks as deep as the path matches the document; pydantic's union branch names simply stop
    the walk, so the position is that of the deepest key that exists.
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    if node is None:
        return None
    mark = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(part):
                    mark, node = key_node.start_mark, value_node
                    break
            else:
                break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                break
            node = node.value[part]
            mark = node.start_mark
        else:
            break
    if mark is None:
        return None
    return mark.line + 1 + line_offset, mark.column + 1


def first_error(
    exc: ValidationError, *, drop: str | None = None
) -> tuple[tuple[str | int, ...], str]:
    """The first problem as (path of the key in the document, message naming that key).

    ``drop`` removes a leading path part that exists in the model but not in the file
    (a variant's ``conditions``).
    """
    errors = exc.errors(include_url=False)
    error = errors[0]
    loc = tuple(error["loc"])
    if drop is not None and loc[:1] == (drop,):
        loc = loc[1:]
    if error["type"] in ("extra_forbidden", "missing") and loc:
        kind = "unknown" if error["type"] == "extra_forbidden" else "missing"
        message = f"{kind} key {loc[-1]!r}"
        parent = loc[:-1]
    else:
        message = error["msg"].removeprefix("Value error, ")
        if isinstance(error.get("input"), bool) and error["type"].startswith("string"):
            message += " (YAML reads yes/no/on/off/true/false as booleans: quote the value)"
        parent = loc
    if parent:
        message = f"{'.'.join(str(p) for p in parent)}: {message}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return loc, message


def format_error(message: str, file: str, where: tuple[int, int] | None) -> LibraryFormatError:
    """The error for ``message`` at ``where`` (line, column) in ``file``, if it has a place."""
    line, column = where or (None, None)
    return LibraryFormatError(message, file=file, line=line, column=column)


def reject_unknown_keys(
    data: dict[Any, Any],
    allowed: Sequence[str],
    text: str,
    file: str,
    *,
    label: str = "key",
    line_offset: int = 0,
) -> None:
    """Refuse the first key of ``data`` not in ``allowed``, at its place in ``text``."""
    for name in data:
        if name not in allowed:
            raise format_error(
                f"unknown {label} {name!r} (allowed: {', '.join(allowed)})",
                file,
                locate(text, (name,), line_offset=line_offset),
            )
