"""The library's vocabulary: the roles, regions, segments and channels a reader may name.

In: a ``Library`` (and a way to read each body's inline conditions) and a ``Context``. Out: the
context's values the library does not know, each with the values it does. Such a value is no
error in itself, but it matches nothing a variant states: the reader silently gets the generic
variants (``--role astronaut`` reads like no role). So callers warn, or refuse when strict.

A value is known when the library declares it for its dimension or a variant states it (front
matter or an inline ``data-*`` condition, negated values included), and besides:
- regions: every group of ``regions`` and every code a group holds, and any country code;
- segments: every segment ``segment_rules`` can derive;
- channels: ``web``, ``print`` and ``email``.
Pure: no I/O.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from babel.core import get_global

from content_engine.core.conditions import InlineCondition
from content_engine.core.errors import OutsideVocabulary
from content_engine.core.models import Component, Context, Library, LibrarySettings, Variant

BUILTIN_CHANNELS = ("web", "print", "email")
# The context's fields, each with its dimension's name in front matter and in ``data-*``.
DIMENSIONS = (
    ("role", "roles", "role"),
    ("region", "regions", "region"),
    ("segment", "segments", "segments"),
    ("channel", "channels", "channel"),
)

InlineConditions = Callable[[Component, Variant], Iterable[InlineCondition]]


@functools.cache
def countries() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes as CLDR (the data of the pinned Babel) lists territories.

    CLDR's two-letter territories with language data are the countries and dependent
    territories; that leaves out the groupings it also names (EU, EZ, UN, QO) and its
    pseudo-territories (XA, XB). ``ZZ`` is CLDR's "Unknown Region", no place at all. Read on
    first use, not at import: loading Babel's global data costs every process that imports
    the core, and most (a render, the CLI's ``--help``) never ask.
    """
    territories = get_global("territory_languages")
    return frozenset(
        code for code in territories if len(code) == 2 and code.isalpha() and code != "ZZ"
    )


def is_country(code: str) -> bool:
    return code in countries()


@dataclass(frozen=True)
class UnknownValue:
    """One value of a context that the library does not know, with the ones it does."""

    dimension: str  # role, region, segment or channel
    value: str
    known: tuple[str, ...]

    @property
    def message(self) -> str:
        plural = f"{self.dimension}s"
        known = ", ".join(self.known) if self.known else "(it names none)"
        if self.dimension == "region":
            return (
                f"region {self.value!r} is neither an ISO 3166-1 country code nor one of "
                f"the library's regions: {known}"
            )
        return f"{self.dimension} {self.value!r} is not one of the library's {plural}: {known}"

    def details(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "dimension": self.dimension,
            "value": self.value,
            "known": list(self.known),
        }
        if self.dimension == "region":
            found["countries"] = "any ISO 3166-1 alpha-2 code is a region too"
        return found


def _in_order(*groups: Iterable[str]) -> tuple[str, ...]:
    """Every value once, where it first appears: as the library declares them."""
    return tuple(dict.fromkeys(value for group in groups for value in group))


def _declared(settings: LibrarySettings) -> dict[str, tuple[str, ...]]:
    """What the settings alone make known (no body is read for these)."""
    members = (member for group in settings.regions.values() for member in group)
    return {
        "role": _in_order(settings.roles),
        "region": _in_order(settings.regions, members),
        "segment": _in_order(settings.segments, (rule.segment for rule in settings.segment_rules)),
        "channel": _in_order(settings.channels, BUILTIN_CHANNELS),
    }


def _stated(library: Library, inline: InlineConditions) -> dict[str, set[str]]:
    """What any variant states, in its front matter or in its body's inline conditions."""
    found: dict[str, set[str]] = {dimension: set() for dimension, _, _ in DIMENSIONS}
    for component in library.components.values():
        for variant in component.variants.values():
            conditions = inline(component, variant)
            for dimension, front, attribute in DIMENSIONS:
                found[dimension].update(getattr(variant.conditions, front) or ())
                for condition in conditions:
                    found[dimension].update(condition.values(attribute))
    return found


class Vocabulary:
    """The known values of one library state; ask it about contexts with ``unknown``.

    What the settings declare is known at once. What variants state is gathered only when a
    context names a value outside the declared ones (it means reading every body's inline
    conditions), then kept: a library state never changes.
    """

    def __init__(self, library: Library, inline: InlineConditions = lambda c, v: ()) -> None:
        self._library = library
        self._inline = inline
        self._declared = _declared(library.settings)
        self._declared_sets = {d: frozenset(v) for d, v in self._declared.items()}
        self._known: dict[str, tuple[str, ...]] | None = None

    def known(self) -> dict[str, tuple[str, ...]]:
        """Every dimension's known values: the declared ones in order, then the stated ones."""
        known = self._known
        if known is None:
            stated = _stated(self._library, self._inline)
            known = {
                dimension: _in_order(values, sorted(stated[dimension] - set(values)))
                for dimension, values in self._declared.items()
            }
            self._known = known  # computed twice at worst, never half-written
        return known

    def settled(self, context: Context) -> bool:
        """Whether ``unknown`` answers for ``context`` without reading any body."""
        return self._known is not None or not self._undeclared(context)

    def _undeclared(self, context: Context) -> list[tuple[str, str]]:
        return [
            (dimension, value)
            for dimension, value in dict.fromkeys(_values(context))
            if value not in self._declared_sets[dimension]
            and not (dimension == "region" and is_country(value))
        ]

    def unknown(self, context: Context) -> list[UnknownValue]:
        """The values of ``context`` outside the vocabulary, in field order."""
        outside = self._undeclared(context)
        if not outside:
            return []
        known = self.known()
        return [
            UnknownValue(dimension, value, known[dimension])
            for dimension, value in outside
            if value not in known[dimension]
        ]

    def check(self, context: Context, *, strict: bool) -> list[str]:
        """Warnings for the values outside the vocabulary; ``OutsideVocabulary`` if strict."""
        unknown = self.unknown(context)
        if strict and unknown:
            raise refusal(unknown)
        return [u.message for u in unknown]


def _values(context: Context) -> Iterator[tuple[str, str]]:
    """The values a reader names: only the segments it states (derived ones are known)."""
    for dimension, value in (("role", context.role), ("region", context.region)):
        if value is not None:
            yield dimension, value
    for segment in context.segments:
        yield "segment", segment
    if context.channel is not None:
        yield "channel", context.channel


def refusal(unknown: Sequence[UnknownValue]) -> OutsideVocabulary:
    """The error of a strict reader: every unknown value said, the first one in ``details``."""
    first = unknown[0]
    return OutsideVocabulary(
        "; ".join(u.message for u in unknown),
        details=first.details() | {"unknown": [u.details() for u in unknown]},
    )
