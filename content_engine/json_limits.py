"""JSON text from people and programs, parsed within bounds: nesting depth, number size.

In: JSON text. Out: the value, or a ``json.JSONDecodeError`` with line, column and a message,
for every way the text can be wrong. Python's parser recurses once per ``[`` or ``{``, so 3,000
of them raise ``RecursionError`` (a 500 where a form error was due), and a 5,000-digit integer
raises a bare ``ValueError``. The depth is checked first, in one linear pass over the text.

``MAX_DEPTH`` is the depth the models' NUL check walks to: data nested deeper would reach the
store unchecked.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["MAX_DEPTH", "loads"]

MAX_DEPTH = 64
# A string (escapes included) or a bracket: brackets inside strings do not nest. An unterminated
# string runs to the end, and nothing backtracks (``*+``): one linear pass whatever the text.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*+(?:"|\\?\Z)|[\[\]{}]', re.DOTALL)


def loads(text: str, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` that fails only with ``json.JSONDecodeError``, nesting at most
    ``max_depth`` arrays and objects."""
    depth = 0
    for token in _TOKENS.finditer(text):
        kind = token.group()
        if kind in "[{":
            depth += 1
            if depth > max_depth:
                raise json.JSONDecodeError(
                    f"nested deeper than {max_depth} levels", text, token.start()
                )
        elif kind in "]}":
            depth -= 1
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except (ValueError, RecursionError) as exc:  # a number too long to convert, mainly
        raise json.JSONDecodeError(str(exc).partition(";")[0], text, 0) from None
