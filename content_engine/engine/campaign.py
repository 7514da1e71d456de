"""Campaigns on a task queue: a ``batch``'s lines as tasks on a broker, rendered by workers on
any host that shares the database and the output folder.

``run_campaign`` (``batch --queue``) reads the lines as the embedded batch does, counts the
lines whose output is already there as done (a campaign run again renders only what is
missing), puts one task per other line on the queue and follows their results until every one
is in: progress, the failures and the exit code come from those results. One task per line,
not per chunk: a task is what the queue hands out again when a worker dies, so a chunk would
be rendered again whole; the price is that a line's lookups are asked for that line alone.

``run_worker`` (``worker``) renders tasks with its own engine. A message is not trusted (who
can write to the broker can enqueue): its fields are checked, its output is one safe file name
inside a folder that holds the marker of that very campaign, written by ``batch``, so a
message cannot make a worker write anywhere else. An output already there is not rendered
again, so a task delivered twice (a worker killed after writing, before acknowledging) is
rendered once.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from content_engine import queue
from content_engine.core.errors import ContentEngineError, InputError
from content_engine.core.models import parse_context
from content_engine.core.storable import check as check_storable
from content_engine.engine import batch
from content_engine.engine.batch import (
    _SAFE_ID,
    EXTENSIONS,
    BatchReport,
    Failure,
    Job,
    LineWarning,
    collect_jobs,
    output_name,
)
from content_engine.files.userfiles import MAX_CONTEXT_BYTES, read_regular
from content_engine.settings import Settings

__all__ = [
    "MARKER",
    "RECYCLE_MIB",
    "RECYCLE_TASKS",
    "VISIBILITY_SECONDS",
    "TaskMessage",
    "render_task",
    "run_campaign",
    "run_worker",
]

# In the output folder: the id of the campaign writing into it. A worker writes only into a
# folder whose marker names the task's campaign.
MARKER = ".campaign"
_CAMPAIGN_ID = r"^[0-9a-f]{32}$"


class TaskMessage(BaseModel):
    """What one task says; anything else in a message is refused."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    campaign: str = Field(pattern=_CAMPAIGN_ID)
    out_dir: str = Field(min_length=1, max_length=4096)
    output: str = Field(min_length=1, max_length=120)
    publication: str = Field(min_length=1, max_length=200)
    line: int = Field(ge=1, le=10**9)
    context: dict[str, Any]
    format: Literal["pdf", "pdf-a", "html", "json", "fragment"]
    strict: bool = False


def _outcome(
    line: int, code: str | None, message: str, warnings: tuple[str, ...] = (), *, kept: bool = False
) -> dict[str, Any]:
    return {
        "line": line,
        "code": code,
        "message": message,
        "warnings": list(warnings),
        "kept": kept,
    }


# --- batch side ----------------------------------------------------------------------------


def run_campaign(
    publication: str,
    lines: Iterator[str],
    *,
    fmt: str,
    out_dir: Path,
    queue_url: str,
    strict: bool = False,
    on_progress: Callable[[int, int], None] = lambda done, total: None,
) -> BatchReport:
    """Put a task per missing output on the queue and wait for all; report as ``run_batch``."""
    if fmt not in EXTENSIONS:
        raise InputError(f"unknown format {fmt!r}: use one of {', '.join(EXTENSIONS)}")
    app = queue.make_app(queue_url)
    queue.check_reachable(app)
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir.resolve()  # workers on other hosts see the shared folder at this path
    campaign = uuid.uuid4().hex
    _write_marker(out, campaign)
    report = BatchReport()
    jobs = collect_jobs(lines, report)
    tasks: list[tuple[str, dict[str, Any]]] = []
    for job in jobs:
        name = output_name(job.name, fmt)
        if (out / name).exists():
            report.kept += 1
            continue
        message = TaskMessage(
            campaign=campaign,
            out_dir=str(out),
            output=name,
            publication=publication,
            line=job.line,
            context=job.context.model_dump(mode="json"),
            format=fmt,  # type: ignore[arg-type]  # checked against EXTENSIONS above
            strict=strict,
        )
        tasks.append((f"{campaign}-{job.line}", message.model_dump()))
    total = len(jobs)
    done = report.kept
    on_progress(done, total)
    line_of = {task_id: kwargs["line"] for task_id, kwargs in tasks}
    for task_id, state, result in queue.follow(queue.send(app, tasks)):
        _record(report, line_of[task_id], state, result)
        done += 1
        on_progress(done, total)
    report.failures.sort(key=lambda f: f.line)
    report.warnings.sort(key=lambda w: w.line)
    report.written.sort()
    return report


def _write_marker(out: Path, campaign: str) -> None:
    tmp = out / f"{MARKER}.{campaign}.part"
    tmp.write_text(campaign + "\n", encoding="utf-8")
    os.replace(tmp, out / MARKER)


