"""The bounds on one body's render and on one request's: the figures the sandbox enforces.

In: the operator's figures (settings), or the defaults. Out: a frozen ``Limits`` that the
sandbox and the pools of checking processes read, and a fresh request ``Budget`` from it.
Apart from the sandbox so that what the bounds are is one short read, not a Jinja environment.
"""

from __future__ import annotations

from dataclasses import dataclass

from content_engine.core.budget import Budget


@dataclass(frozen=True)
class Limits:
    """Bounds on one body's render, and on one request's; a body over them fails as a sandbox
    violation (an error of that block, CONTRACT 4)."""

    max_output_chars: int = 1_000_000
    max_seconds: float = 2.0
    # The largest string or list one operation may build (characters or items); no larger
    # value can be printed anyway, the output being smaller.
    max_sequence: int = 1_000_000
    # All one render may build: template text, printed values and intermediate strings.
    max_work_chars: int = 10_000_000
    max_exponent: int = 1_000
    max_int_bits: int = 100_000  # a product or power of integers: 30,000 digits
    # One request (a publication, a POST /v1/blocks) spends this across all its blocks: 500
    # slots of a slow body stop after this many seconds, not after 500 times the body's limit.
    max_request_seconds: float = 10.0
    max_request_chars: int = 20_000_000

    def request_budget(self) -> Budget:
        """A fresh budget for one request; each render in it draws on it."""
        return Budget(
            "request",
            seconds=self.max_request_seconds,
            chars=self.max_request_chars,
            largest=self.max_sequence,
        )
