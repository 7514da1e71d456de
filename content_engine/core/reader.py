"""The reader: a context resolved against a library's settings, what selection queries.

In: a ``Context`` and the library's settings (its default locale, segment rules and region
groups). Out: a ``Reader``: the context with its derived segments, its locale fallback chain and
its distance to every region group, which selection, assembly and inline conditions ask. It
exists so that a context is resolved once per request, not once per variant compared.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from content_engine.core.conditions import InlineCondition, context_data, evaluate
from content_engine.core.locales import fallback_chain, range_matches
from content_engine.core.models import Context, LibrarySettings


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


_PLAIN = "plain"


@dataclass(frozen=True)
class Reader:
    """A context resolved against a library: what selection and inline conditions ask."""

    context: Context
    chain: tuple[str, ...]
    segments: frozenset[str]
    region_distances: Mapping[str, int]
    preview: bool = False
    # What is worked out from the context at most once per reader (``plain``, and the block
    # cache's ``data_read``): a request dumped the same context up to four times.
    memo: dict[object, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def locale(self) -> str:
        return self.context.locale

    @property
    def plain(self) -> dict[str, Any]:
        """The context as JSON values (``model_dump(mode="json")``): do not change it."""
        found = self.memo.get(_PLAIN)
        if found is None:
            found = self.memo[_PLAIN] = self.context.model_dump(mode="json")
        return cast(dict[str, Any], found)

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


def derived_segments(
    context: Context, settings: LibrarySettings, plain: dict[str, Any] | None = None
) -> frozenset[str]:
    """The context's segments plus those its data earns through ``segment_rules``; ``plain``:
    the context's JSON dump if made already."""
    segments = set(context.segments)
    if settings.segment_rules:
        data = context_data(context, plain)
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
    memo: dict[object, Any] = {}
    if settings.segment_rules:
        memo[_PLAIN] = context.model_dump(mode="json")
    return Reader(
        context=context,
        chain=fallback_chain(context.locale, settings.default_locale),
        segments=derived_segments(context, settings, memo.get(_PLAIN)),
        region_distances=groups.distances(context.region) if context.region else {},
        preview=preview,
        memo=memo,
    )
