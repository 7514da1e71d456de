"""Lookups in data sources, decided without asking any: what to fetch, in which order, with what.

In: each source's dependency (the source its ``from`` names, or none), the names a request
needs, the caller's lookup keys and the environment as a plain mapping. Out: the sources to
ask in dependency order (only those needed and those their ``from`` chains need), the first
cycle if there is one, configuration text with ``${NAME}`` filled in, lookup values checked
for what may reach a query or URL, and the value types a fetch hands back (``Fetched``,
``Asked``). Kept here so that the adapter that does the asking and the engine that reads its
answer share one pure description. Pure: the environment is handed in, never read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from content_engine.core.errors import InvalidContext
from content_engine.core.storable import text_problem

__all__ = [
    "MAX_KEY_CHARS",
    "Asked",
    "Fetched",
    "MissingVariable",
    "check_lookup",
    "find_cycle",
    "order",
    "substitute",
    "value_problem",
    "variables",
]

# A serial number, a customer id, an e-mail address: far below this.
MAX_KEY_CHARS = 256
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

Outcome = Literal["found", "not_found", "unavailable", "skipped"]


@dataclass(frozen=True)
class Asked:
    """One source asked (or not) for one request: for ``explain`` and the receipt.

    ``key`` is the lookup key's name, never its value; ``seconds`` the time this request
    waited for it; ``cache_hit`` whether the cache (or a concurrent identical lookup) answered.
    """

    source: str
    key: str
    seconds: float
    cache_hit: bool
    outcome: Outcome


@dataclass(frozen=True)
class Fetched:
    """What a request's lookups gave: ``values`` by source name (a row as a mapping, or a list
    of rows for ``many``), every source ``asked`` in the order it was decided, and warnings for
    optional sources that left their name undefined."""

    values: dict[str, Any] = field(default_factory=dict)
    asked: list[Asked] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class MissingVariable(Exception):
    """``${name}`` names no environment variable (or is no valid name at all)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def variables(text: str) -> list[str]:
    """The names ``text`` refers to as ``${NAME}``, in order."""
    return [m.group(1) for m in _VARIABLE.finditer(text)]


def substitute(text: str, environ: Mapping[str, str]) -> str:
    """``text`` with every ``${NAME}`` replaced by ``environ[NAME]``, or ``MissingVariable``.

    One pass: a value that itself contains ``${...}`` is taken literally, never expanded again.
    """

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if not _IDENTIFIER.fullmatch(name) or name not in environ:
            raise MissingVariable(name)
        return environ[name]

    return _VARIABLE.sub(value, text)


def find_cycle(depends_on: Mapping[str, str | None]) -> list[str] | None:
    """The first cycle of ``from`` dependencies (``[a, b, a]``), or ``None``.

    A dependency on a name that is not a source is not a cycle (the loader refuses it apart).
    """
    done: set[str] = set()
    for start in depends_on:
        path: list[str] = []
        on_path: set[str] = set()
        name: str | None = start
        while name is not None and name in depends_on and name not in done:
            if name in on_path:
                return [*path[path.index(name) :], name]
            path.append(name)
            on_path.add(name)
            name = depends_on[name]
        done.update(path)
    return None


def order(depends_on: Mapping[str, str | None], needed: Iterable[str]) -> list[str]:
    """The sources to ask for ``needed``: each needed source and every source its ``from``
    chain reads, each after the one it depends on. Needed names that are no source (a context
    key, a library value) are ignored. ``depends_on`` must be free of cycles (``find_cycle``).
    """
    wanted: set[str] = set()
    for name in needed:
        current: str | None = name
        while current is not None and current in depends_on and current not in wanted:
            wanted.add(current)
            current = depends_on[current]
    placed: list[str] = []
    seen: set[str] = set()
    for name in sorted(wanted):
        chain: list[str] = []
        current = name
        while current is not None and current in wanted and current not in seen:
            chain.append(current)
            seen.add(current)
            current = depends_on[current]
        placed.extend(reversed(chain))
    return placed


def check_lookup(lookup: Mapping[str, Any]) -> dict[str, str]:
    """The caller's lookup keys as text that may be bound to a query or escaped into a URL.

    Refuses (``InvalidContext``, naming ``lookup.<name>`` and never echoing the value) what no
    system of record holds as a key and what would only be trouble on the way: a value that is
    not text, empty, over ``MAX_KEY_CHARS``, with NUL or another control character, or a lone
    surrogate. ``/``, ``..``, ``%``, quotes and SQL metacharacters are allowed: they are bound
    or escaped, never spliced.
    """
    checked: dict[str, str] = {}
    for name, value in lookup.items():
        where = f"lookup.{name}" if isinstance(name, str) and len(name) <= 64 else "lookup"
        if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
            raise InvalidContext(
                f"{where}: a lookup key's name is letters, digits and _", details={"at": where}
            )
        reason = value_problem(value)
        if reason is not None:
            raise InvalidContext(f"{where}: {reason}", details={"at": where})
        checked[name] = value
    return checked


def value_problem(value: Any) -> str | None:
    """Why ``value`` cannot be a lookup key's value (see ``check_lookup``), or ``None``."""
    if not isinstance(value, str):
        return "a lookup value must be text"
    if not value:
        return "a lookup value must not be empty"
    if len(value) > MAX_KEY_CHARS:
        return f"a lookup value must be at most {MAX_KEY_CHARS} characters"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return "a lookup value must not contain control characters"
    return text_problem(value)
