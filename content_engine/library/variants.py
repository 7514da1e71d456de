"""One variant file's text ↔ a ``Variant``: YAML front matter between ``---`` lines, then the body.

In: the text of a ``<variant-key>.html`` file and its key (``parse_variant``), or a ``Variant``
(``format_variant``). Out: the other one. ``format_variant`` writes only what differs from the
defaults, and ``parse_variant(format_variant(v))`` gives ``v`` back, body byte for byte.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from content_engine.core.errors import LibraryFormatError
from content_engine.core.instants import format_instant
from content_engine.core.models import DIMENSIONS, Variant
from content_engine.core.names import name_problem
from content_engine.core.storable import checked_context
from content_engine.library.layout import CONDITION_KEYS, FRONT_MATTER_KEYS, VARIANT_FIELDS
from content_engine.library.limits import FolderLimits
from content_engine.library.yamlerrors import first_error, format_error, locate, reject_unknown_keys
from content_engine.library.yamlread import safe_load
from content_engine.library.yamlwrite import dump_yaml

__all__ = ["format_variant", "parse_variant"]

# A front-matter fence: a line holding only ``---`` (trailing blanks and a CR tolerated).
_FENCE = re.compile(r"---[ \t]*\r?")


def parse_variant(
    text: str, key: str, *, file: str | None = None, limits: FolderLimits | None = None
) -> Variant:
    """One variant file's text (front matter + body) to a ``Variant`` named ``key``.

    ``file`` is only used to name the place of a problem.
    """
    file = file or f"{key}.html"
    problem = name_problem("variant key", key)
    if problem:
        raise LibraryFormatError(f"{problem} (the file name without .html)", file=file)
    front, body = _split_front_matter(text, file)
    data: dict[str, Any] = {}
    if front is not None:
        loaded = safe_load(front, file, limits or FolderLimits(), line_offset=1)
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise LibraryFormatError(
                "front matter must be a mapping of keys to values", file=file, line=2, column=1
            )
        reject_unknown_keys(
            loaded, FRONT_MATTER_KEYS, front, file, label="front-matter key", line_offset=1
        )
        data = loaded
    raw = {
        "key": key,
        "conditions": {k: data[k] for k in CONDITION_KEYS if k in data},
        **{k: data[k] for k in VARIANT_FIELDS if k in data},
        "body": body,
    }
    try:
        return Variant.model_validate(raw, context=checked_context(raw))
    except ValidationError as exc:
        loc, message = first_error(exc, drop="conditions")
        where = locate(front, loc, line_offset=1) if front is not None else None
        raise format_error(message, file, where) from None


def _split_front_matter(text: str, file: str) -> tuple[str | None, str]:
    """Split ``text`` into front matter (``None`` when absent) and the verbatim body.

    The body is everything after the closing fence line; only that line's own newline goes.
    """
    first_end = text.find("\n")
    first_line = text if first_end < 0 else text[:first_end]
    if not _FENCE.fullmatch(first_line):
        return None, text
    if first_end >= 0:
        start = pos = first_end + 1
        while True:
            end = text.find("\n", pos)
            line = text[pos:] if end < 0 else text[pos:end]
            if _FENCE.fullmatch(line):
                return text[start:pos], "" if end < 0 else text[end + 1 :]
            if end < 0:
                break
            pos = end + 1
    raise LibraryFormatError(
        "front matter is not closed: no '---' line after the opening one",
        file=file,
        line=1,
        column=1,
    )


def format_variant(variant: Variant) -> str:
    """A variant as the text of its ``<key>.html`` file: front matter with non-defaults, body."""
    front: dict[str, Any] = {}
    conditions = variant.conditions
    if conditions.locale is not None:
        front["locale"] = conditions.locale
    for dimension in DIMENSIONS:
        values = getattr(conditions, dimension)
        if values is not None:
            front[dimension] = list(values)
    if variant.priority != 0:
        front["priority"] = variant.priority
    if variant.experiment is not None:
        front["experiment"] = variant.experiment
    if variant.weight != 1:
        front["weight"] = variant.weight
    if variant.status != "published":
        front["status"] = variant.status
    if variant.valid_from is not None:
        front["valid_from"] = format_instant(variant.valid_from, end_of_day=False)
    if variant.valid_until is not None:
        front["valid_until"] = format_instant(variant.valid_until, end_of_day=True)
    if variant.translated_from is not None:
        front["translated_from"] = variant.translated_from.model_dump()
    if front:
        return f"---\n{dump_yaml(front)}---\n{variant.body}"
    first_line = variant.body.split("\n", 1)[0]
    if _FENCE.fullmatch(first_line):
        # Without a front matter the body's own first line would be read as one.
        return f"---\n---\n{variant.body}"
    return variant.body
