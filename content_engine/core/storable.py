"""Data the databases can store: bounded nesting, no NUL, no lone surrogates, finite numbers.

In: JSON-like data from outside (HTTP bodies and query parameters, context files, batch lines,
library files). Out: the data unchanged, or one line saying what in it cannot be stored and
where. SQLite and PostgreSQL keep text as UTF-8, which has no encoding for a lone surrogate
(``"x\\ud800y"`` is valid JSON, so it arrives as one); PostgreSQL cannot hold NUL in text or
JSON, nor NaN in ``jsonb``. Checked once at the edge, all the way down, so the store never meets
any of them. The walk keeps its own stack: data nested deeper than Python's recursion limit is
refused, not a ``RecursionError``. Pure: no I/O.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from content_engine.core.errors import UnstorableText

# A pydantic validation context key: ``{CHECKED: True}`` says the input passed ``problem`` (or
# ``load_json``) whole, so the models need not walk it again (``models.Strict``).
CHECKED = "content_engine.storable_checked"
# Deeper than any context, rule or body a person writes; deep enough for every real one.
MAX_DEPTH = 64


def problem(value: Any) -> str | None:
    """Why ``value`` cannot be stored (the first reason found, with its path), or ``None``.

    Mapping keys are checked as their values are: both end up as text in the store.
    """
    # (item, depth, path) where path is (parent path, key): built into text only on failure.
    stack: list[tuple[Any, int, Any]] = [(value, 0, None)]
    while stack:
        item, depth, path = stack.pop()
        if isinstance(item, str):
            reason = text_problem(item)
        elif isinstance(item, float):
            reason = None if math.isfinite(item) else f"{item} is not a number JSON can hold"
        elif isinstance(item, Mapping | list | tuple | set | frozenset):
            if depth >= MAX_DEPTH:
                reason = f"nested deeper than {MAX_DEPTH} levels"
            elif isinstance(item, Mapping):
                for key, child in item.items():
                    stack.append((key, depth + 1, path))
                    stack.append((child, depth + 1, (path, key)))
                continue
            else:
                stack.extend((child, depth + 1, (path, i)) for i, child in enumerate(item))
                continue
        else:
            continue
        if reason is not None:
            where = _render(path)
            return f"{reason} (at {where})" if where else reason
    return None


def checked_context(value: Any) -> dict[str, bool] | None:
    """The validation context for ``value``: ``{CHECKED: True}`` when it is storable whole, so
    the models (each nested one walking its own part again) need not walk it; ``None`` when
    it is not, so they find the problem and report it where it lies."""
    return None if problem(value) is not None else {CHECKED: True}


def text_problem(text: str) -> str | None:
    """Why one string cannot be stored, or ``None``."""
    if "\x00" in text:
        return "text must not contain NUL characters"
    if not text.isascii():  # O(1) in CPython: most text never pays for the encoding below
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            code = ord(text[exc.start])
            return f"text must not contain a lone surrogate (U+{code:04X})"
    return None


def check(value: Any) -> Any:
    """``value`` itself, or ``UnstorableText`` saying what in it cannot be stored."""
    reason = problem(value)
    if reason is not None:
        raise UnstorableText(reason)
    return value


# A string (escapes included) or a bracket: brackets inside strings do not nest. An unterminated
# string runs to the end, and nothing backtracks (``*+``): one linear pass whatever the text.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*+(?:"|\\?\Z)|[\[\]{}]', re.DOTALL)


def load_json(text: str | bytes) -> Any:
    """Parse JSON that must be storable; a located ``json.JSONDecodeError`` when it is not JSON
    at all, however it is wrong (a number past Python's conversion limit included).

    Nesting is measured first, in one linear pass over the text: Python's parser recurses once
    per ``[``, so 100,000 of them are refused before it starts. That, and ``NaN`` or
    ``Infinity`` (which Python's parser accepts but JSON has not), are ``UnstorableText`` like
    the rest.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode(json.detect_encoding(text), errors="surrogatepass")
        except UnicodeDecodeError as exc:
            raise json.JSONDecodeError(f"not UTF-8 text: {exc.reason}", "", 0) from None
    # Text cannot nest deeper than its count of opening brackets: most bodies need no scan.
    if text.count("[") + text.count("{") > MAX_DEPTH:
        _check_depth(text)
    overflowed: list[float] = []

    def number(literal: str) -> float:
        value = float(literal)
        if not math.isfinite(value):  # ``1e400``: past what a float holds
            overflowed.append(value)
        return value

    try:
        data = json.loads(text, parse_constant=_no_constant, parse_float=number)
    except json.JSONDecodeError:
        raise
    except (ValueError, RecursionError) as exc:  # a number too long to convert, mainly
        raise json.JSONDecodeError(str(exc).partition(";")[0], text, 0) from None
    if not overflowed and _clean_text(text):
        return data  # nothing in it can be unstorable: no need to walk it
    return check(data)


# ``\\u0000`` or a surrogate's escape; an escaped backslash before a ``u`` matches too, which
# only costs that body the walk.
_RISKY_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def _clean_text(text: str) -> bool:
    """Whether JSON ``text`` can only parse to storable strings, read from the text alone.

    The parser refuses raw control characters in strings, so a NUL can only come from the
    escape ``\\u0000``, and a lone surrogate from an escape of one (``\\ud800`` to
    ``\\udfff``) or from the text itself (bytes decoded with ``surrogatepass``). Without
    either, the walk would find nothing: a body of a few kB is checked in one C-speed pass
    instead of a Python walk over every value.
    """
    if _RISKY_ESCAPE.search(text) is not None:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_depth(text: str) -> None:
    depth = 0
    for token in _TOKENS.finditer(text):
        kind = token.group()
        if kind in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise UnstorableText(f"nested deeper than {MAX_DEPTH} levels")
        elif kind in "]}":
            depth -= 1


def _no_constant(name: str) -> Any:
    raise UnstorableText(f"{name} is not a number JSON can hold")


def _render(path: Any) -> str:
    parts: list[str] = []
    while path is not None:
        path, key = path
        parts.append(_shown(key))
    return ".".join(reversed(parts))


def _shown(key: Any) -> str:
    """A path part as safe, short text: the key may itself be what is wrong."""
    text = key if isinstance(key, str) else str(key)
    if text.isascii() and text.isprintable() and "." not in text and len(text) <= 40:
        return text
    return ascii(text[:40])
