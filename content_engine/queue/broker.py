"""The task queue campaigns run on: a Celery app on a Redis or RabbitMQ broker.

In: the broker's URL. Out: a Celery app set up for campaigns, or ``QueueUnavailable`` when
the broker cannot be reached. Nothing here knows what a task does; the engine registers it.

Why Celery rather than Dramatiq: what a campaign needs is one setting each in Celery --
late acknowledgement (``task_acks_late``: a task leaves the queue only once it is done), the
task of a worker that died put back (``task_reject_on_worker_lost``), one task held at a time
(``worker_prefetch_multiplier=1``: a killed worker takes one task down with it, not a batch)
and workers recycled every N tasks (``worker_max_tasks_per_child``: WeasyPrint keeps memory) --
and its results are read back in bulk on either broker (``ResultSet.iter_native``), which is
how ``batch`` shows progress. Dramatiq retries a failing message 20 times by default (a broken
document should be reported once) and keeps results only through a middleware.

Messages are JSON only: a pickled message would run code in every worker.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import sys
from collections.abc import Callable, Iterator
from typing import Any

from celery import Celery
from celery.result import AsyncResult, ResultSet
from celery.signals import worker_process_init
from kombu.utils.url import maybe_sanitize_url

from content_engine.core.errors import InputError, QueueUnavailable

__all__ = [
    "QUEUE",
    "SCHEMES",
    "TASK",
    "VISIBILITY_TIMEOUT",
    "check_reachable",
    "follow",
    "make_app",
    "send",
    "serve",
    "shown",
]

SCHEMES = ("redis", "rediss", "amqp", "amqps")
QUEUE = "content-engine.campaigns"
TASK = "content_engine.render_context"
# On Redis a task fetched but not acknowledged goes back to the queue after this long (a worker
# that was killed cannot say so); it must outlast the slowest render, or a task still rendering
# is handed to a second worker (which finds its output there once the first is done, or renders
# it too). RabbitMQ needs none: it puts a task back as soon as the worker's connection drops.
# ``worker --visibility-timeout`` sets it; the workers look for overdue tasks every 10 s (every
# fifth of the timeout when shorter) and put them back.
VISIBILITY_TIMEOUT = 300
RESULTS_KEPT = 7 * 24 * 3600
CONNECT_TIMEOUT = 5.0


def shown(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return str(maybe_sanitize_url(url))


def make_app(url: str, *, visibility_timeout: int = VISIBILITY_TIMEOUT) -> Celery:
    """A Celery app on ``url``; results go to the same Redis, or back over RabbitMQ (``rpc``)."""
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme not in SCHEMES:
        raise InputError(
            f"queue URL {shown(url)!r} must start with {', '.join(s + '://' for s in SCHEMES)}"
        )
    app = Celery(
        "content-engine",
        broker=url,
        backend=url if scheme.startswith("redis") else "rpc://",
        set_as_current=False,
    )
    settings: dict[str, Any] = {
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_default_queue": QUEUE,
        "broker_transport_options": {
            "visibility_timeout": visibility_timeout,
            # kombu looks for overdue tasks every 10 s but scans only every 10th time: a
            # killed worker's task would wait up to 100 s past its timeout.
            "unacked_restore_interval": max(1, min(10, visibility_timeout // 5)),
            "unacked_restore_throttle": 1,
        },
        "result_backend_transport_options": {"visibility_timeout": visibility_timeout},
        "result_expires": RESULTS_KEPT,
        "broker_connection_timeout": CONNECT_TIMEOUT,
        "broker_connection_retry_on_startup": False,
        "redis_socket_connect_timeout": CONNECT_TIMEOUT,
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
        "task_send_sent_event": False,
        "enable_utc": True,
    }
    app.conf.update(settings)
    return app


def check_reachable(app: Celery) -> None:
    """Connect once to the broker (and Redis results): ``QueueUnavailable`` if that fails, so a
    command says so in one line instead of retrying for ever."""
    url = str(app.conf.broker_url)
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=0, timeout=CONNECT_TIMEOUT)
            if url.startswith("redis"):
                conn.default_channel.client.ping()
    except Exception as exc:  # kombu, py-amqp and redis-py each raise their own
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise QueueUnavailable(f"cannot reach the queue at {shown(url)}: {reason}") from None


def send(app: Celery, tasks: list[tuple[str, dict[str, Any]]]) -> ResultSet:
    """Put each ``(task id, keyword arguments)`` on the queue, over one connection."""
    results: list[AsyncResult] = []
    with _lost(app), app.producer_or_acquire() as producer:
        for task_id, kwargs in tasks:
            results.append(app.send_task(TASK, kwargs=kwargs, task_id=task_id, producer=producer))
    return ResultSet(results, app=app)


def follow(pending: ResultSet) -> Iterator[tuple[str, str, Any]]:
    """``(task id, state, result)`` of each task as it finishes, in the order they finish: the
    result store is asked for all of them at once (Redis pub/sub, or RabbitMQ's reply queue)."""
    if not pending.results:
        return
    try:
        with _lost(pending.app):
            for task_id, meta in pending.iter_native(timeout=None, interval=0.2):
                yield str(task_id), str(meta.get("status")), meta.get("result")
    finally:
        release(pending)


def release(pending: ResultSet) -> None:
    """Stop waiting for these results, quietly if the result store is gone.

    A Celery ``AsyncResult`` unsubscribes from Redis when it is garbage-collected: after the
    broker was lost that raises inside the collector, in whatever code happens to run then.
    Released here (the store's subscription dropped while it may still answer), the collector
    has nothing left to do."""
    for result in pending.results:
        with contextlib.suppress(Exception):  # the store may be gone: nothing to unsubscribe
            result.backend.remove_pending_result(result)
        result.backend = None


@contextlib.contextmanager
def _lost(app: Celery) -> Iterator[None]:
    """The broker gone mid-campaign: one ``QueueUnavailable`` rather than a client's traceback.
    The tasks already queued are still done by the workers; a new run renders what is left."""
    try:
        yield
    except (KeyboardInterrupt, QueueUnavailable):
        raise
    except Exception as exc:  # kombu, py-amqp and redis-py each raise their own
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise QueueUnavailable(
            f"lost the queue at {shown(str(app.conf.broker_url))}: {reason}; run the campaign "
            "again to render what is missing"
        ) from None


def _die_with_parent() -> None:
    """Linux: end this process when its parent dies. A worker killed with SIGKILL leaves its
    render child running otherwise, and the broker hands the same task to another worker while
    the orphan still writes: the line would be rendered twice."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def serve(
    app: Celery,
    task: Callable[..., Any],
    *,
    on_child_start: Callable[[], None],
    recycle: int,
    max_memory_mib: int,
) -> int:
    """Run a worker until it is stopped: one child process renders one task at a time and is
    replaced after ``recycle`` tasks or once its memory passes ``max_memory_mib`` (checked after
    each task); ``on_child_start`` runs in each new child. Returns the exit code.

    A replacement pauses the worker for 1-5 s (Celery's pool lets the old process linger a
    second and looks for exited ones every 5 s), so recycling by memory, which only a heavy
    document triggers, costs less than recycling often by count."""
    app.task(name=TASK, acks_late=True, reject_on_worker_lost=True)(task)

    def started(**_: Any) -> None:
        _die_with_parent()
        on_child_start()

    worker_process_init.connect(started, weak=False)
    worker = app.Worker(
        hostname=f"content-engine-{os.getpid()}@{socket.gethostname()}",
        pool_cls="prefork",
        concurrency=1,
        max_tasks_per_child=recycle,
        max_memory_per_child=max_memory_mib * 1024,  # Celery counts KiB
        prefetch_multiplier=1,
        queues=[QUEUE],
        without_gossip=True,
        without_mingle=True,
        without_heartbeat=True,
        loglevel="WARNING",
        quiet=True,
    )
    worker.start()
    return int(worker.exitcode or 0)
