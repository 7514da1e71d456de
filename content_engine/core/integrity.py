"""Integrity of a whole library: every body well-formed, the include graph sound.

In: a ``Library`` and a locator that says which file (and which line) each body came from.
Out: ``Problem``s. Import and save refuse a library with any error; ``lint`` lists them all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from copy import deepcopy
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from content_engine.core.assembly import MAX_INCLUDE_DEPTH
from content_engine.core.errors import LibraryFormatError, LibraryIntegrityError
from content_engine.core.markup.sanitize import sanitize_body
from content_engine.core.markup.xhtml import parse_body
from content_engine.core.models import Component, Library, Variant
from content_engine.core.templates.compile import CompiledBody, check_body, compile_body
from content_engine.core.templates.sandbox import BodySandbox


class Problem(BaseModel):
    code: str
    message: str
    severity: Literal["error", "warning"] = "error"
    component: str | None = None
    variant: str | None = None
    file: str | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.line, self.column) if p is not None)
        return f"{where}: {self.message}" if where else self.message


@dataclass(frozen=True)
class Location:
    file: str
    line_offset: int = 0


Locator = Callable[[Component, Variant], Location]


def default_locator(component: Component, variant: Variant) -> Location:
    folder = f"{component.folder}/" if component.folder else ""
    return Location(f"{folder}{component.id}/{variant.key}.html")


@dataclass(frozen=True)
class BodyJob:
    """One variant body to check, with where it is: plain data, so another process can take it."""

    component: str
    variant: str
    body: str
    file: str
    line_offset: int = 0


# Checks a list of bodies, answering each with the ids it includes or its problem; in order.
BodyChecker = Callable[[Sequence[BodyJob]], list[tuple[str, ...] | Problem]]


def body_jobs(library: Library, locate: Locator = default_locator) -> list[BodyJob]:
    """Every variant body, by component id then variant key."""
    jobs = []
    for component in sorted(library.components.values(), key=lambda c: c.id):
        for key in sorted(component.variants):
            variant = component.variants[key]
            where = locate(component, variant)
            jobs.append(BodyJob(component.id, key, variant.body, where.file, where.line_offset))
    return jobs


def compile_job(job: BodyJob, sandbox: BodySandbox) -> CompiledBody | Problem:
    """The compiled body, or the problem that makes it malformed."""
    try:
        return compile_body(job.body, sandbox, job.file, job.line_offset)
    except LibraryFormatError as exc:
        return _malformed(job, exc)


def _malformed(job: BodyJob, exc: LibraryFormatError) -> Problem:
    return Problem(
        code="malformed_body",
        message=exc.message.split(": ", 1)[-1] if exc.file else exc.message,
        component=job.component,
        variant=job.variant,
        file=exc.file,
        line=exc.line,
        column=exc.column,
    )


def check_jobs(
    jobs: Sequence[BodyJob], sandbox: BodySandbox, passed: set[str] | None = None
) -> list[tuple[str, ...] | Problem]:
    """A ``BodyChecker`` in this process: each body refused as ``compile_body`` refuses it.

    ``passed``: the shapes known to compile (``check_body``), kept across calls by a caller
    that checks in chunks; default, those of these jobs only.
    """
    shapes: set[str] = set() if passed is None else passed
    results: list[tuple[str, ...] | Problem] = []
    for job in jobs:
        try:
            results.append(check_body(job.body, sandbox, shapes, job.file, job.line_offset))
        except LibraryFormatError as exc:
            results.append(_malformed(job, exc))
    return results


def compile_all(
    library: Library, sandbox: BodySandbox, locate: Locator = default_locator
) -> tuple[dict[tuple[str, str], CompiledBody], list[Problem]]:
    """Compile every variant; return the compiled bodies and one problem per broken body."""
    compiled: dict[tuple[str, str], CompiledBody] = {}
    problems: list[Problem] = []
    for job in body_jobs(library, locate):
        result = compile_job(job, sandbox)
        if isinstance(result, Problem):
            problems.append(result)
        else:
            compiled[job.component, job.variant] = result
    return compiled, problems


def include_graph(
    library: Library, includes: Mapping[tuple[str, str], Iterable[str]]
) -> dict[str, set[str]]:
    """Component → components any of its variants includes, from each variant's includes."""
    graph: dict[str, set[str]] = {cid: set() for cid in library.components}
    for (cid, _key), targets in includes.items():
        graph[cid].update(targets)
    return graph


def graph_problems(library: Library, graph: dict[str, set[str]]) -> list[Problem]:
    """Missing include targets, cycles, and include paths deeper than the limit."""
    problems: list[Problem] = []
    for cid in sorted(graph):
        for target in sorted(graph[cid]):
            if target not in library.components:
                problems.append(
                    Problem(
                        code="missing_include",
                        message=f"{cid} includes unknown component {target!r}",
                        component=cid,
                    )
                )
    depth: dict[str, int] = {}
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    reported: set[frozenset[str]] = set()

    def visit(node: str, stack: list[str]) -> int:
        state[node] = 1
        stack.append(node)
        deepest = 0
        for target in sorted(graph.get(node, ())):
            if target not in graph:
                continue
            if state.get(target) == 1:
                cycle = [*stack[stack.index(target) :], target]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    problems.append(
                        Problem(
                            code="include_cycle",
                            message="include cycle " + " > ".join(cycle),
                            component=target,
                        )
                    )
                continue
            deepest = max(
                deepest, 1 + (depth[target] if state.get(target) == 2 else visit(target, stack))
            )
        stack.pop()
        state[node] = 2
        depth[node] = deepest
        return deepest

    for cid in sorted(graph):
        if cid not in state:
            visit(cid, [])
    for cid in sorted(depth):
        if depth[cid] > MAX_INCLUDE_DEPTH:
            problems.append(
                Problem(
                    code="include_too_deep",
                    message=f"includes from {cid} go {depth[cid]} deep (limit {MAX_INCLUDE_DEPTH})",
                    component=cid,
                )
            )
    return problems


