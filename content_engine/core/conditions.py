"""Conditions: segment-rule trees over customer data, region groups, and inline conditions.

In: a library's settings and a context. Out: a ``Reader`` (the context with derived segments,
its locale fallback chain and region distances) that selection and inline conditions query.
Pure: no I/O, nothing evaluated as code.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from content_engine.core import patterns
from content_engine.core.locales import fallback_chain, range_matches
from content_engine.core.models import (
    AllOf,
    AnyOf,
    Condition,
    Context,
    Leaf,
    LibrarySettings,
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


def context_data(context: Context) -> dict[str, Any]:
    """The namespace segment rules see: ``customer.x``, ``product.x`` and ``context.x``."""
    plain = context.model_dump(mode="json")
    return {"customer": context.customer, "product": context.product, "context": plain, **plain}


# --- region groups ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RegionGroups:
    """Named groups of region codes or other groups; membership is transitive."""

    groups: Mapping[str, Sequence[str]]
    _parents: dict[str, frozenset[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parents: dict[str, set[str]] = {}
        for group, members in self.groups.items():
            for member in members:
                parents.setdefault(member, set()).add(group)
        object.__setattr__(self, "_parents", {k: frozenset(v) for k, v in parents.items()})

    def distances(self, region: str) -> dict[str, int]:
        """Every group holding ``region`` (and the region itself) with its distance."""
        found = {region: 0}
        frontier = [region]
        while frontier:
            nxt = []
            for name in frontier:
                for parent in self._parents.get(name, ()):
                    if parent not in found:
                        found[parent] = found[name] + 1
                        nxt.append(parent)
            frontier = nxt
        return found

    def is_known(self, name: str) -> bool:
        return name in self.groups or name in self._parents


# --- the reader ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reader:
    """A context resolved against a library: what selection and inline conditions ask."""

    context: Context
    chain: tuple[str, ...]
    segments: frozenset[str]
    region_distances: Mapping[str, int]
    preview: bool = False

    @property
    def locale(self) -> str:
        return self.context.locale

    def region_distance(self, names: Iterable[str]) -> int | None:
        """The smallest distance from the context's region to any of ``names``."""
        found = [self.region_distances[n] for n in names if n in self.region_distances]
        return min(found) if found else None

    def inline_keeps(self, condition: InlineCondition) -> bool:
        return all(self._dimension_keeps(d, pos, neg) for d, pos, neg in condition.tests)

    def _dimension_keeps(self, dimension: str, pos: tuple[str, ...], neg: tuple[str, ...]) -> bool:
        if not self._has(dimension):
            return not pos
        if any(self._matches(dimension, v) for v in neg):
            return False
        return not pos or any(self._matches(dimension, v) for v in pos)

    def _has(self, dimension: str) -> bool:
        if dimension == "segments":
            return bool(self.segments)
        return getattr(self.context, dimension) is not None

    def _matches(self, dimension: str, value: str) -> bool:
        if dimension == "segments":
            return value in self.segments
        if dimension == "region":
            return value in self.region_distances
        if dimension == "locale":
            return range_matches(value, self.context.locale)
        return bool(getattr(self.context, dimension) == value)


def describe_context(context: Context, segments: Iterable[str] | None = None) -> str:
    """A one-line summary of who is reading, for messages."""
    parts = [f"locale={context.locale}"]
    shown = sorted(context.segments if segments is None else segments)
    if shown:
        parts.append(f"segments={','.join(shown)}")
    parts += [f"{k}={v}" for k in ("role", "region", "channel") if (v := getattr(context, k))]
    return " ".join(parts)


def derived_segments(context: Context, settings: LibrarySettings) -> frozenset[str]:
    """The context's segments plus those its data earns through ``segment_rules``."""
    segments = set(context.segments)
    if settings.segment_rules:
        data = context_data(context)
        segments.update(r.segment for r in settings.segment_rules if evaluate(r.when, data))
    return frozenset(segments)


def make_reader(
    context: Context,
    settings: LibrarySettings,
    *,
    preview: bool = False,
    groups: RegionGroups | None = None,
) -> Reader:
    groups = groups or RegionGroups(settings.regions)
    return Reader(
        context=context,
        chain=fallback_chain(context.locale, settings.default_locale),
        segments=derived_segments(context, settings),
        region_distances=groups.distances(context.region) if context.region else {},
        preview=preview,
    )


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
