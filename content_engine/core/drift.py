"""Translation drift: which translations are older than the source they were made from.

In: a ``Library`` (its variants carry their versions and ``translated_from``) and, for the
words that changed, a way to read a source variant's body at an older version. Out: the stale
translations (CONTRACT 10) and ``stale_translation`` lint warnings with a word-level diff of
the source since the version the translation records. Pure: the older bodies come from the
function the caller passes (the engine reads them from the stored versions).

A translation is stale when the source variant it names is live (published) at a version
newer than the one recorded. A source that is gone or offline makes nothing stale: there is
nothing newer to translate.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass

from content_engine.core.diffing import common_ends
from content_engine.core.integrity import Problem
from content_engine.core.models import Library

__all__ = [
    "BodyAt",
    "StaleTranslation",
    "stale_problems",
    "stale_translations",
    "word_diff",
]

# The body of (component, variant key, version), or ``None`` when that version is not stored.
BodyAt = Callable[[str, str, int], str | None]

_TAG = re.compile(r"<[^>]*>")
_WORD = re.compile(r"\S+")
# A diff is for a person to read. Words the two versions share at the start and end are set
# aside first (an edit is mostly local); what is left is cut at this many words a side, since
# difflib's matcher is quadratic in the worst case: the bound is also one on lint's time.
MAX_DIFF_WORDS = 400
MAX_DIFF_CHANGES = 12


@dataclass(frozen=True)
class StaleTranslation:
    """A translation whose source moved on: ``recorded`` is what it was made from, ``live``
    the source's version readers get now."""

    component: str
    variant: str
    locale: str | None
    source: str
    recorded: int
    live: int


def stale_translations(library: Library) -> list[StaleTranslation]:
    """Every stale translation of the library, by component and variant key."""
    found: list[StaleTranslation] = []
    for component in sorted(library.components.values(), key=lambda c: c.id):
        for key in sorted(component.variants):
            variant = component.variants[key]
            origin = variant.translated_from
            if origin is None:
                continue
            source = component.variants.get(origin.variant)
            if source is None or source.status != "published" or source.version <= origin.version:
                continue
            found.append(
                StaleTranslation(
                    component=component.id,
                    variant=key,
                    locale=variant.conditions.locale,
                    source=origin.variant,
                    recorded=origin.version,
                    live=source.version,
                )
            )
    return found


def _words(body: str) -> list[str]:
    """The words of a body as a reader sees them: markup is no word."""
    return _WORD.findall(_TAG.sub(" ", body))


def word_diff(old: str, new: str) -> str:
    """What changed between two bodies, word by word: ``[-removed-] {+added+}``, joined by
    `` … `` between changes; empty when the words are the same (a change of markup only)."""
    before, after = _words(old), _words(new)
    start, end = common_ends(before, after)
    before = before[start : len(before) - end][:MAX_DIFF_WORDS]
    after = after[start : len(after) - end][:MAX_DIFF_WORDS]
    changes: list[str] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if len(changes) == MAX_DIFF_CHANGES:
            changes.append("…")
            break
        part = []
        if a2 > a1:
            part.append(f"[-{' '.join(before[a1:a2])}-]")
        if b2 > b1:
            part.append(f"{{+{' '.join(after[b1:b2])}+}}")
        changes.append(" ".join(part))
    return " … ".join(changes)


def stale_problems(library: Library, body_at: BodyAt) -> list[Problem]:
    """A ``stale_translation`` warning per stale translation, saying what changed since."""
    problems = []
    for stale in stale_translations(library):
        component = library.components[stale.component]
        old = body_at(stale.component, stale.source, stale.recorded)
        new = component.variants[stale.source].body
        if old is None:
            what = f"version {stale.recorded} is not stored"
        else:
            what = word_diff(old, new) or "the words are the same (markup or status changed)"
        problems.append(
            Problem(
                code="stale_translation",
                severity="warning",
                message=(
                    f"{stale.component}/{stale.variant}: translated from {stale.source} "
                    f"v{stale.recorded}, which is at v{stale.live} now: {what}"
                ),
                component=stale.component,
                variant=stale.variant,
            )
        )
    return problems
