"""A body's shape without Jinja's lexer, where a regular expression can tell it for sure.

In: a template source. Out: the source with each run of template text replaced by one mark and
every tag, placeholder and comment kept verbatim; or ``None`` when the source has anything a
regular expression could split otherwise than Jinja's lexer does.

Why: checking an import compiles one body per shape (``BodySandbox.shape_of``); lexing every
body to learn its shape was three fifths of checking a large library. A run of text ends at
the first ``{{``, ``{%`` or ``{#``, as it does for the lexer; a tag is taken here only when it
ends for sure at the first closing delimiter: no brace inside it (a dict literal nests
``}}``), strings only without a backslash or brace, a statement tag without ``%`` (the modulo
operator), and no ``raw`` or text-reading tag (``trans``). Equal shapes then hold the same tags
between the same runs of text, which is all that decides whether a source compiles.
"""

from __future__ import annotations

import re

__all__ = ["TEXT", "quick_parts", "quick_shape"]

_BEGIN = re.compile(r"\{[{%#]")
# {{ ... }}, {% ... %} (neither holding a brace; strings without a backslash or brace), {# ... #}.
# Possessive: each piece of a tag starts with a character no other piece starts with, so giving
# one back could never let the closing delimiter match; a run of plain characters is taken at
# once, not a character per repetition.
_WHOLE_TAG = re.compile(
    r"""\{\{(?:[^'"{}]++|'[^'\\{}]*+'|"[^"\\{}]*+")*+\}\}"""
    r"""|\{%(?:[^'"{}%]++|'[^'\\{}]*+'|"[^"\\{}]*+")*+%\}"""
    r"""|\{\#.*?\#\}""",
    re.S,
)
_UNSURE = re.compile(r"\b(?:raw|endraw|trans|pluralize|endtrans)\b")
TEXT = "\x00"


def quick_shape(source: str) -> str | None:
    """``source``'s shape (see the module's docstring), or ``None`` to ask the lexer."""
    parts = quick_parts(source)
    return None if parts is None else "quick\x01" + "".join(parts)


def quick_parts(source: str) -> list[str] | None:
    """The tags of ``source`` in order, a ``TEXT`` mark for each run of text between them."""
    parts: list[str] = []
    at = 0
    while (begin := _BEGIN.search(source, at)) is not None:
        if begin.start() > at:
            parts.append(TEXT)
        tag = _WHOLE_TAG.match(source, begin.start())
        if tag is None:
            return None
        found = tag.group()
        if not found.startswith("{#") and _UNSURE.search(found):
            return None
        parts.append(found)
        at = tag.end()
    if at < len(source):
        parts.append(TEXT)
    return parts
