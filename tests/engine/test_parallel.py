"""Checking bodies in a pool of processes gives what checking them here gives, in order; an
import checks only the bodies the repository does not hold as they are."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from content_engine.core.errors import LibraryFormatError
from content_engine.core.integrity import BodyJob, Problem, check_jobs
from content_engine.core.templates.sandbox import BodySandbox, Limits
from content_engine.engine import facade as engine_module
from content_engine.engine import parallel
from tests.support.engine_factory import copy_sample, make_engine
from tests.support.factories import context

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


def test_an_import_compiles_only_new_and_changed_bodies(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[list[str]] = []
    real = engine_module.check_in_parallel

    def spy(jobs: Sequence[BodyJob], limits: Limits) -> list[tuple[str, ...] | Problem]:
        checked.append([f"{job.component}/{job.variant}" for job in jobs])
        return real(jobs, limits)

    monkeypatch.setattr(engine_module, "check_in_parallel", spy)
    folder = copy_sample(tmp_path)
    with make_engine(db_url) as engine:
        engine.import_library(folder)
        assert len(checked[-1]) > 100, "a first import checks every body"
        engine.import_library(folder)
        assert checked[-1] == [], "nothing changed, nothing to compile"
        (folder / "docs/docs.disposal/fr.html").write_text(
            "---\nlocale: fr\n---\n<p>un\n<b>deux</p>\n"
        )
        with pytest.raises(LibraryFormatError, match=r"fr\.html:5:12"):
            engine.import_library(folder)
        assert checked[-1] == ["docs.disposal/fr"]
        (folder / "docs/docs.disposal/fr.html").write_text(
            '---\nlocale: fr\n---\n<p>Recyclage <ce-include component="legal.warranty"/></p>\n'
        )
        engine.import_library(folder)
        assert checked[-1] == ["docs.disposal/fr"]
        assert "legal.warranty" in {
            u.component for u in engine.block("docs.disposal", context("fr")).used
        }
