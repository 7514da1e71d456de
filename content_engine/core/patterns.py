"""Regular expressions a library supplies (segment rules' ``op: matches``), run by RE2.

In: a pattern from a library file or an editor, and a text from a reader's context. Out: whether
the pattern matches somewhere in the text. Python's ``re`` backtracks, so ``^(a+)+$`` against a
reader's ``aaaa…a-`` doubles its time with every character, on the event loop's path. RE2 runs in
time linear in the text and refuses, at import and save, what would need backtracking
(backreferences, lookaround). Compiled patterns and matched texts are bounded too, so one match
costs at most (program size × text length). Pure: no I/O.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

# A segment rule is a short test of one field; anything longer is a mistake or an attack.
MAX_PATTERN_LENGTH = 500
# Longer texts (a reader's customer data) are not searched: the rule does not hold for them.
MAX_TEXT_LENGTH = 10_000
# RE2's memory budget per pattern, its lazily built DFA included: a pattern that needs more does
# not compile (refused at save).
_MAX_MEMORY = 4 << 20
# Instructions of the compiled program. Linear time is (program size × text length): counted
# repetitions make a short pattern large, and `(?:.*a){1000}` took 0.4 s on 10,000 characters.
# Unicode classes are large but cheap (`^\pL+$` is 1,199). At this bound the costliest pattern
# found, `(.*a.*b.*c){160}`, took 0.2 s on 10,000 characters; texts that long only come in POST
# bodies, which run in the thread pool, and a GET's reader names are at most 64 characters.
MAX_PROGRAM_SIZE = 5_000


class PatternError(ValueError):
    """A pattern RE2 does not accept, or one over the length bound."""


def _options() -> Any:
    options = re2.Options()
    options.log_errors = False  # RE2 would print every refused pattern to stderr
    options.max_mem = _MAX_MEMORY
    return options


_OPTIONS = _options()


@lru_cache(maxsize=1024)
def compiled(pattern: str) -> Any:
    """``pattern`` compiled once (cached), or ``PatternError`` saying why it cannot be."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternError(
            f"the regular expression is {len(pattern)} characters long "
            f"(at most {MAX_PATTERN_LENGTH})"
        )
    try:
        regex = re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        raise PatternError(f"invalid regular expression {pattern!r}: {_reason(exc)}") from None
    except UnicodeEncodeError:
        raise PatternError(f"invalid regular expression {pattern!r}: a lone surrogate") from None
    if regex.programsize > MAX_PROGRAM_SIZE:
        raise PatternError(
            f"the regular expression {pattern[:80]!r} is too large once compiled "
            f"({regex.programsize} steps, at most {MAX_PROGRAM_SIZE}): "
            "use smaller counted repetitions"
        )
    return regex


_HINTS = (
    *((f"escape sequence: \\{d}", " (backreferences are not supported)") for d in "123456789"),
    *((f"operator: {op}", " (lookaround is not supported)") for op in ("(?=", "(?!", "(?<")),
    ("escape sequence: \\Z", " (write \\z for the end of the text)"),
)


def _reason(exc: Exception) -> str:
    raw = exc.args[0] if exc.args else ""
    reason = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return reason + next((hint for marker, hint in _HINTS if marker in reason), "")


def check(pattern: str) -> None:
    """Raise ``PatternError`` unless ``pattern`` compiles: the check at import and save."""
    compiled(pattern)


def search(pattern: str, text: str) -> bool:
    """Whether ``pattern`` matches anywhere in ``text``; never for a text over the bound."""
    if len(text) > MAX_TEXT_LENGTH:
        return False
    try:
        return compiled(pattern).search(text) is not None
    except UnicodeEncodeError:  # a lone surrogate: refused at the edge, never matched here
        return False
