"""Checking a large library's bodies on every core.

In: ``BodyJob``s and the sandbox limits. Out: for each job, in order, the component ids its body
includes or the ``Problem`` that makes it malformed: a ``BodyChecker`` for ``check_library``;
or its sanitised body: a ``BodyCleaner`` for ``sanitize_library``.

Import checks every body as compiling it would, a few milliseconds each when Jinja's code
generator runs, under one when the body's shape compiled already (``check_body``): still a
minute for a library of 10 k components and 80 k variants on one core. Checking is pure CPU
and the answers are small, so the jobs go to a pool of processes in chunks (each worker keeps
the shapes it has seen); a library too small to repay starting the pool is checked here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

from content_engine.core.integrity import BodyJob, Problem, check_jobs, clean_jobs
from content_engine.core.templates.sandbox import BodySandbox, Limits

# Below this many bodies (~1 s of work) starting processes costs more than it saves.
MIN_PARALLEL_JOBS = 400
CHUNKS_PER_WORKER = 8

_Answer = TypeVar("_Answer")

_sandbox: BodySandbox | None = None
_shapes: set[str] = set()  # a worker's bodies that compiled, by shape (``check_body``)


def _start(limits: Limits) -> None:
    global _sandbox
    _sandbox = BodySandbox(limits)
    _shapes.clear()


def _check_chunk(jobs: Sequence[BodyJob]) -> list[tuple[str, ...] | Problem]:
    assert _sandbox is not None, "the pool's initializer makes the sandbox"
    return check_jobs(jobs, _sandbox, _shapes)


def workers_available() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _in_pool(
    work: Callable[[Sequence[BodyJob]], list[_Answer]],
    jobs: Sequence[BodyJob],
    limits: Limits,
    workers: int,
) -> list[_Answer]:
    size = max(1, len(jobs) // (workers * CHUNKS_PER_WORKER))
    chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    with ProcessPoolExecutor(max_workers=workers, initializer=_start, initargs=(limits,)) as pool:
        return [result for chunk in pool.map(work, chunks) for result in chunk]


def check_in_parallel(
    jobs: Sequence[BodyJob], limits: Limits, workers: int | None = None
) -> list[tuple[str, ...] | Problem]:
    """Every job checked, spread over ``workers`` processes (default: the usable cores)."""
    workers = workers or workers_available()
    if workers < 2 or len(jobs) < MIN_PARALLEL_JOBS:
        return check_jobs(jobs, BodySandbox(limits))
    return _in_pool(_check_chunk, jobs, limits, workers)


def clean_in_parallel(
    jobs: Sequence[BodyJob], limits: Limits, workers: int | None = None
) -> list[tuple[str, list[str]]]:
    """Every job's body sanitised (``clean_jobs``), spread over processes as ``check_in_parallel``:
    parsing each body once more is a tenth of an import, in one process."""
    workers = workers or workers_available()
    if workers < 2 or len(jobs) < MIN_PARALLEL_JOBS:
        return clean_jobs(jobs)
    return _in_pool(clean_jobs, jobs, limits, workers)
