"""The agents' follow-up list, as the console shows it.

In: the engine's ``FollowUp`` answers (detractors and low CSAT with a comment, newest first;
``core.feedbackstats.follow_up_below`` says which). Out: the rows of the console's "To follow
up" table, the comments cut to a length a page can hold (the store keeps them whole).
"""

from __future__ import annotations

from collections.abc import Iterable

from content_engine.core.feedbackstats import FollowUp

# The console shows this many, newest first; older ones wait until these are handled.
SHOWN = 50
# A comment longer than this is cut on the page.
COMMENT_CHARS = 600


def cut(comment: str) -> str:
    if len(comment) <= COMMENT_CHARS:
        return comment
    return comment[:COMMENT_CHARS].rstrip() + "…"


def newest(items: Iterable[FollowUp]) -> list[FollowUp]:
    """The ``SHOWN`` newest, newest first."""
    return sorted(items, key=lambda f: f.answered, reverse=True)[:SHOWN]
