"""Checking bodies in a pool of processes gives what checking them here gives, in order."""

from __future__ import annotations

import pytest

from content_engine import parallel
from content_engine.integrity import BodyJob, Problem, check_jobs
from content_engine.sandbox import BodySandbox, Limits

BODIES = [
    '<p>fine <ce-include component="a"/></p>',
    "<p>broken <b>tag</p>",
    '<div><ce-include component="b"/><ce-include component="c"/></div>',
    "<p>{{ customer.name </p>",
    "<p>{{ x | no_such_filter }}</p>",
    "<p>{% autoescape false %}x{% endautoescape %}</p>",
]


def jobs(count: int) -> list[BodyJob]:
    return [
        BodyJob(f"c{i:03d}", "v", BODIES[i % len(BODIES)], f"c{i:03d}/v.html", line_offset=i % 3)
        for i in range(count)
    ]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_pool_answers_as_this_process_does(workers: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "MIN_PARALLEL_JOBS", 0)
    work = jobs(60)
    here = check_jobs(work, BodySandbox())
    pooled = parallel.check_in_parallel(work, Limits(), workers=workers)
    assert pooled == here
    problems = [r for r in here if isinstance(r, Problem)]
    assert {p.component for p in problems} >= {"c001", "c003", "c004", "c005"}
    assert here[2] == ("b", "c")
    assert [p.line for p in problems[:2]] == [1 + 1, 1 + 0]  # offsets 1 and 0 (c001, c003)
