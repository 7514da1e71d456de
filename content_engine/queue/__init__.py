"""The task queue campaigns run on (``broker``): a Celery app on Redis or RabbitMQ."""

from __future__ import annotations

from content_engine.queue.broker import (
    QUEUE,
    SCHEMES,
    TASK,
    VISIBILITY_TIMEOUT,
    check_reachable,
    follow,
    make_app,
    release,
    send,
    serve,
    shown,
)

__all__ = [
    "QUEUE",
    "SCHEMES",
    "TASK",
    "VISIBILITY_TIMEOUT",
    "check_reachable",
    "follow",
    "make_app",
    "release",
    "send",
    "serve",
    "shown",
]
