"""Log lines that say which request they belong to, as text or as one JSON object per line.

In: the id of the request being served, which the web layer (``web.observe``) sets in
``REQUEST_ID`` (a context variable, so it follows the request into the thread pool), and log
records from anywhere in the process. Out: every record with a ``request_id`` attribute
(``RequestIdFilter``: ``None`` outside a request), written by ``TextFormatter`` or
``JsonFormatter``; and ``log_config``, the logging set-up ``serve`` hands uvicorn, which
applies it in every worker process.

Text a client sent (a path, a method) reaches a log line only escaped: ``JsonFormatter``
through ``json.dumps``, ``TextFormatter`` by writing control characters as ``\\xNN``, so no
request can forge a line of its own or hide one (CR, LF, NUL, terminal escapes).
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "ACCESS_LOGGER",
    "FORMATS",
    "REQUEST_ID",
    "JsonFormatter",
    "RequestIdFilter",
    "TextFormatter",
    "log_config",
    "printable",
]

REQUEST_ID: ContextVar[str | None] = ContextVar("content_engine_request_id", default=None)
ACCESS_LOGGER = "content_engine.access"
FORMATS = ("text", "json")
# What an access line carries beyond the message (``observe`` passes them as ``extra``).
ACCESS_FIELDS = ("method", "path", "route", "status", "duration_ms")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MAX_TEXT = 8000  # characters of one message in a text line; the middle of a longer one is cut


def printable(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` on one line: control characters as ``\\xNN``, at most ``limit`` characters
    of it. A longer one loses its middle, not its end: a traceback's last line names the error."""
    if len(text) > limit:
        text = f"{text[: limit // 2]} ... {text[-(limit // 2) :]}"
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class RequestIdFilter(logging.Filter):
    """On a handler: gives every record the id of the request it was logged in (or ``None``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        return True


class TextFormatter(logging.Formatter):
    """``2026-12-01T19:56:29.123Z INFO content_engine.web [req-id] message``, one line."""

    def format(self, record: logging.LogRecord) -> str:
        line = (
            f"{_time(record)} {record.levelname} {record.name} "
            f"[{getattr(record, 'request_id', None) or '-'}] {printable(record.getMessage())}"
        )
        if record.exc_info:
            # A traceback is the server's own text; each of its lines still says whose it is.
            lines = "".join(traceback.format_exception(*record.exc_info)).rstrip().splitlines()
            line += "".join(f"\n    {printable(text)}" for text in lines)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request_id, and for access
    lines method, path, route, status and duration_ms; ``exception`` holds a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for name in ACCESS_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["exception"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(entry, ensure_ascii=True, default=str)


def _time(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def log_config(log_format: str, level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the server: uvicorn's loggers and ours (and any
    library's, through the root) on one stderr handler in ``log_format``."""
    if log_format not in FORMATS:
        raise ValueError(f"log format {log_format!r}: use {' or '.join(FORMATS)}")
    formatter = JsonFormatter if log_format == "json" else TextFormatter
    handler = {
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
        "formatter": "line",
        "filters": ["request_id"],
    }
    own = {"handlers": ["stderr"], "level": level, "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "formatters": {"line": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {"stderr": handler},
        "loggers": {
            "uvicorn": own,
            "uvicorn.error": {"level": level},  # propagates to "uvicorn"
            "uvicorn.access": own,
            "content_engine": own,
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
    }
