"""What feedback costs the block path: exposure counting and tokens against a cached block.

Run: ``.venv/bin/python -m benchmarks.feedback`` (a fresh SQLite file under a temporary folder,
the sample library). Prints medians (µs per call) of: a cached block (``Engine.cached_block``,
the baseline every fast-path hit pays), counting one exposure (``FeedbackDesk.exposed``, what
each answer sent adds), issuing a token (``Engine.block_feedback``, paid once per stored
answer, not per hit), and a cached block of an experiment for a reader with an id (the arm
drawn on every lookup). Ratios are against the baseline measured in the same run.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from content_engine import Context, Engine, Settings

ROOT = Path(__file__).resolve().parent.parent
REPEAT = 20_000
ROUNDS = 7


def _median_us(call: Callable[[], object]) -> float:
    rounds = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(REPEAT):
            call()
        rounds.append((time.perf_counter() - start) / REPEAT * 1e6)
    return statistics.median(rounds)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(db_url=f"sqlite:///{folder}/bench.db", home=ROOT)
        with Engine(settings) as engine:
            engine.import_library(ROOT / "components")
            plain = Context(locale="de-AT", region="AT")
            engine.block("product.hp200.overview", plain)
            reader = Context(locale="en", reader_id="anna")
            engine.block("promo.hp200.cta", reader)
            block = engine.cached_block("product.hp200.overview", plain)
            assert block is not None
            issued = engine.block_feedback(block, plain, preview=False)
            assert issued is not None
            base = _median_us(lambda: engine.cached_block("product.hp200.overview", plain))
            armed = _median_us(lambda: engine.cached_block("promo.hp200.cta", reader))
            counted = _median_us(lambda: engine.feedback.exposed(issued.group))
            token = _median_us(lambda: engine.block_feedback(block, plain, preview=False))
    print(f"cached block (baseline)        {base:8.2f} µs  1.00")
    print(f"cached block, experiment arm   {armed:8.2f} µs  {armed / base:.2f}")
    print(f"count one exposure             {counted:8.2f} µs  {counted / base:.2f}")
    print(f"issue a token (once per answer){token:8.2f} µs  {token / base:.2f}")


if __name__ == "__main__":
    main()