def check_library(
    library: Library,
    sandbox: BodySandbox,
    locate: Locator = default_locator,
    check: BodyChecker | None = None,
) -> list[Problem]:
    """Every error that makes a library unfit to import or save.

    ``check`` checks the bodies (default: one by one here; ``parallel`` spreads them over
    processes for large libraries).
    """
    # Bodies are checked where they start; only a broken one is located in its file (which a
    # locator may have to read again: for every body, a tenth of a large import).
    jobs = body_jobs(library)
    results = check(jobs) if check is not None else check_jobs(jobs, sandbox)
    for n, result in enumerate(results):
        if isinstance(result, Problem):
            (results[n],) = check_jobs([_located(library, jobs[n], locate)], sandbox)
    problems = [r for r in results if isinstance(r, Problem)]
    includes = {
        (job.component, job.variant): r
        for job, r in zip(jobs, results, strict=True)
        if not isinstance(r, Problem)
    }
    return problems + graph_problems(library, include_graph(library, includes))


# Sanitises a list of bodies: each one's clean body and what was taken out of it; in order.
BodyCleaner = Callable[[Sequence[BodyJob]], list[tuple[str, list[str]]]]


def clean_jobs(jobs: Sequence[BodyJob]) -> list[tuple[str, list[str]]]:
    """A ``BodyCleaner`` in this process."""
    results = []
    for job in jobs:
        clean = sanitize_body(job.body, job.file, job.line_offset)
        results.append((clean.body, clean.removed))
    return results


# A body's check (as ``check_jobs``) and, when it passed, its cleaning (as ``clean_jobs``).
CheckedAndCleaned = tuple[tuple[str, ...] | Problem, tuple[str, list[str]] | None]


def check_and_clean_jobs(
    jobs: Sequence[BodyJob], sandbox: BodySandbox, passed: set[str] | None = None
) -> list[CheckedAndCleaned]:
    """Each job checked as ``check_jobs`` checks it and cleaned as ``clean_jobs`` cleans it,
    from one parse of its markup: parsing is most of either, so an import parses once.

    ``passed`` as for ``check_jobs``. A body that fails its check is not cleaned (``None``):
    a library with a broken body is refused before anything is cleaned.
    """
    shapes: set[str] = set() if passed is None else passed
    results: list[CheckedAndCleaned] = []
    for job in jobs:
        try:
            root, restore = parse_body(job.body, job.file, job.line_offset)
            checked = check_body(
                job.body, sandbox, shapes, job.file, job.line_offset, (deepcopy(root), restore)
            )
        except LibraryFormatError as exc:
            results.append((_malformed(job, exc), None))
            continue
        clean = sanitize_body(job.body, job.file, job.line_offset, (root, restore))
        results.append((checked, (clean.body, clean.removed)))
    return results


def _located(library: Library, job: BodyJob, locate: Locator) -> BodyJob:
    """``job`` where ``locate`` says its body is."""
    component = library.components[job.component]
    where = locate(component, component.variants[job.variant])
    return BodyJob(job.component, job.variant, job.body, where.file, where.line_offset)


def sanitize_library(
    library: Library, locate: Locator = default_locator, clean: BodyCleaner | None = None
) -> tuple[Library, list[str]]:
    """Every body reduced to the allow-list (``sanitize``), and ``file: removed ...`` messages.

    Run it on a library that passed ``check_library``: a malformed body raises here too.
    ``clean`` sanitises the bodies (default: one by one here; ``parallel`` spreads them).
    """
    jobs = body_jobs(library)  # located only if something is taken out, as in check_library
    results = clean(jobs) if clean is not None else clean_jobs(jobs)
    messages: list[str] = []
    components = dict(library.components)
    changed: dict[str, dict[str, Variant]] = {}
    for job, (body, removed) in zip(jobs, results, strict=True):
        if removed:
            job = _located(library, job, locate)
            (body, removed), *_ = clean_jobs([job])
            component = library.components[job.component]
            variants = changed.setdefault(job.component, dict(component.variants))
            variants[job.variant] = variants[job.variant].model_copy(update={"body": body})
            messages += [f"{job.file}: {m}" for m in removed]
    for cid, variants in changed.items():
        components[cid] = library.components[cid].model_copy(update={"variants": variants})
    if not messages:
        return library, []
    return library.model_copy(update={"components": components}), messages


def raise_first(problems: Iterable[Problem]) -> None:
    """Turn the first problem into the error import and save report (all go in details)."""
    problems = [p for p in problems if p.severity == "error"]
    if not problems:
        return
    first = problems[0]
    details = [p.model_dump(exclude_none=True) for p in problems]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    if first.code == "malformed_body":
        raise LibraryFormatError(
            first.message + more,
            file=first.file,
            line=first.line,
            column=first.column,
            details=details,
        )
    raise LibraryIntegrityError(first.message + more, details=details)
