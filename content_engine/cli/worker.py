"""``worker``: render the tasks that ``batch --queue`` puts on a broker, on any host that shares
the database and the output folder.

In: the broker's URL, the database and the data sources. Out: documents in each campaign's
output folder until the worker is stopped (Ctrl-C or SIGTERM finish the task at hand); exit 1
with one line when the broker cannot be reached.
"""

from __future__ import annotations

from typing import Annotated

import typer

from content_engine import ContentEngineError, Settings
from content_engine.cli.errors import engine_for, fail
from content_engine.cli.options import DbOption, SourcesOption
from content_engine.engine.campaign import (
    RECYCLE_MIB,
    RECYCLE_TASKS,
    VISIBILITY_SECONDS,
    run_worker,
)


def worker(
    queue: Annotated[
        str, typer.Option("--queue", help="Broker URL: redis://host:6379/0 or amqp://host//.")
    ],
    recycle: Annotated[
        int,
        typer.Option(
            "--recycle",
            help="Tasks a render process does before a fresh one replaces it (WeasyPrint keeps "
            "memory).",
            min=1,
            max=1_000_000,
        ),
    ] = RECYCLE_TASKS,
    max_memory: Annotated[
        int,
        typer.Option(
            "--max-memory",
            help="MiB of memory after which a render process is replaced, checked after each task.",
            min=64,
            max=1_048_576,
        ),
    ] = RECYCLE_MIB,
    visibility_timeout: Annotated[
        int,
        typer.Option(
            "--visibility-timeout",
            help="Redis only: seconds after which a task taken and not acknowledged (its worker "
            "was killed) is handed to another worker; must outlast the slowest render.",
            min=10,
            max=7 * 24 * 3600,
        ),
    ] = VISIBILITY_SECONDS,
    db: DbOption = None,
    sources: SourcesOption = None,
) -> None:
    """Render the tasks of `batch --queue` campaigns, one at a time, until stopped."""
    settings = Settings.from_env(db_url=db, sources=sources)
    with engine_for(db, sources):
        pass  # the database and the sources file are checked before any task is taken
    try:
        code = run_worker(
            settings,
            queue,
            recycle=recycle,
            max_memory_mib=max_memory,
            visibility_timeout=visibility_timeout,
        )
    except ContentEngineError as exc:
        fail(exc.message, exc.exit_code)
    raise typer.Exit(code)
