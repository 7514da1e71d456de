"""Sample feedback for the sample library's experiment, so that a new report shows something.

In: an engine holding the sample library, how many readers, a seed. Out: those readers shown
the experiment's component through the engine (arms drawn by their ids, exposures counted),
some of them answering through the same path ``POST /v1/feedback`` takes, with scores drawn
from each arm's own (made-up) distribution; how many answered. Deterministic for a seed:
the same readers, arms and scores every time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from content_engine.core.feedback import Answer
from content_engine.core.models import Context
from content_engine.engine.facade import Engine

__all__ = ["SAMPLE_COMPONENT", "SAMPLE_EXPERIMENT", "SeededFeedback", "seed_feedback"]

SAMPLE_COMPONENT = "promo.hp200.cta"
SAMPLE_EXPERIMENT = "hp200-cta"
# NPS shares (promoters, detractors) and a CSAT centre per arm: "story" is the better arm by
# 10 NPS points, which a few thousand readers are not always enough to show.
_TRUTH = {"direct": (0.40, 0.25, 3.6), "story": (0.47, 0.22, 3.9)}
_ANSWER_RATE = 0.3
_LOCALES = ("en", "de", "de-AT", "fr")
_ROLES = (None, "buyer", "technician")


@dataclass(frozen=True)
class SeededFeedback:
    readers: int
    answers: int
    skipped: bool  # answers were there already: nothing was added


def _nps(rng: random.Random, promoters: float, detractors: float) -> int:
    roll = rng.random()
    if roll < promoters:
        return rng.choice((9, 10))
    if roll < promoters + detractors:
        return rng.randint(0, 6)
    return rng.choice((7, 8))


def seed_feedback(engine: Engine, readers: int = 1_000, seed: int = 16) -> SeededFeedback:
    """Show the experiment to ``readers`` simulated readers and let some answer."""
    if engine.feedback.report(component=SAMPLE_COMPONENT).groups:
        return SeededFeedback(readers, 0, skipped=True)
    rng = random.Random(seed)
    answered = 0
    for n in range(readers):
        context = Context(
            locale=rng.choice(_LOCALES), role=rng.choice(_ROLES), reader_id=f"sample-{n:05d}"
        )
        block = engine.block(SAMPLE_COMPONENT, context)
        issued = engine.block_feedback(block, context, preview=False)
        if issued is None or block.arm not in _TRUTH:
            continue
        engine.feedback.exposed(issued.group)
        if rng.random() >= _ANSWER_RATE:
            continue
        promoters, detractors, csat = _TRUTH[block.arm]
        nps = _nps(rng, promoters, detractors)
        comment = "Please call me back." if nps <= 3 else None
        engine.feedback.answer(Answer(token=issued.token, metric="nps", score=nps, comment=comment))
        score = min(5, max(1, round(rng.gauss(csat, 0.9))))
        engine.feedback.answer(Answer(token=issued.token, metric="csat", score=score))
        answered += 1
    engine.feedback.flush()
    return SeededFeedback(readers, answered, skipped=False)
