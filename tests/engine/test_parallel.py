"""An import read, checked and cleaned in a pool of processes gives what one process gives:
the same library, the same first problem, the same bound on what is read; and it checks only
the bodies the repository does not hold as they are."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from content_engine.core.errors import ContentEngineError, LibraryFormatError
from content_engine.core.integrity import (
    BodyJob,
    CheckedAndCleaned,
    Problem,
    check_library,
    sanitize_library,
)
from content_engine.core.models import Component, Library
from content_engine.core.templates.sandbox import BodySandbox, Limits
from content_engine.engine import parallel
from content_engine.engine.parallel import FolderImport
from content_engine.library import load_library
from content_engine.library.folder import Folder
from content_engine.library.limits import FolderLimits
from content_engine.library.read import ComponentFolder
from tests.support.engine_factory import copy_sample, make_engine, write_files
from tests.support.factories import context

BODIES = [
    '<p>fine <ce-include component="c001"/></p>',
    "<p>broken <b>tag</p>",
    '<div><ce-include component="c002"/><script>x()</script></div>',
    "<p>{{ customer.name </p>",
    "<p>{{ x | no_such_filter }}</p>",
    "<p onclick='x()'>{% autoescape false %}x{% endautoescape %}</p>",
    "<p>{{ customer.name }} <em onclick='y'>hi</em></p>",
]


def folder_of(tmp_path: Path, count: int, bodies: Sequence[str]) -> Path:
    files = {"library.yaml": "default_locale: en\nlocales: [en, de]\n"}
    for i in range(count):
        files[f"c/c{i:03d}/component.yaml"] = f"id: c{i:03d}\ntype: snippet\n"
        for n, key in enumerate(("en", "de")):
            body = bodies[(i * 2 + n) % len(bodies)]
            files[f"c/c{i:03d}/{key}.html"] = f"---\nlocale: {key}\n---\n{body}\n"
    return write_files(tmp_path, files)


def nothing_stored(ids: object) -> dict[str, object]:
    return {}


def imported(
    path: Path, workers: int, limits: FolderLimits | None = None
) -> tuple[Library, list[Problem], Library | None, list[str]]:
    """The library, its problems and (without any) its cleaning, read through a
    ``FolderImport``."""
    folder_import = FolderImport(Limits(), nothing_stored, lambda c, v: (), workers=workers)
    library = load_library(path, limits, read=folder_import.read)
    problems = check_library(library, BodySandbox(), check=folder_import.check)
    if problems:
        return library, problems, None, []
    clean, removed = sanitize_library(library, clean=folder_import.clean)
    return library, problems, clean, removed


@pytest.fixture(autouse=True)
def _pool_for_small_libraries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "CHUNK_COMPONENTS", 4)


def test_a_pool_answers_as_one_process_does(tmp_path: Path) -> None:
    path = folder_of(tmp_path / "broken", 60, BODIES)
    here = imported(path, workers=1)
    assert imported(path, workers=2) == here
    library, problems, _clean, _removed = here
    assert len(library.components) == 60
    assert {p.component for p in problems} >= {"c000", "c001", "c002"}
    # As the plain path finds them: every body checked in this process.
    assert problems == check_library(library, BodySandbox())

    good = folder_of(
        tmp_path / "good", 60, ["<p>fine</p>", "<div><script>x()</script></div>", BODIES[6]]
    )
    here = imported(good, workers=1)
    assert imported(good, workers=2) == here
    _library, problems, clean, removed = here
    assert problems == []
    assert any("script" in r for r in removed) and any("onclick" in r for r in removed)
    assert (clean, removed) == sanitize_library(load_library(good))


def test_the_first_problem_is_the_one_a_single_reader_meets(tmp_path: Path) -> None:
    path = folder_of(tmp_path, 60, [BODIES[0]])
    (path / "c/c041/de.html").write_text("---\nlocale: [de\n---\n<p/>\n")
    (path / "c/c007/en.html").write_text("---\nlocale: en\npriority: high\n---\n<p/>\n")
    (path / "c/c050/stray.txt").write_text("x")
    messages = []
    for workers in (1, 2):
        with pytest.raises(LibraryFormatError) as caught:
            imported(path, workers)
        messages.append(str(caught.value))
    with pytest.raises(LibraryFormatError) as plain:
        load_library(path)
    assert messages == [str(plain.value)] * 2
    assert "c007/en.html" in messages[0]


def test_a_component_defined_twice_is_refused_across_chunks(tmp_path: Path) -> None:
    path = folder_of(tmp_path, 60, [BODIES[0]])
    twin = path / "z/c003"
    twin.mkdir(parents=True)
    for name in ("component.yaml", "en.html"):
        (twin / name).write_text((path / "c/c003" / name).read_text())
    with pytest.raises(LibraryFormatError, match=r"c003.*defined twice"):
        imported(path, workers=2)


def test_the_byte_bound_holds_for_all_the_workers_together(tmp_path: Path) -> None:
    path = folder_of(tmp_path, 60, ["<p>" + "x" * 4_000 + "</p>"])
    total = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    imported(path, 2, FolderLimits(max_library_bytes=total))  # exactly the bound: read
    for bound in (total - 1, total // 2, total // 16):
        with pytest.raises(LibraryFormatError, match=f"add up to over {bound} bytes"):
            imported(path, 2, FolderLimits(max_library_bytes=bound))


def test_a_file_that_grows_after_the_sizes_were_taken_is_caught_by_its_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = folder_of(tmp_path, 60, ["<p>short</p>"])
    total = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    grown = path / "c/c030/en.html"
    real_chunk = FolderImport._chunk

    def grow_after_measuring(
        self: FolderImport, folder: Folder, group: list[ComponentFolder], left: int
    ) -> object:
        chunk = real_chunk(self, folder, group, left)
        if any(place.rel == "c/c030" for place in group):
            grown.write_text("---\nlocale: en\n---\n<p>" + "y" * 200 + "</p>\n")
        return chunk

    monkeypatch.setattr(FolderImport, "_chunk", grow_after_measuring)
    with pytest.raises(LibraryFormatError, match=r"c/c030/en\.html: the library's files add up"):
        imported(path, 2, FolderLimits(max_library_bytes=total + 100))


def test_an_import_checks_only_new_and_changed_bodies(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[list[str]] = []
    real = parallel.check_and_clean_jobs

    def spy(jobs: Sequence[BodyJob], *args: object) -> list[CheckedAndCleaned]:
        checked.append([f"{job.component}/{job.variant}" for job in jobs])
        return real(jobs, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(parallel, "CHUNK_COMPONENTS", 10_000)  # in this process
    monkeypatch.setattr(parallel, "check_and_clean_jobs", spy)
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


def test_an_engine_imports_through_the_pool(db_url: str, tmp_path: Path) -> None:
    folder = copy_sample(tmp_path)
    (folder / "docs/docs.disposal/fr.html").write_text(
        "---\nlocale: fr\n---\n<p onclick='x()'>Recyclage</p>\n"
    )
    with make_engine(db_url) as engine:
        report = engine.import_library(folder)
        assert any("onclick" in w and "fr.html" in w for w in report.warnings)
        assert engine.block("docs.disposal", context("fr")).html.startswith("<p>Recyclage</p>")


def test_the_pool_checks_only_new_and_changed_bodies_too(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[FolderImport] = []
    real_read = FolderImport.read

    def keep(self: FolderImport, *args: object) -> list[Component]:
        made.append(self)
        return real_read(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(FolderImport, "read", keep)
    folder = copy_sample(tmp_path)
    with make_engine(db_url) as engine:
        engine.import_library(folder)
        assert len(made[-1]._results) > 100, "a first import checks every body, in the pool"
        engine.import_library(folder)
        assert made[-1]._results == {}, "nothing changed, nothing checked"
        (folder / "docs/docs.disposal/fr.html").write_text(
            "---\nlocale: fr\n---\n<p onclick='x()'>Recyclage</p>\n"
        )
        report = engine.import_library(folder)
        assert list(made[-1]._results) == [("docs.disposal", "fr")]
        assert any("onclick" in w for w in report.warnings)


def die(chunk: object) -> object:
    os._exit(9)  # a worker killed mid-import (the OOM killer, say)


def test_a_worker_that_dies_is_one_error_and_nothing_imported(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "_import_chunk", die)  # the forked workers run it
    with make_engine(db_url) as engine:
        with pytest.raises(ContentEngineError, match="ended before it answered") as caught:
            engine.import_library(copy_sample(tmp_path))
        assert caught.value.code == "import_interrupted"
        assert engine.repository.revision() == 0
