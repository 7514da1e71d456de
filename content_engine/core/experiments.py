"""Experiments (CONTRACT 9): which arm of an experiment a reader gets.

In: the variants that tie for best for one reader (section 3, up to priority) and share an
``experiment`` id, and the reader's context. Out: an ``Assignment`` naming the arm. Pure and
deterministic: the same experiment and reader id give the same arm in every process, on every
day, whatever else the reader asks for, so a reader never sees two arms of one experiment.

The draw: SHA-256 of ``experiment id NUL reader id`` read as a number in [0, 1), placed on the
arms' cumulative weights in key order. A reader without an id (``context.reader_id``, else
``customer.id``) gets the arm with the first key, with a warning: drawing at random would show
one person both arms across requests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from content_engine.core.models import Arm, Assignment, Context, Variant

__all__ = ["assign", "draw", "no_reader_warning", "reader_id_of"]

_SCALE = float(2**64)


def reader_id_of(context: Context) -> tuple[str | None, str]:
    """The id an arm is drawn by, and where it came from (``reader_id``, ``customer.id``)."""
    if context.reader_id is not None:
        return context.reader_id, "reader_id"
    customer = context.customer.get("id")
    if isinstance(customer, str | int) and not isinstance(customer, bool) and str(customer):
        return str(customer), "customer.id"
    return None, "none"


def draw(experiment: str, reader_id: str, arms: Sequence[Arm]) -> str:
    """The arm ``reader_id`` gets among ``arms`` (in key order), by weight."""
    digest = hashlib.sha256(f"{experiment}\0{reader_id}".encode("utf-8", "surrogatepass"))
    point = int.from_bytes(digest.digest()[:8], "big") / _SCALE * sum(a.weight for a in arms)
    reached = 0.0
    for arm in arms:
        reached += arm.weight
        if point < reached:
            return arm.key
    return arms[-1].key  # rounding at the very top


def assign(component: str, tied: Sequence[Variant], context: Context) -> Assignment:
    """The assignment among ``tied`` (variants of one experiment that tie for best)."""
    arms = tuple(Arm(key=v.key, weight=v.weight) for v in sorted(tied, key=lambda v: v.key))
    experiment = tied[0].experiment or ""
    reader, by = reader_id_of(context)
    arm = arms[0].key if reader is None else draw(experiment, reader, arms)
    return Assignment(component=component, experiment=experiment, arm=arm, arms=arms, by=by)


def no_reader_warning(assignment: Assignment) -> str:
    return (
        f"{assignment.component}: experiment {assignment.experiment}: the context has no "
        f"reader_id nor customer.id, so it gets the first arm ({assignment.arm})"
    )
