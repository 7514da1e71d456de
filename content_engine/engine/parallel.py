"""Importing a large library folder on every core: each component read, checked and cleaned
in one pass, in a pool of processes.

In: the library ``Folder``, the component folders its walk found, the sandbox limits, and the
components the repository holds (their bodies need no check again). Out: the components, in
order, for ``load_library`` (``read``); each body's check for ``check_library`` (``check``)
and its cleaning for ``sanitize_library`` (``clean``), answered from what the pool found.

An import of 10 k components is minutes of pure CPU on one core: YAML and validation of every
file, a parse and a fold of every body (Jinja's code generator once per shape), and a parse
and a walk of every body again to sanitise it. Each component folder is read, and each of its
bodies parsed once, checked and cleaned, by one worker (``check_and_clean_jobs``), so the
whole import spreads over the cores instead of its reading staying on one. A worker answers
with plain models and results; what needs the whole library (ids defined twice, the include
graph) is decided here.

The library's byte bound holds for all the workers together: each chunk of folders may read
what its files measured when it was made, and the chunks' measures must add up to no more
than the bound leaves, or the import is refused at the file that goes over before anything
of it is read. A file that grows after it was measured is refused by its reader.
"""

from __future__ import annotations

import gc
import hashlib
import os
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path

from content_engine.core.errors import ContentEngineError, LibraryFormatError
from content_engine.core.integrity import (
    BodyJob,
    CheckedAndCleaned,
    Problem,
    check_and_clean_jobs,
    check_jobs,
    clean_jobs,
    default_locator,
)
from content_engine.core.models import Component, Variant
from content_engine.core.templates.sandbox import BodySandbox, Limits
from content_engine.library.folder import Folder
from content_engine.library.limits import FolderLimits
from content_engine.library.read import ComponentFolder, load_component

# Component folders a worker takes at once (~1 s of work for a large library's components);
# a library of one chunk is read here: starting processes would cost more than it saves.
CHUNK_COMPONENTS = 100

Key = tuple[str, str]  # (component id, variant key)

_sandbox: BodySandbox | None = None
_shapes: set[str] = set()  # a worker's bodies that compiled, by shape (``check_body``)


def workers_available() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def body_digest(body: str) -> bytes:
    return hashlib.blake2b(body.encode("utf-8", "surrogatepass"), digest_size=16).digest()


@dataclass(frozen=True)
class _Chunk:
    """Folders for one worker: what it may read, and the bodies it need not check."""

    root: str
    limits: FolderLimits
    found: tuple[ComponentFolder, ...]
    budget: int
    held: Mapping[Key, bytes]  # digests of the bodies the repository holds as they are


@dataclass
class _Answer:
    """What a worker found for its chunk, up to the first problem (then ``problem``)."""

    components: list[Component] = field(default_factory=list)
    results: dict[Key, CheckedAndCleaned] = field(default_factory=dict)
    read_bytes: int = 0
    problem: LibraryFormatError | None = None


def _start(limits: Limits) -> None:
    global _sandbox
    _sandbox = BodySandbox(limits)
    _shapes.clear()


def _start_worker(limits: Limits) -> None:
    """A pool process's start. What it inherited from the importing process is frozen (the
    collector never walks it, nor touches its pages, which stay shared), and its collector
    runs: the importing process pauses its own while it builds the library (``collector``),
    and a forked process inherits the pause."""
    gc.freeze()
    gc.enable()
    _start(limits)


def _import_chunk(chunk: _Chunk) -> _Answer:
    assert _sandbox is not None, "the pool's initializer (or ``_here``) makes the sandbox"
    folder = Folder(Path(chunk.root), chunk.limits, chunk.budget)
    answer = _Answer()
    try:
        for place in chunk.found:
            answer.components.append(load_component(folder, place))
    except LibraryFormatError as exc:
        answer.problem = exc  # the import is refused: nothing of it is worth checking
    answer.read_bytes = folder.read_bytes
    if answer.problem is not None:
        return answer
    jobs = [
        _job(component, variant)
        for component in answer.components
        for variant in component.variants.values()
        if not _held(chunk.held, (component.id, variant.key), variant.body)
    ]
    answer.results = {
        (job.component, job.variant): result
        for job, result in zip(jobs, check_and_clean_jobs(jobs, _sandbox, _shapes), strict=True)
    }
    return answer


def _groups(
    found: Iterable[ComponentFolder], size: int
) -> Iterator[list[ComponentFolder] | LibraryFormatError]:
    """The walk's folders ``size`` at a time, and last the walk's problem if it met one."""
    group: list[ComponentFolder] = []
    problem: LibraryFormatError | None = None
    try:
        for place in found:
            group.append(place)
            if len(group) == size:
                yield group
                group = []
    except LibraryFormatError as exc:
        problem = exc
    if group:
        yield group
    if problem is not None:
        yield problem


def _held(held: Mapping[Key, bytes], key: Key, body: str) -> bool:
    """Whether the repository holds this very body (digested only when it holds the key)."""
    digest = held.get(key)
    return digest is not None and digest == body_digest(body)


def _job(component: Component, variant: Variant) -> BodyJob:
    """The job ``body_jobs`` makes of a variant: located where its body starts."""
    where = default_locator(component, variant)
    return BodyJob(component.id, variant.key, variant.body, where.file, where.line_offset)


