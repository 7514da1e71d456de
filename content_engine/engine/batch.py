"""Batch rendering: one publication for many readers, one output file per context line.

In: JSON lines, each a context (or ``{"id": name, "context": {...}}``). Out: files in a folder,
named by the line's id or number, and a report of the lines that failed; a bad line never stops
the others. Work is spread over worker processes, each with its own engine (WeasyPrint is not
thread-safe, and a process keeps its fonts and stylesheets warm between documents), in chunks of
lines: a worker asks the data sources once for all its chunk's lookup keys (in bulk where the
kind allows), then renders the chunk's lines one by one with those answers; what the bulk could
not answer each line asks itself, and its failure is that line's.
"""

from __future__ import annotations

import json
import math
import os
import re
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from content_engine.core.errors import ContentEngineError, InputError, UnstorableText
from content_engine.core.models import Context, parse_context
from content_engine.core.storable import load_json
from content_engine.settings import Settings

EXTENSIONS = {"pdf": "pdf", "pdf-a": "pdf", "html": "html", "json": "json", "fragment": "html"}
# Recycle workers now and then: WeasyPrint does not always give memory back (NOTES.md).
TASKS_PER_WORKER = 100
# Lines a worker takes at once: their lookups are asked together (one query for the chunk).
LINES_PER_CHUNK = 50
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$")


@dataclass(frozen=True)
class Job:
    line: int
    name: str
    context: Context


@dataclass
class Failure:
    line: int
    code: str
    message: str


@dataclass
class LineWarning:
    line: int
    message: str


@dataclass
class BatchReport:
    written: list[Path] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    # What the written documents' renders warned of (a value the library lacks, a slot left out).
    warnings: list[LineWarning] = field(default_factory=list)
    # Lines whose output was already there (a campaign run again renders only what is missing).
    kept: int = 0

    def summary(self) -> str:
        kept = f", {self.kept} already there" if self.kept else ""
        return f"{len(self.written)} written{kept}, {len(self.failures)} failed"


def read_jobs(lines: Iterator[str]) -> Iterator[Job | Failure]:
    """Parse each line; a line that is not a valid context becomes a ``Failure``."""
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text:
            continue
        try:
            data = load_json(text)
        except json.JSONDecodeError as exc:
            yield Failure(number, "bad_json", f"not JSON: {exc.msg} at column {exc.colno}")
            continue
        except UnstorableText as exc:
            yield Failure(number, exc.code, exc.message)
            continue
        name = f"{number:05d}"
        if isinstance(data, dict) and "context" in data:
            wanted = data.get("id")
            if wanted is not None and not (isinstance(wanted, str) and _SAFE_ID.fullmatch(wanted)):
                yield Failure(number, "bad_id", f"id {wanted!r} is not a safe file name")
                continue
            name = wanted or name
            extra = sorted(set(data) - {"id", "context"})
            if extra:
                yield Failure(number, "invalid_context", f"unknown key {extra[0]!r}")
                continue
            data = data["context"]
        try:
            yield Job(number, name, parse_context(data))
        except ContentEngineError as exc:
            yield Failure(number, exc.code, exc.message)


def collect_jobs(lines: Iterator[str], report: BatchReport) -> list[Job]:
    """The good lines' jobs; bad and repeated lines go to ``report.failures``."""
    jobs: list[Job] = []
    names: set[str] = set()
    for item in read_jobs(lines):
        if isinstance(item, Failure):
            report.failures.append(item)
        elif item.name in names:
            report.failures.append(Failure(item.line, "duplicate_id", f"id {item.name} repeats"))
        else:
            names.add(item.name)
            jobs.append(item)
    return jobs


def output_name(job_name: str, fmt: str) -> str:
    """The file a line's document goes to: by id, so a repeated render writes the same file."""
    return f"{job_name}.{EXTENSIONS[fmt]}"


# --- worker side ---------------------------------------------------------------------------

_worker_engine: Any = None


def _start_worker(settings: Settings) -> None:
    global _worker_engine
    from content_engine.engine.facade import Engine

    _worker_engine = Engine(settings)


Outcome = tuple[int, str | None, str, list[str]]


def _render(publication: str, fmt: str, job: Job, target: str, strict: bool = False) -> Outcome:
    """Render one job to ``target``; return (line, error code or None, message, warnings)."""
    try:
        rendered = _worker_engine.render(publication, job.context, format=fmt, strict=strict)
    except ContentEngineError as exc:
        return job.line, exc.code, exc.message, []
    except Exception as exc:  # one broken document must not end the batch
        return job.line, "render_failed", f"{type(exc).__name__}: {exc}", []
    # Never a half-written file under the final name; a temporary name of its own, so two
    # renders of one line (a task delivered twice) cannot write into each other's file.
    tmp = f"{target}.{uuid.uuid4().hex[:12]}.part"
    with open(tmp, "xb") as fh:  # "x": never through a link someone left under that name
        fh.write(rendered.content)
    os.replace(tmp, target)
    return job.line, None, target, rendered.warnings


def _render_chunk(
    publication: str, fmt: str, work: list[tuple[Job, str]], strict: bool = False
) -> list[Outcome]:
    """Ask the sources once for the chunk's lookups, then render each of its jobs."""
    scope: AbstractContextManager[object]
    try:
        scope = _worker_engine.bulk_lookups(publication, [job.context for job, _ in work])
    except Exception:  # e.g. the database: each line then meets (and reports) it itself
        scope = nullcontext()
    with scope:
        return [_render(publication, fmt, job, target, strict) for job, target in work]


def run_batch(
    settings: Settings,
    publication: str,
    lines: Iterator[str],
    *,
    fmt: str,
    out_dir: Path,
    workers: int = 1,
    strict: bool = False,
    on_progress: Callable[[int, int], None] = lambda done, total: None,
) -> BatchReport:
    """Render every context line; report progress as (done, total) and return the report.

    ``strict``: a line naming a value the library does not know fails (``unknown_value``).
    """
    if fmt not in EXTENSIONS:
        raise InputError(f"unknown format {fmt!r}: use one of {', '.join(EXTENSIONS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    report = BatchReport()
    jobs = collect_jobs(lines, report)
    total = len(jobs)
    on_progress(0, total)
    done = 0
    # Workers are recycled by giving each round of jobs a fresh pool: WeasyPrint does not always
    # give memory back (NOTES.md), and Python 3.11's max_tasks_per_child can hang the pool when
    # a worker retires with work still queued (CPython gh-115634).
    per_round = workers * TASKS_PER_WORKER
    for start in range(0, total, per_round):
        work = [
            (job, str(out_dir / output_name(job.name, fmt)))
            for job in jobs[start : start + per_round]
        ]
        # Every worker gets a chunk even when the round is short.
        size = max(1, min(LINES_PER_CHUNK, math.ceil(len(work) / workers)))
        with ProcessPoolExecutor(
            max_workers=workers, initializer=_start_worker, initargs=(settings,)
        ) as pool:
            futures: list[Future[list[Outcome]]] = [
                pool.submit(_render_chunk, publication, fmt, work[at : at + size], strict)
                for at in range(0, len(work), size)
            ]
            for future in as_completed(futures):
                for line, code, message, warnings in future.result():
                    if code is None:
                        report.written.append(Path(message))
                        report.warnings += [LineWarning(line, w) for w in warnings]
                    else:
                        report.failures.append(Failure(line, code, message))
                    done += 1
                on_progress(done, total)
    report.failures.sort(key=lambda f: f.line)
    report.warnings.sort(key=lambda w: w.line)
    report.written.sort()
    return report
