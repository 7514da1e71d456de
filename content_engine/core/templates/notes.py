"""Warnings noted during one render: an undefined name, a format that fell back.

The sandbox opens a sink per render (``collecting``); filters and undefined values add to it
with ``note_warning``. A module of its own so that filters need not import the sandbox.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_warnings: ContextVar[list[str] | None] = ContextVar("ce_render_warnings", default=None)


def note_warning(message: str) -> None:
    """Add a warning to the render in progress, once; outside a render it is dropped."""
    sink = _warnings.get()
    if sink is not None and message not in sink:
        sink.append(message)


@contextmanager
def collecting(sink: list[str]) -> Iterator[list[str]]:
    """Collect the warnings of the render run inside the block into ``sink``."""
    token = _warnings.set(sink)
    try:
        yield sink
    finally:
        _warnings.reset(token)