class FolderImport:
    """One import's reading, checking and cleaning, shared out over the cores.

    ``stored`` gives the repository's components of some ids, ``includes_of`` what a stored
    variant includes: a body stored as it is was checked and cleaned when it was stored.
    """

    def __init__(
        self,
        limits: Limits,
        stored: Callable[[Iterable[str]], Mapping[str, Component]],
        includes_of: Callable[[Component, Variant], tuple[str, ...]],
        workers: int | None = None,
    ) -> None:
        self._limits = limits
        self._stored = stored
        self._includes_of = includes_of
        self._workers = workers or workers_available()
        self._held_in: dict[str, Component] = {}  # the stored components of the folder's ids
        self._results: dict[Key, CheckedAndCleaned] = {}

    # --- a ComponentReader ------------------------------------------------------------------

    def read(self, folder: Folder, found: Iterable[ComponentFolder]) -> list[Component]:
        """The components of ``found`` in order; the first problem raised where it lies.

        Chunks go to the pool while the walk goes on, so the workers start on the first
        folders while the rest are still being listed. Read whole before returning, so the
        pool is shut down here whatever happens, not whenever a generator is collected.
        """
        pieces = self._pieces(folder, found)
        head = list(islice(pieces, 2))
        parallel = self._workers > 1 and len(head) == 2 and isinstance(head[1], _Chunk)
        components: list[Component] = []
        with closing((self._in_pool if parallel else self._here)(chain(head, pieces))) as answers:
            for piece, answer in answers:
                if isinstance(piece, LibraryFormatError):
                    raise piece
                assert answer is not None, "every chunk is answered"
                self._results.update(answer.results)
                components += answer.components
                if answer.problem is not None:
                    raise answer.problem
                folder.charge(answer.read_bytes, piece.found[-1].files[-1])
        return components

    def _pieces(
        self, folder: Folder, found: Iterable[ComponentFolder]
    ) -> Iterator[_Chunk | LibraryFormatError]:
        """Chunks of the walk's folders, in order, and last the walk's problem if it had one.

        Each chunk may read what its files measure; their sum must stay within what the
        library's bound leaves, or the import is refused at the file that goes over.
        """
        left = folder.budget - folder.read_bytes
        for group in _groups(found, CHUNK_COMPONENTS):
            if isinstance(group, LibraryFormatError):
                yield group
                return
            try:
                chunk = self._chunk(folder, group, left)
            except LibraryFormatError as exc:
                yield exc
                return
            left -= chunk.budget
            yield chunk

    def _chunk(self, folder: Folder, group: list[ComponentFolder], left: int) -> _Chunk:
        size = 0
        for place in group:
            for file in place.files:
                size += folder.size(file)
                if size > left:
                    raise folder.over_bound(file)
        stored = self._stored([place.id for place in group])
        self._held_in.update(stored)
        held = {
            (cid, key): body_digest(variant.body)
            for cid, component in stored.items()
            for key, variant in component.variants.items()
        }
        return _Chunk(folder.root, folder.limits, tuple(group), size, held)

    def _here(
        self, pieces: Iterable[_Chunk | LibraryFormatError]
    ) -> Generator[tuple[_Chunk | LibraryFormatError, _Answer | None], None, None]:
        _start(self._limits)
        for piece in pieces:
            yield piece, _import_chunk(piece) if isinstance(piece, _Chunk) else None

    def _in_pool(
        self, pieces: Iterable[_Chunk | LibraryFormatError]
    ) -> Generator[tuple[_Chunk | LibraryFormatError, _Answer | None], None, None]:
        pool = ProcessPoolExecutor(
            max_workers=self._workers, initializer=_start_worker, initargs=(self._limits,)
        )
        try:
            submitted = [
                (piece, pool.submit(_import_chunk, piece) if isinstance(piece, _Chunk) else None)
                for piece in pieces
            ]
            for piece, future in submitted:
                yield piece, None if future is None else future.result()
        except BrokenProcessPool:
            raise ContentEngineError(
                "a process reading the library ended before it answered (out of memory, or "
                "killed): nothing was imported; import again",
                code="import_interrupted",
            ) from None
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    # --- a BodyChecker and a BodyCleaner ----------------------------------------------------

    def check(self, jobs: Sequence[BodyJob]) -> list[tuple[str, ...] | Problem]:
        """Each job's check, as the pool found it (a stored body: what it includes)."""
        return [self._checked(job) for job in jobs]

    def _checked(self, job: BodyJob) -> tuple[str, ...] | Problem:
        held = self._held_variant(job)
        if held is not None:
            return self._includes_of(self._held_in[job.component], held)
        found = self._results.get((job.component, job.variant))
        if found is None:  # not read by the pool (a caller's own library): checked here
            (result,) = check_jobs([job], BodySandbox(self._limits))
            return result
        return found[0]

    def clean(self, jobs: Sequence[BodyJob]) -> list[tuple[str, list[str]]]:
        """Each job's clean body, as the pool found it (a stored body was stored clean)."""
        return [self._cleaned(job) for job in jobs]

    def _cleaned(self, job: BodyJob) -> tuple[str, list[str]]:
        if self._held_variant(job) is not None:
            return job.body, []
        found = self._results.get((job.component, job.variant))
        if found is None or found[1] is None:  # not read by the pool: cleaned here
            (result,) = clean_jobs([job])
            return result
        return found[1]

    def _held_variant(self, job: BodyJob) -> Variant | None:
        """The stored variant whose body is the job's own, if the repository holds it."""
        component = self._held_in.get(job.component)
        variant = component.variants.get(job.variant) if component is not None else None
        return variant if variant is not None and variant.body == job.body else None
