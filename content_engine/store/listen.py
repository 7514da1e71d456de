"""Writes committed by other processes, pushed to this one: PostgreSQL ``NOTIFY``/``LISTEN``.

In: a write's connection (to ``announce`` it), or the SQLAlchemy engine of a PostgreSQL database
(for its connection parameters) and a callback. Out: a ``ChangeListener`` whose daemon thread
calls the callback as soon as a write is announced on ``CHANGES_CHANNEL`` (at commit), and after
every connection made, first or again: notifications sent while nobody listened are lost, so
the caller must then assume that anything may have changed (a full resynchronisation).

One dedicated autocommit connection, outside the pool (a connection waiting for notifications
can run nothing else), named ``content-engine listener <pid>`` (``application_name``) so that
an operator can tell it apart in ``pg_stat_activity``. A lost connection (a restart,
``pg_terminate_backend``, the network) is opened again at once if it had been listening for a
while, else (and while attempts fail) with exponential backoff and jitter, 0.1 s doubling to
30 s, in tenacity's retry loop. TCP keepalives and a ``SELECT 1`` after a quiet spell notice a
connection dropped silently. Meanwhile the caller's polling sees the changes.

Payloads are not believed: any role that may connect to the database may ``NOTIFY`` on any
channel, so a notification only ever means "ask the database". One exception: a notification
naming this process's repository as its origin is skipped (that write has made the caches
stale already); a forged one skipped costs nothing, since a real write of another process
names that process's origin. Notifications that arrive together make one call, and calls are
at least ``MIN_GAP`` apart, so a flood costs no more than polling every ``MIN_GAP`` seconds
would.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections.abc import Callable
from random import random
from select import select as wait_for
from time import monotonic
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, func, select
from tenacity import RetryCallState, Retrying, retry_if_exception
from tenacity.stop import stop_base

from content_engine.store.faults import first_line, is_psycopg

if TYPE_CHECKING:
    import psycopg

__all__ = ["CHANGES_CHANNEL", "MIN_GAP", "ChangeListener", "announce", "new_origin"]

logger = logging.getLogger("content_engine.store")

# The channel every write is announced on and every server listens to. Channels are per
# database, so one fixed name serves every deployment: servers sharing a database hear each
# other, and no others.
CHANGES_CHANNEL = "content_engine_changes"

# Seconds between two calls of the callback at the least (a flood of notifications).
MIN_GAP = 0.01
# Seconds without a notification after which the connection is checked with a query.
QUIET = 15.0
# Backoff between failed connection attempts: the first soon (a database restarting is back
# in a moment), at most this long (a database away for a while is not hammered).
BACKOFF_INITIAL = 0.1
BACKOFF_MAX = 30.0
BACKOFF_JITTER = 0.5  # up to this much more: servers restarted together do not come in step
CONNECT_TIMEOUT = 5  # seconds, libpq's connect_timeout
# A connection lost after listening this long is opened again at once; sooner, with backoff.
HEALTHY = 10.0
# libpq keepalives: an idle connection whose peer vanished is given up in about 30 s.
_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 15, "keepalives_interval": 5}
_KEEPALIVES |= {"keepalives_count": 3, "tcp_user_timeout": 30_000}


def new_origin() -> str:
    """A random name for one repository's announcements (64 bits: never another's)."""
    return secrets.token_hex(8)


def announce(conn: Connection, what: str = "") -> None:
    """Tell every server listening on this PostgreSQL database that a write is under way.

    Inside the write's transaction: PostgreSQL delivers the notification at commit and drops it
    at rollback, so listeners never hear of a write that did not happen, nor before it can be
    read. The payload, ``<what> <origin>``, is for people watching (``what``: the new revision)
    and for the writer's own listener, which skips what its repository announced; other
    listeners read the revision themselves. A no-op on SQLite, whose servers poll.
    """
    if conn.dialect.name == "postgresql":
        origin = conn.get_execution_options().get("content_engine_origin", "")
        conn.execute(select(func.pg_notify(CHANGES_CHANNEL, f"{what} {origin}")))


class ChangeListener:
    """One process's ``LISTEN`` connection and the thread that waits on it.

    ``start()`` once, ``close()`` at shutdown (it returns when the thread has ended and the
    connection is closed). ``up`` says whether it listens right now.
    """

    def __init__(
        self, engine: Engine, on_change: Callable[[], None], *, origin: str | None = None
    ) -> None:
        _, params = engine.dialect.create_connect_args(engine.url)
        # The pool's own parameters (the URL's options win over the keepalives here).
        self._params: dict[str, Any] = {**_KEEPALIVES, **params}
        self._params |= {"connect_timeout": CONNECT_TIMEOUT, "autocommit": True}
        self._on_change = on_change
        # What this process's repository announces ends so. A forged payload naming it makes
        # only a notification be skipped that was no write at all: nothing real is missed.
        self._own = f" {origin}" if origin else None
        self._stop = threading.Event()
        self._wake: tuple[int, int] | None = None  # close() writes here to end a wait at once
        self._thread: threading.Thread | None = None
        self._last_call = -MIN_GAP
        self._healthy = False  # the last connection had been listening for HEALTHY s or more
        self._lost = False  # the last attempt ended a connection that had been listening
        self._failures = 0  # attempts in a row that did not stay connected long
        self._reported = False  # this outage was logged
        self.up = False
        self.connections = 0  # connections made so far, the first included

    @property
    def application_name(self) -> str:
        return f"content-engine listener {os.getpid()}"

    def start(self) -> None:
        if self._thread is not None or self._stop.is_set():
            return
        self._wake = os.pipe()
        self._thread = threading.Thread(
            target=self._run, name="content-engine listener", daemon=True
        )
        self._thread.start()

    def close(self, timeout: float = CONNECT_TIMEOUT + 5) -> None:
        """Stop listening: the thread ends (within ``timeout``) and closes its connection."""
        if self._stop.is_set():
            return
        self._stop.set()
        thread, wake = self._thread, self._wake
        if thread is None or wake is None:
            return
        os.write(wake[1], b"x")
        thread.join(timeout)
        if thread.is_alive():  # stuck connecting: a daemon, it goes with the process
            logger.warning("the change listener did not stop within %.0f s", timeout)
            return
        for fd in wake:
            os.close(fd)

    # --- the thread -------------------------------------------------------------------------

    def _run(self) -> None:
        Retrying(
            wait=self._backoff,
            stop=_Stopped(self._stop),
            sleep=self._sleep,
            retry=retry_if_exception(is_psycopg),
            before_sleep=self._report,
            retry_error_callback=lambda _state: None,  # stopped
        )(self._session)

    def _session(self) -> None:
        """Connect and listen until the connection fails (raises) or ``close()`` (returns)."""
        import psycopg

        if self._stop.is_set():
            return
        params = self._params | {"application_name": self.application_name}
        with psycopg.connect(**params) as connection:
            connection.execute(f"LISTEN {CHANGES_CHANNEL}")
            began = monotonic()
            if self._reported:
                logger.info("the change listener is listening again")
                self._reported = False
            self.connections += 1
            self.up = True
            try:
                self._changed()  # whatever was written while nobody listened
                self._listen(connection)
            finally:
                self.up = False
                self._lost = True
                self._healthy = monotonic() - began >= HEALTHY

    def _backoff(self, state: RetryCallState) -> float:
        """Seconds before the next attempt: none after a connection that had been listening a
        while, else 0.1 s doubling to 30 s (so a connection dropped as soon as it is made,
        e.g. by a pooler, is not hammered), plus jitter."""
        if self._healthy:
            self._healthy, self._failures = False, 0
            return 0.0
        self._failures += 1
        exponential: float = BACKOFF_INITIAL * 2 ** min(self._failures - 1, 16)
        return min(BACKOFF_MAX, exponential) + BACKOFF_JITTER * random()

    def _sleep(self, seconds: float) -> None:
        self._stop.wait(seconds)  # ``close()`` ends the backoff at once

    def _report(self, state: RetryCallState) -> None:
        """One warning per outage: the connection lost, or none to be had."""
        lost, self._lost = self._lost, False
        if self._reported or self._stop.is_set() or state.outcome is None:
            return
        exc = state.outcome.exception()
        reason = first_line(exc) if exc is not None else "no reason given"
        what = "lost its connection" if lost else "cannot listen"
        logger.warning("the change listener %s (%s); changes are polled meanwhile", what, reason)
        self._reported = True

    def _listen(self, connection: psycopg.Connection[Any]) -> None:
        """Wait for notifications until the connection fails (raises) or ``close()``."""
        assert self._wake is not None, "started"
        waiting = [connection.fileno(), self._wake[0]]
        while True:
            ready, _, _ = wait_for(waiting, [], [], QUIET)
            if self._stop.is_set():
                return
            if not ready:
                connection.execute("SELECT 1")  # fails if the connection is gone
                continue
            if self._drain(connection, waiting):
                self._changed()

    def _drain(self, connection: psycopg.Connection[Any], waiting: list[int]) -> bool:
        """Take every notification that has arrived, and what arrives until ``MIN_GAP`` after
        the last call; whether any was another's. A closed connection raises here."""
        heard = False
        until = self._last_call + MIN_GAP
        while True:
            own = self._own
            # A list, not ``any``: everything that has arrived is taken.
            found = [
                n for n in connection.notifies(timeout=0) if not own or not n.payload.endswith(own)
            ]
            heard = heard or bool(found)
            left = until - monotonic()
            if left <= 0 or self._stop.is_set():
                return heard and not self._stop.is_set()
            wait_for(waiting, [], [], left)

    def _changed(self) -> None:
        self._last_call = monotonic()
        try:
            self._on_change()
        except Exception:  # a bug in the callback must not stop the listening
            logger.exception("the change listener's callback failed")


class _Stopped(stop_base):
    """Stop retrying once the listener is being closed."""

    def __init__(self, event: threading.Event) -> None:
        self.event = event

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.event.is_set()
