"""Writes committed by other processes, pushed to this one: PostgreSQL ``NOTIFY``/``LISTEN``.

In: a write's connection (to ``announce`` it), or the SQLAlchemy engine of a PostgreSQL database
(for its connection parameters) and a callback. Out: a ``ChangeListener`` whose daemon thread
calls the callback as soon as a write is announced on ``CHANGES_CHANNEL`` (at commit), and after
every connection made, first or again: notifications sent while nobody listened are lost, so
the caller must then assume that anything may have changed (a full resynchronisation).

One dedicated autocommit connection, outside the pool (a connection waiting for notifications
can run nothing else), named ``content-engine listener <pid>`` (``application_name``) so that
an operator can tell it apart in ``pg_stat_activity``. A lost connection (a restart,
``pg_terminate_backend``, the network) is opened again at once, then with exponential backoff
and jitter (tenacity): 0.1 s, doubling, at most 30 s. TCP keepalives and a ``SELECT 1`` after
a quiet spell notice one dropped silently. Meanwhile the caller's polling sees the changes.

Payloads are not read: any role that may connect to the database may ``NOTIFY`` on any
channel, so a notification only ever means "ask the database". Notifications that arrive
together make one call, and calls are at least ``MIN_GAP`` apart, so a flood costs no more
than polling every ``MIN_GAP`` seconds would.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from select import select as wait_for
from time import monotonic
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, func, select
from tenacity import RetryCallState, Retrying, retry_if_exception, wait_exponential_jitter
from tenacity.stop import stop_base

from content_engine.store.faults import first_line, is_psycopg

if TYPE_CHECKING:
    import psycopg

__all__ = ["CHANGES_CHANNEL", "MIN_GAP", "ChangeListener", "announce"]

logger = logging.getLogger("content_engine.store")

# The channel every write is announced on and every server listens to. Channels are per
# database, so one fixed name serves every deployment: servers sharing a database hear each
# other, and no others.
CHANGES_CHANNEL = "content_engine_changes"

# Seconds between two calls of the callback at the least (a flood of notifications).
MIN_GAP = 0.01
# Seconds without a notification after which the connection is checked with a query.
QUIET = 15.0
# Backoff between connection attempts: the first soon (a terminated backend comes back at
# once), at most this long (a database away for a while is not hammered).
BACKOFF_INITIAL = 0.1
BACKOFF_MAX = 30.0
BACKOFF_JITTER = 0.5  # up to this much more: servers restarted together do not come in step
CONNECT_TIMEOUT = 5  # seconds, libpq's connect_timeout
# libpq keepalives: an idle connection whose peer vanished is given up in about 30 s.
_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 15, "keepalives_interval": 5}
_KEEPALIVES |= {"keepalives_count": 3, "tcp_user_timeout": 30_000}


def announce(conn: Connection, payload: str = "") -> None:
    """Tell every server listening on this PostgreSQL database that a write is under way.

    Inside the write's transaction: PostgreSQL delivers the notification at commit and drops it
    at rollback, so listeners never hear of a write that did not happen, nor before it can be
    read. The payload is for people watching (the new revision); listeners ignore it and read
    the revision themselves. A no-op on SQLite, whose servers poll.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_notify(CHANGES_CHANNEL, payload)))


class ChangeListener:
    """One process's ``LISTEN`` connection and the thread that waits on it.

    ``start()`` once, ``close()`` at shutdown (it returns when the thread has ended and the
    connection is closed). ``up`` says whether it listens right now.
    """

    def __init__(self, engine: Engine, on_change: Callable[[], None]) -> None:
        _, params = engine.dialect.create_connect_args(engine.url)
        self._params: dict[str, Any] = {**params, **_KEEPALIVES}
        self._params |= {"connect_timeout": CONNECT_TIMEOUT, "autocommit": True}
        self._on_change = on_change
        self._stop = threading.Event()
        self._wake: tuple[int, int] | None = None  # close() writes here to end a wait at once
        self._thread: threading.Thread | None = None
        self._last_call = -MIN_GAP
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
        while not self._stop.is_set():
            connection = self._connect()
            if connection is None:
                return  # stopped while waiting to connect again
            try:
                with connection:
                    self._listen(connection)
            except Exception as exc:
                if not is_psycopg(exc):
                    raise  # a bug: the thread's death is reported; polling goes on
                if not self._stop.is_set():
                    logger.warning(
                        "the change listener lost its connection (%s); "
                        "changes are polled until it is back",
                        first_line(exc),
                    )
            finally:
                self.up = False

    def _connect(self) -> psycopg.Connection[Any] | None:
        """A listening connection, tried again with backoff; ``None`` if stopped meanwhile."""
        retrying = Retrying(
            wait=wait_exponential_jitter(
                multiplier=BACKOFF_INITIAL, max=BACKOFF_MAX, jitter=BACKOFF_JITTER
            ),
            stop=_Stopped(self._stop),
            sleep=self._sleep,
            retry=retry_if_exception(is_psycopg),
            before_sleep=self._report_failure,
            retry_error_callback=lambda _state: None,
        )
        connection: psycopg.Connection[Any] | None = retrying(self._open)
        return connection

    def _open(self) -> psycopg.Connection[Any] | None:
        import psycopg

        if self._stop.is_set():
            return None
        params = self._params | {"application_name": self.application_name}
        connection = psycopg.connect(**params)
        try:
            connection.execute(f"LISTEN {CHANGES_CHANNEL}")
        except BaseException:
            connection.close()
            raise
        if self.connections:
            logger.info("the change listener is listening again")
        self.connections += 1
        self.up = True
        self._changed()  # whatever was written while nobody listened
        return connection

    def _sleep(self, seconds: float) -> None:
        self._stop.wait(seconds)  # ``close()`` ends the backoff at once

    def _report_failure(self, state: RetryCallState) -> None:
        if state.attempt_number == 1 and state.outcome is not None:
            exc = state.outcome.exception()
            logger.warning(
                "the change listener cannot listen (%s); changes are polled meanwhile",
                first_line(exc) if exc is not None else "no reason given",
            )

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
            # Everything that has arrived, at once; a closed connection raises here.
            if sum(1 for _ in connection.notifies(timeout=0)):
                self._changed()

    def _changed(self) -> None:
        wait = self._last_call + MIN_GAP - monotonic()
        if wait > 0:
            self._stop.wait(wait)
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
