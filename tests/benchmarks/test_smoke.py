"""The benchmark suite still works: its tiny mode runs every benchmark, and its generator is sound.

Not a measurement: the numbers of a smoke run mean nothing. The suite's stages run in two
processes at once to keep this test short; ``make bench`` runs them one after another.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.synth import make_library, write_folder
from content_engine.core.models import Library
from content_engine.library import load_library
from tests.support.engine_factory import ROOT

pytestmark = pytest.mark.slow

HALVES = ("block,http,scale,listen", "pdf,batch,import,lookup,queue")


def test_the_generator_makes_valid_models_and_files_that_load_back(tmp_path: Path) -> None:
    library = make_library(12)
    assert Library.model_validate(library.model_dump()) == library
    assert load_library(write_folder(library, tmp_path / "lib")) == library
    assert make_library(12) == library  # seeded: the same library every time
    first = make_library(3).components["c.000002"]
    assert make_library(12).components["c.000002"] == first  # component i does not depend on N


def test_the_smoke_run_measures_every_benchmark(tmp_path: Path) -> None:
    results = {}
    # Every half is stopped and its log closed whatever happens: a log left open would fail
    # whichever test the garbage collector happens to run in.
    with contextlib.ExitStack() as stack:
        runs = []
        for n, only in enumerate(HALVES):
            out = tmp_path / f"half-{n}.json"
            cmd = [sys.executable, "-m", "benchmarks.run", "--smoke", "--only", only]
            cmd += ["--json", str(out), "--profiles", str(tmp_path / "profiles")]
            log = stack.enter_context((tmp_path / f"half-{n}.log").open("wb"))
            proc = stack.enter_context(subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=log))
            stack.callback(proc.kill)
            runs.append((proc, out, log))
        # Generous: in `make test` the halves share the cores with the suite's other processes.
        deadline = time.monotonic() + 480
        for proc, out, log in runs:
            code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
            assert code == 0, Path(log.name).read_text(errors="replace")[-3000:]
            results.update({row["name"]: row for row in json.loads(out.read_text())["rows"]})

    names = "\n".join(results)
    expected = ["1. block in process", "4. PDF", "5. batch", "3. block", "3. engine process RSS"]
    expected += ["3. load", "3. import", "6. a publish on one server seen by another"]
    expected += ["3. load", "3. import", "6. block from a serial number", "6. its overhead"]
    expected += ["6. 100 concurrent GET block", "6. 100 concurrent identical lookups"]
    expected += ["8. campaign on a task queue"]
    if shutil.which("wrk"):
        expected += ["2. GET block over HTTP, 1 worker: throughput", "2. POST /v1/blocks"]
        assert (tmp_path / "profiles" / "block_http.txt").read_text().count("| own % |") == 4
    for prefix in expected:
        assert prefix in names
    for row in results.values():
        if row["name"].startswith("6. its overhead"):  # a difference: noise may make it < 0
            assert row["ours"] is not None, row
        elif row["note"] != "not run":
            assert row["ours"] and row["ours"] > 0, row
    assert "## ours, cProfile" in (tmp_path / "profiles" / "block_inprocess.txt").read_text()
