"""Writes made by other processes, pushed into a long-lived engine (a server).

In: the repository, the engine's freshness and its current library. Out: ``Listening``, which
on PostgreSQL keeps the repository's ``ChangeListener`` running: each notification (and each
reconnection, after which anything may have changed) makes every fresh stamp stale at once and
reloads what changed, in the listener's thread, so the next request is served the new library
from memory. Polling every ``refresh`` seconds stays in force all the same: it is the bound when
the listener is down or a notification is lost, and the only way on SQLite. A listener's
trouble never reaches a request: it has a thread of its own and logs what it meets.
"""

from __future__ import annotations

import logging

from content_engine.core.errors import ContentEngineError
from content_engine.engine.freshness import Freshness
from content_engine.engine.state import CurrentLibrary
from content_engine.store import Repository
from content_engine.store.listen import ChangeListener

__all__ = ["Listening"]

logger = logging.getLogger("content_engine.engine")


class Listening:
    """One engine's listener: started by ``start()`` (a server), stopped by ``close()``."""

    def __init__(
        self, repository: Repository, freshness: Freshness, current: CurrentLibrary
    ) -> None:
        self.repository = repository
        self.freshness = freshness
        self.current = current
        self.listener: ChangeListener | None = None
        self._failing = False

    @property
    def up(self) -> bool:
        """Whether writes elsewhere are being pushed here right now."""
        return self.listener is not None and self.listener.up

    def start(self) -> bool:
        """Listen, if the database can tell (PostgreSQL) and the engine caches at all (a
        ``refresh`` of 0 asks the database on every read anyway); whether it listens."""
        if self.listener is not None:
            return True
        if self.freshness.interval <= 0:
            return False
        self.listener = self.repository.listener(self._changed)
        if self.listener is None:
            return False
        self.listener.start()
        return True

    def close(self) -> None:
        """Stop listening (the thread ends, its connection closes); ``start()`` may follow."""
        listener, self.listener = self.listener, None
        if listener is not None:
            listener.close()

    def _changed(self) -> None:
        self.freshness.changed()
        try:
            self.current.refresh_loaded()
        except ContentEngineError as exc:  # the database is away: requests will say so
            if not self._failing:
                logger.warning("cannot reload the library after a change elsewhere: %s", exc)
            self._failing = True
        else:
            self._failing = False
