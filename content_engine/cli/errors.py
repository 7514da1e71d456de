"""How a command fails: a domain error, OS error or database fault in, one line on stderr
and its exit code out.

Every command opens the engine through ``engine_for``, so what the engine raises ends here
rather than as a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer

from content_engine import ContentEngineError, Engine, Settings
from content_engine.engine import domain_error_of
from content_engine.files.userfiles import os_error


def fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {one_line(message)}", err=True)
    raise typer.Exit(code)


def warn(messages: list[str]) -> None:
    for message in messages:
        typer.echo(f"warning: {message}", err=True)


def one_line(text: str) -> str:
    return " ".join(text.split()) or "no message"


def domain_error(exc: BaseException) -> ContentEngineError | None:
    """The one map from what an engine call may raise to a line and an exit code: domain
    errors as they are, OS errors by ``os_error``, database faults by the engine's map."""
    if isinstance(exc, ContentEngineError):
        return exc
    if isinstance(exc, OSError):
        return os_error(exc)
    return domain_error_of(exc)


@contextmanager
def engine_for(db: str | None, sources: str | None = None) -> Iterator[Engine]:
    """Open the engine and turn every domain error, database fault and OS error met while
    using it into one line and its exit code (a bad ``sources`` file among them)."""
    try:
        with Engine(Settings.from_env(db_url=db, sources=sources)) as engine:
            yield engine
    except Exception as exc:
        error = domain_error(exc)
        if error is None:
            raise
        fail(error.message, error.exit_code)
