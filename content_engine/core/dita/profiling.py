"""DITA's profiling attributes as the engine's conditions: ``--map audience=role`` and the rest.

In: the ``--map ATTRIBUTE=DIMENSION`` options, then elements one by one. Out: the ``data-*``
attributes an element gets (``audience="admin user"`` → ``data-role="admin user"``), or the
values a topicref's topic is limited to, and the vocabulary met on the way.

DITA filters by exclusion: a DITAVAL names the values to exclude, an element is excluded only
when *all* its values for one attribute are excluded, and any one attribute so excluding it
drops it. A reader with role ``R`` is what a DITAVAL excluding every value but ``R`` leaves:
an element stays when ``R`` is among its values, for every attribute it carries. That is the
engine's inline rule exactly (a value list matches when one value does; several ``data-*``
attributes must all hold), so values carry over one for one. Two DITA attributes mapped to one
dimension could not both be written as one ``data-*`` attribute and are refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from content_engine.core.dita.source import Findings
from content_engine.core.errors import InputError

__all__ = ["DIMENSIONS", "PROFILING_ATTRIBUTES", "Profiler", "parse_mapping"]

PROFILING_ATTRIBUTES = ("audience", "platform", "product", "otherprops", "props", "deliveryTarget")
# Dimension → the inline attribute; the variant condition it is in front matter.
DIMENSIONS = {
    "role": "data-role",
    "segment": "data-segment",
    "region": "data-region",
    "channel": "data-channel",
    "locale": "data-locale",
}
_PLURAL = {"roles": "role", "segments": "segment", "regions": "region", "channels": "channel"}
# What a reader's role, segment, region or channel may be called (CONTRACT 1).
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def parse_mapping(items: Iterable[str]) -> dict[str, str]:
    """``["audience=role", "platform=channel"]`` as ``{"audience": "role", ...}``."""
    mapping: dict[str, str] = {}
    for item in items:
        attribute, sep, dimension = (part.strip() for part in item.partition("="))
        dimension = _PLURAL.get(dimension, dimension)
        if not sep or attribute not in PROFILING_ATTRIBUTES or dimension not in DIMENSIONS:
            raise InputError(
                f"--map {item!r}: expected ATTRIBUTE=DIMENSION with ATTRIBUTE one of "
                f"{', '.join(PROFILING_ATTRIBUTES)} and DIMENSION one of {', '.join(DIMENSIONS)}"
            )
        if attribute in mapping and mapping[attribute] != dimension:
            raise InputError(f"--map {attribute}: mapped twice")
        taken = [a for a, d in mapping.items() if d == dimension and a != attribute]
        if taken:
            raise InputError(
                f"--map {item!r}: {taken[0]} is mapped to {dimension} already; an element "
                f"carrying both would need two data-{dimension} attributes"
            )
        mapping[attribute] = dimension
    return mapping


@dataclass
class Profiler:
    """Reads the profiling attributes of elements by the mapping; reports what it cannot map."""

    mapping: dict[str, str]
    findings: Findings
    # The values met per dimension: the library's vocabulary, so that lint knows them.
    vocabulary: dict[str, set[str]] = field(default_factory=dict)

    def values(self, element: Any, file: str) -> dict[str, tuple[str, ...]] | None:
        """The mapped dimensions of ``element`` and their values; ``None`` when no reader can
        ever match one of them (the element is then left out, and that is reported)."""
        found: dict[str, tuple[str, ...]] = {}
        for attribute in PROFILING_ATTRIBUTES:
            raw = element.get(attribute)
            if raw is None:
                continue
            dimension = self.mapping.get(attribute)
            if dimension is None:
                self.findings.add(
                    file,
                    element,
                    f"@{attribute}",
                    f'{attribute}="{raw}" on <{element.tag}> is not mapped (--map '
                    f"{attribute}=DIMENSION): the element is kept for every reader",
                )
                continue
            if "(" in raw:
                self.findings.add(
                    file,
                    element,
                    f"@{attribute}",
                    f"grouped values {raw!r} are not supported: the element is left out",
                )
                return None
            usable = [v for v in raw.split() if _NAME.fullmatch(v)]
            for value in raw.split():
                if value not in usable:
                    self.findings.add(
                        file,
                        element,
                        f"@{attribute}",
                        f"value {value!r} cannot be a {dimension} name; no reader matches it",
                    )
            if not usable:
                if raw.split():
                    return None
                continue  # an empty attribute filters nothing in DITA
            self.vocabulary.setdefault(dimension, set()).update(usable)
            found[dimension] = tuple(usable)
        return found

    def data_attributes(self, element: Any, file: str) -> dict[str, str] | None:
        """The ``data-*`` attributes ``element`` gets, or ``None`` to leave it out."""
        found = self.values(element, file)
        if found is None:
            return None
        return {DIMENSIONS[d]: " ".join(v) for d, v in found.items()}
