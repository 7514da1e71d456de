"""Choosing a variant (CONTRACT section 3): candidates, ranking, and the explain trace.

In: a component's variants and a ``Reader``. Out: a ``Selection`` naming the winner and, for
every variant, whether it was a candidate, why not, and its rank. Pure and deterministic.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from content_engine.core.experiments import assign, no_reader_warning
from content_engine.core.models import Assignment, Component, Context, Variant
from content_engine.core.reader import Reader

PREVIEW_STATUSES = frozenset({"published", "draft", "review"})
# A variant that states no region is farther from the reader than any region it could name.
UNSTATED_DISTANCE = 1_000

Rank = tuple[int, int, int, int, str]


class VariantTrace(BaseModel):
    key: str
    version: int
    candidate: bool
    reasons: list[str]
    # Smaller sorts first: [locale position in chain, -stated dimensions, region distance,
    # -priority, key]. Present for candidates only.
    rank: list[int | str] | None = None
    # The key's live version (what readers get) and working copy (what preview gets), each
    # null when there is none (CONTRACT 7); ``version`` is the one judged here.
    live: int | None = None
    working: int | None = None


class SourceAsked(BaseModel):
    """One data source asked for this context (CONTRACT 8): its name, the lookup key's name
    (never its value), the seconds waited, whether the cache answered, and the outcome."""

    source: str
    key: str
    seconds: float
    cache_hit: bool
    outcome: str


class Selection(BaseModel):
    """The outcome of section 3 for one component and one context, with its reasons."""

    component: str
    context: Context
    chain: list[str]
    segments: list[str]
    winner: str | None
    variants: list[VariantTrace]
    ambiguous: list[str] = []
    # Values of the context the library does not know (``vocabulary``): they matched nothing.
    warnings: list[str] = []
    # Every data source asked to fill the context (empty without a lookup).
    sources: list[SourceAsked] = []
    # The experiment arm drawn for this reader, when the best variant is an arm (CONTRACT 9).
    experiment: Assignment | None = None
    # Where ``context.region`` came from: the context itself, the client's address (a web
    # request with ``serve --geoip``), or nowhere (no region).
    region_source: Literal["context", "network", "none"] = "none"


def _fmt(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def rejections(variant: Variant, reader: Reader) -> list[str]:
    """Why ``variant`` is not a candidate for ``reader`` (empty: it is one)."""
    ctx, cond, reasons = reader.context, variant.conditions, []
    allowed = PREVIEW_STATUSES if reader.preview else {"published"}
    if variant.status not in allowed:
        reasons.append(
            f"status {variant.status}: only published variants are served"
            + ("" if reader.preview or variant.status == "archived" else " (use preview)")
        )
    if variant.valid_from and ctx.at < variant.valid_from:
        reasons.append(f"not valid yet: valid_from {_fmt(variant.valid_from)}")
    if variant.valid_until and ctx.at >= variant.valid_until:
        reasons.append(f"expired: valid_until {_fmt(variant.valid_until)}")
    if cond.locale is not None and cond.locale not in reader.chain:
        reasons.append(f"locale {cond.locale} is not in the chain {' > '.join(reader.chain)}")
    if cond.segments is not None:
        if not reader.segments:
            reasons.append("segments: the context has no segment")
        elif not reader.segments & set(cond.segments):
            reasons.append(
                f"segments: none of {sorted(reader.segments)} is in {list(cond.segments)}"
            )
    for dimension, value in (("roles", ctx.role), ("channels", ctx.channel)):
        stated = getattr(cond, dimension)
        if stated is not None:
            name = dimension[:-1]
            if value is None:
                reasons.append(f"{dimension}: the context has no {name}")
            elif value not in stated:
                reasons.append(f"{dimension}: {name} {value!r} is not in {list(stated)}")
    if cond.regions is not None:
        if ctx.region is None:
            reasons.append("regions: the context has no region")
        elif reader.region_distance(cond.regions) is None:
            reasons.append(f"regions: {ctx.region} is not in {list(cond.regions)}")
    return reasons


def rank(variant: Variant, reader: Reader) -> Rank:
    """The sort key of a candidate: smaller is better (section 3.3)."""
    cond = variant.conditions
    position = len(reader.chain) if cond.locale is None else reader.chain.index(cond.locale)
    stated_distance = None if cond.regions is None else reader.region_distance(cond.regions)
    distance = UNSTATED_DISTANCE if stated_distance is None else stated_distance
    return (position, -cond.stated(), distance, -variant.priority, variant.key)


def best_variant(variants: Iterable[Variant], reader: Reader) -> Variant | None:
    """The winner alone, without building the trace (the hot path)."""
    return choose("", variants, reader)[0]


def choose(
    component_id: str, variants: Iterable[Variant], reader: Reader
) -> tuple[Variant | None, Assignment | None]:
    """The winner and, when it is an experiment's arm, the reader's assignment (CONTRACT 9):
    the best candidate's experiment draws among the candidates of that experiment that tie
    with it up to priority (rank without the key)."""
    best: tuple[Rank, Variant] | None = None
    tied: list[Variant] = []
    for variant in variants:
        if not rejections(variant, reader):
            r = rank(variant, reader)
            if best is None or r[:4] < best[0][:4]:
                tied = [variant]
            elif r[:4] == best[0][:4]:
                tied.append(variant)
            if best is None or r < best[0]:
                best = (r, variant)
    if best is None:
        return None, None
    return _drawn(component_id, best[1], tied, reader)


def _drawn(
    component_id: str, winner: Variant, tied: list[Variant], reader: Reader
) -> tuple[Variant, Assignment | None]:
    if winner.experiment is None:
        return winner, None
    arms = [v for v in tied if v.experiment == winner.experiment]
    assignment = assign(component_id, arms, reader.context)
    return next(v for v in arms if v.key == assignment.arm), assignment


def explain(component: Component, reader: Reader) -> Selection:
    """Every variant of ``component`` judged for ``reader``, with the winner."""
    traces: list[VariantTrace] = []
    ranked: list[tuple[Rank, str]] = []
    for key in sorted(component.variants):
        variant = component.variants[key]
        reasons = rejections(variant, reader)
        r = None if reasons else rank(variant, reader)
        if r is not None:
            ranked.append((r, key))
        traces.append(
            VariantTrace(
                key=key,
                version=variant.version,
                candidate=r is not None,
                reasons=reasons,
                rank=list(r) if r else None,
            )
        )
    ranked.sort()
    winner = ranked[0][1] if ranked else None
    ambiguous = [k for r, k in ranked if ranked and r[:4] == ranked[0][0][:4]]
    assignment = None
    if winner is not None:
        tied = [component.variants[k] for k in ambiguous]
        drawn, assignment = _drawn(component.id, component.variants[winner], tied, reader)
        winner = drawn.key
        if assignment is not None:  # arms tie by design: only the others are ambiguous
            arms = {arm.key for arm in assignment.arms}
            ambiguous = [k for k in ambiguous if k not in arms]
    return Selection(
        component=component.id,
        context=reader.context,
        chain=list(reader.chain),
        segments=sorted(reader.segments),
        winner=winner,
        variants=traces,
        ambiguous=ambiguous if len(ambiguous) > 1 else [],
        experiment=assignment,
        warnings=[no_reader_warning(assignment)] if assignment and assignment.by == "none" else [],
        region_source="context" if reader.context.region else "none",
    )
