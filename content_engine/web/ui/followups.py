"""The agents' follow-up list: unhappy answers with a comment, and what they were about.

In: stored answers that ``core.feedbackstats.needs_follow_up`` selects (detractors and low
CSAT with a comment), newest first. Out: rows for the console's "To follow up" table, each
naming the document (a render's receipt) or the block (component, variant, version) it was
about, with the comment cut to a length a page can hold.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

# The console shows this many, newest first; older ones wait until these are handled.
SHOWN = 50
# A comment longer than this is cut on the page (the store keeps it whole).
COMMENT_CHARS = 600


@dataclass(frozen=True)
class FollowUp:
    answered: datetime
    metric: str
    score: int
    comment: str
    receipt: str | None = None
    component: str | None = None
    variant: str | None = None
    version: int | None = None
    locale: str | None = None

    @property
    def about(self) -> str:
        """What the reader answered about: a document's receipt, else the block's variant."""
        if self.receipt:
            return self.receipt
        block = f"{self.component or '?'}/{self.variant or '?'}"
        return f"{block} v{self.version}" if self.version is not None else block

    @property
    def shown_comment(self) -> str:
        if len(self.comment) <= COMMENT_CHARS:
            return self.comment
        return self.comment[:COMMENT_CHARS].rstrip() + "…"


def newest(items: Iterable[FollowUp]) -> list[FollowUp]:
    """The ``SHOWN`` newest, newest first."""
    return sorted(items, key=lambda f: f.answered, reverse=True)[:SHOWN]