def _record(report: BatchReport, line: int, state: str, result: Any) -> None:
    """One task's result into the report; a result of the wrong shape is that line's failure."""
    if state != "SUCCESS" or not isinstance(result, dict):
        shown = result.get("exc_message") if isinstance(result, dict) else result
        report.failures.append(Failure(line, "render_failed", f"task {state}: {shown}"))
        return
    code, message = result.get("code"), str(result.get("message"))
    if code is not None:
        report.failures.append(Failure(line, str(code), message))
    else:
        # An output its worker found there (``kept``) was written too, in this campaign: ``batch``
        # queues only outputs not there, so a delivery of the same task wrote it and died
        # before acknowledging it.
        report.written.append(Path(message))
        report.warnings += [LineWarning(line, str(w)) for w in result.get("warnings") or []]


# --- worker side ---------------------------------------------------------------------------

_worker_settings: Settings | None = None


# A render process is replaced after this many tasks or once it holds this much memory.
RECYCLE_TASKS = 1000
RECYCLE_MIB = 1024
# On Redis, a task taken and not acknowledged goes to another worker after this long.
VISIBILITY_SECONDS = queue.VISIBILITY_TIMEOUT


def run_worker(
    settings: Settings,
    queue_url: str,
    *,
    recycle: int = RECYCLE_TASKS,
    max_memory_mib: int = RECYCLE_MIB,
    visibility_timeout: int = VISIBILITY_SECONDS,
) -> int:
    """Render the queue's tasks until stopped; ``QueueUnavailable`` if the broker is not there.
    ``visibility_timeout`` (Redis): see ``queue.make_app``."""
    global _worker_settings
    app = queue.make_app(queue_url, visibility_timeout=visibility_timeout)
    queue.check_reachable(app)
    _worker_settings = settings
    return queue.serve(
        app,
        render_task,
        on_child_start=_start_child,
        recycle=recycle,
        max_memory_mib=max_memory_mib,
    )


def _start_child() -> None:
    if _worker_settings is None:  # pragma: no cover - serve() is only reached via run_worker
        raise RuntimeError("worker settings missing")
    batch._start_worker(_worker_settings)


def render_task(*args: Any, **payload: Any) -> dict[str, Any]:
    """One task: check the message, render its line unless its output is there; never raises
    (what went wrong is the line's outcome, reported by ``batch``)."""
    raw_line = payload.get("line")
    line = raw_line if isinstance(raw_line, int) and not isinstance(raw_line, bool) else 0
    try:
        if args:
            raise InputError("a task takes keyword arguments only")
        try:
            task = TaskMessage.model_validate(payload)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "message"
            raise InputError(f"bad task: {where}: {first['msg']}") from None
        target = checked_target(task)
        if target.exists():
            return _outcome(task.line, None, str(target), kept=True)
        context = _checked_context(task.context)
    except ContentEngineError as exc:
        return _outcome(line, "bad_task" if exc.code == "bad_input" else exc.code, exc.message)
    try:
        job = Job(task.line, Path(task.output).stem, context)
        done, code, message, warnings = batch._render(
            task.publication, task.format, job, str(target), task.strict
        )
    except OSError as exc:  # the shared folder full, gone or read-only
        return _outcome(task.line, "write_failed", f"cannot write {task.output}: {exc.strerror}")
    return _outcome(done, code, message, tuple(warnings))


def checked_target(task: TaskMessage) -> Path:
    """Where the task's output goes, or ``InputError``: one safe file name with the format's
    extension, inside an absolute folder whose marker names the task's campaign."""
    out = Path(task.out_dir)
    name = PurePosixPath(task.output)
    extension = "." + EXTENSIONS[task.format]
    if not out.is_absolute():
        raise InputError(f"bad task: out_dir {task.out_dir!r} is not an absolute path")
    if (
        name.is_absolute()
        or len(name.parts) != 1
        or name.suffix != extension
        or not _SAFE_ID.fullmatch(name.stem)
    ):
        raise InputError(f"bad task: output {task.output!r} is not a safe file name")
    try:
        marker = read_regular(out / MARKER, limit=64, what="campaign marker")
    except (OSError, ValueError):  # ValueError: a NUL in the path
        marker = b""
    except ContentEngineError as exc:
        raise InputError(f"bad task: {exc.message}") from None
    if marker.decode("ascii", "replace").strip() != task.campaign:
        raise InputError(
            f"bad task: {task.out_dir} is not the folder of campaign {task.campaign}"
            " (another run of the campaign started since, or the message is forged)"
        )
    return out / name.name


def _checked_context(data: dict[str, Any]) -> Any:
    if len(json.dumps(data, ensure_ascii=False, default=str)) > MAX_CONTEXT_BYTES:
        raise InputError(f"bad task: the context is over {MAX_CONTEXT_BYTES} bytes")
    check_storable(data)
    return parse_context(data)
