"""Conditions: segment-rule trees over customer data, and the inline conditions of bodies.

In: a condition tree and the data it is about (a context's, through ``context_data``); or an
element's ``data-*`` attributes. Out: whether the tree holds; an ``InlineCondition`` that a
``Reader`` (``reader``) keeps or drops. Pure: no I/O, nothing evaluated as code.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from content_engine.core import patterns
from content_engine.core.models import (
    AllOf,
    AnyOf,
    Condition,
    Context,
    Leaf,
    NotOf,
)

_MISSING = object()

INLINE_ATTRIBUTES = {
    "data-segment": "segments",
    "data-role": "role",
    "data-region": "region",
    "data-channel": "channel",
    "data-locale": "locale",
}


# --- condition trees -------------------------------------------------------------------------


def resolve(data: Mapping[str, Any], path: str) -> Any:
    """Follow a dotted path through nested mappings; ``_MISSING`` where it breaks off."""
    value: Any = data
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        else:
            return _MISSING
    return value


def _ordered(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(a: Any, b: Any) -> bool:
        try:
            return bool(op(a, b))
        except TypeError:  # "abc" < 3: a rule about another type simply does not hold
            return False

    return compare


def _contains(a: Any, b: Any) -> bool:
    return isinstance(a, str | list | tuple | set | frozenset | dict) and b in a


def _in(a: Any, b: Any) -> bool:
    return isinstance(b, list | tuple | set | frozenset | str) and a in b


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": _ordered(operator.lt),
    "<=": _ordered(operator.le),
    ">": _ordered(operator.gt),
    ">=": _ordered(operator.ge),
    "in": _in,
    "contains": _contains,
    "matches": lambda a, b: patterns.search(str(b), str(a)),
}


def evaluate(condition: Condition, data: Mapping[str, Any]) -> bool:
    """Evaluate a condition tree. A missing attribute makes every leaf but ``exists`` false."""
    if isinstance(condition, AllOf):
        return all(evaluate(c, data) for c in condition.all)
    if isinstance(condition, AnyOf):
        return any(evaluate(c, data) for c in condition.any)
    if isinstance(condition, NotOf):
        return not evaluate(condition.not_, data)
    assert isinstance(condition, Leaf)
    value = resolve(data, condition.attr)
    if condition.op == "exists":
        return value is not _MISSING and value is not None
    if value is _MISSING:
        return False
    return bool(_OPS[condition.op](value, condition.value))


def context_data(context: Context, plain: dict[str, Any] | None = None) -> dict[str, Any]:
    """The namespace segment rules see: ``customer.x``, ``product.x``, ``context.x`` and each
    data source's values by its name (``installation.model``). ``plain``: the context's JSON
    dump, if the caller has it."""
    if plain is None:
        plain = context.model_dump(mode="json")
    named = {"customer": context.customer, "product": context.product, "context": plain}
    return {**context.data, **named, **plain}


# --- inline conditions -----------------------------------------------------------------------


@dataclass(frozen=True)
class InlineCondition:
    """The ``data-*`` tests of one element: (dimension, positives, negatives) each."""

    tests: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]

    @classmethod
    def from_attributes(cls, attributes: Mapping[str, str]) -> InlineCondition | None:
        tests = []
        for attr, dimension in INLINE_ATTRIBUTES.items():
            if attr in attributes:
                values = attributes[attr].split()
                pos = tuple(v for v in values if not v.startswith("-"))
                neg = tuple(v[1:] for v in values if v.startswith("-") and len(v) > 1)
                tests.append((dimension, pos, neg))
        return cls(tuple(tests)) if tests else None

    def values(self, dimension: str) -> tuple[str, ...]:
        return tuple(v for d, pos, neg in self.tests if d == dimension for v in (*pos, *neg))
