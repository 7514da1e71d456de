"""The benchmark suite: every benchmark against a bare-tool baseline measured in the same run.

``make bench`` (``python -m benchmarks.run --append``) runs, in this order (the stages that fit
themselves to the time left come last):
1. ``block``: ``Engine.block`` warm vs a bare Jinja2 render of the same compiled template
   (``block.py`` says exactly what the baseline is), on the 1 k synthetic library; target ≤ 1.5×.
2. ``http``: ``GET /v1/blocks/...`` from ``content-engine serve`` vs a bare FastAPI route
   answering the same bytes, both under uvicorn, loaded by wrk (``http_block.py``); targets
   ≥ 70 % of the bare throughput and p99 ≤ 2×, and the same when no request can be answered
   from a stored answer (each asks for an ``at`` never asked before: the full route). Then one
   customer's block, ``POST /v1/blocks`` with a new customer each request, vs a hand-written
   FastAPI route rendering the same body (``customer_block.py``); target ≥ 1.0×, p99 ≤ 2×.
3. ``pdf``: ``render --format pdf`` of the sample ``brochure.hp200`` vs bare WeasyPrint on the
   same page and CSS, warm in process (target ≤ 1.10×, seconds per page) and cold, one process.
4. ``batch``: ``content-engine batch`` of 200 PDFs, 2 workers vs 1 (target ≥ 1.7×), failures.
5. ``lookup``: the per-customer path (``lookups.py``): a block from a serial number through a
   SQLite CRM and an HTTP customer service answering after 50 ms, against the same block with
   the data inline plus the sources' own calls (target: at most 2 ms more); 100 concurrent
   requests for 100 serials at ``content-engine serve`` against 100 concurrent calls at the
   service itself (one batch, target ≤ 3×); 100 concurrent identical lookups, calls counted at
   the service (target: 1 with a ``cache_ttl``; reported without).
6. ``scale``: block latency at 1 k, 10 k and 100 k components, 100 k vs 1 k (target ≤ 1.3×),
   process RSS, load time and the refresh after another writer's publish, per size (each size
   in fresh processes, ``scale.py``).
7. ``import``: ``Engine.import_library`` of synthetic folders, the real path from files.
8. ``listen``: a publish through one server seen by another on the same PostgreSQL (``NOTIFY``)
   vs polling every 0.5 s, p50 and p99 (``listen.py``); target p99 ≤ 100 ms.
9. ``queue``: a campaign of 10 k HTML contexts on a task queue (Redis), two ``content-engine
   worker`` processes vs one (``queue.py``); target ≥ 1.8×. Fewer contexts when the budget is
   short (the table says so); ``python -m benchmarks.run --only queue`` runs the whole of it.

Every step is bounded: wrk runs for fixed seconds, processes have time limits, and the run has
a budget (``--budget``, 570 s for the full run): 100 k components and the 10 k import from
files run only when their estimate (from the smaller sizes) fits what is left, and the table
says when something was projected or left out. Medians of repeated samples, ratios always.

``--quick`` is a small run for iterating (sizes 1 k and 10 k, short HTTP runs, 20 PDFs);
``--smoke`` a tiny one that only proves the suite works (the test suite runs it).
``--only block,http`` runs some benchmarks; ``--append`` adds a dated section to RESULTS.md.
Profiles of benchmarks 1 and 2 go to ``benchmarks/profiles/``.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import os
import platform
import pstats
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from benchmarks import http_block
from benchmarks.measure import (
    ROOT,
    Budget,
    Row,
    console_script,
    fmt_value,
    log,
    median_seconds,
    process,
    run_timed,
    table,
    tail,
    top_functions,
)
from benchmarks.synth import SNIPPETS

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
PROFILES = HERE / "profiles"
STAGES = ("block", "http", "pdf", "batch", "lookup", "scale", "import", "listen", "queue")
PUBLICATION = "brochure.hp200"


@dataclass(frozen=True)
class Plan:
    mode: str
    sizes: tuple[int, ...]
    block_repeat: int
    http_workers: tuple[int, ...]
    http_runs: int
    http_seconds: float
    http_warmup: float
    http_connections: int
    profile_seconds: float
    pdf_repeat: int
    cold_repeat: int
    batch_lines: int
    import_probe: int
    import_target: int
    listen_publishes: int
    lookup_repeat: int
    lookup_requests: int
    lookup_rounds: int
    queue_contexts: int
    budget: float


FULL = Plan(
    mode="full",
    sizes=(1000, 10_000, 100_000),
    block_repeat=15,
    http_workers=(1, 2),
    http_runs=3,
    http_seconds=5,
    http_warmup=2,
    http_connections=32,
    profile_seconds=3,
    pdf_repeat=9,
    cold_repeat=2,
    batch_lines=200,
    import_probe=200,
    import_target=10_000,
    listen_publishes=50,
    lookup_repeat=100,
    lookup_requests=100,
    lookup_rounds=5,
    queue_contexts=10_000,
    budget=570,
)
QUICK = replace(
    FULL,
    mode="quick",
    sizes=(1000, 10_000),
    block_repeat=9,
    http_workers=(1,),
    http_runs=2,
    http_seconds=3,
    http_warmup=1,
    profile_seconds=2,
    pdf_repeat=3,
    cold_repeat=1,
    batch_lines=20,
    import_probe=50,
    import_target=1000,
    listen_publishes=20,
    lookup_repeat=40,
    lookup_rounds=3,
    queue_contexts=1000,
    budget=240,
)
SMOKE = replace(
    QUICK,
    mode="smoke",
    sizes=(20, 60),
    block_repeat=3,
    http_runs=1,
    http_seconds=1,
    http_warmup=0,
    profile_seconds=1,
    pdf_repeat=1,
    batch_lines=1,
    import_probe=5,
    import_target=5,
    listen_publishes=3,
    lookup_repeat=5,
    lookup_rounds=1,
    queue_contexts=20,
    budget=120,
)


class Suite:
    """One run: its plan, its work folder, the rows and notes it collects."""

    def __init__(self, plan: Plan, work: Path, profiles: Path) -> None:
        self.plan = plan
        self.work = work
        self.profiles = profiles
        self.budget = Budget(plan.budget)
        self.rows: list[Row] = []
        self.notes: list[str] = []
        self.loads: list[str] = []
        self.dbs: dict[int, str] = {}
        self.build_seconds: dict[int, float] = {}
        self.pdf_seconds: float | None = None
        self.deep = self.flat = ""

    # --- shared set-up ---------------------------------------------------------------------

    def db_url(self, name: str) -> str:
        return f"sqlite:///{self.work / name}.db"

    def worker(self, *args: str, timeout: float, name: str) -> dict[str, Any]:
        """Run ``benchmarks.scale`` in a fresh process; its JSON answer."""
        logfile = self.work / f"{name}.log"
        cmd = [sys.executable, "-m", "benchmarks.scale", *args]
        with logfile.open("wb") as err:
            done = subprocess.run(
                cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=err, timeout=timeout, check=False
            )
        if done.returncode != 0:
            raise RuntimeError(f"{name} failed ({done.returncode}):\n{tail(logfile)}")
        result: dict[str, Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
        return result

    def synthetic_db(self, size: int, timeout: float = 900) -> str:
        if size not in self.dbs:
            url = self.db_url(f"synthetic-{size}")
            built = self.worker(
                "build", "--size", str(size), "--db", url, timeout=timeout, name=f"build-{size}"
            )
            self.build_seconds[size] = built["generate_s"] + built["store_s"]
            log(
                f"built {size} components: generate {built['generate_s']:.1f} s, "
                f"store {built['store_s']:.1f} s"
            )
            self.dbs[size] = url
        return self.dbs[size]

    def components(self) -> tuple[str, str]:
        if not self.deep:
            from benchmarks.block import pick_components, reader_context
            from content_engine import Engine, Settings

            with Engine(Settings(db_url=self.synthetic_db(self.plan.sizes[0]), home=ROOT)) as e:
                self.deep, self.flat = pick_components(e, reader_context())
        return self.deep, self.flat

    # --- 1. block in process ---------------------------------------------------------------

    def bench_block(self) -> None:
        from benchmarks.block import bare_render, probe, reader_context
        from content_engine import Engine, Settings

        size = self.plan.sizes[0]
        deep, flat = self.components()
        context = reader_context()
        with Engine(Settings(db_url=self.synthetic_db(size), home=ROOT)) as engine:
            for cid, what in ((deep, "includes 3 deep"), (flat, "no include")):
                result = probe(engine, cid, context, self.plan.block_repeat)
                self.rows.append(
                    Row(
                        f"1. block in process, `{cid}` ({what}, {result.html_bytes} B)",
                        result.ours,
                        result.bare,
                        baseline_name="Jinja2 render",
                        target=("<=", 1.5),
                    )
                )
                log(
                    f"block {cid}: ours {result.ours * 1e6:.1f} µs, bare {result.bare * 1e6:.1f} µs"
                )
            bare = bare_render(engine, deep, context)
            self.profile_block(
                lambda: engine.block(deep, context), bare, f"`{deep}` ({size} components)"
            )

    def profile_block(self, ours: Any, bare: Any, what: str) -> None:
        seconds = 0.5 if self.plan.mode == "smoke" else 3.0
        lines = [
            f"# Where `Engine.block` spends its time, in process: {what}",
            "",
            "Context: de-AT, region AT, role technician, segment installer-partner, customer and",
            "product data. The baseline renders the same compiled template with the keep/drop",
            "answers and the include HTML precomputed (see benchmarks/block.py).",
            "",
        ]
        try:
            from pyinstrument import Profiler
        except ImportError:
            Profiler = None
        if Profiler is not None:
            profiler = Profiler(interval=0.0001)
            calls = 0
            profiler.start()
            end = time.perf_counter() + seconds
            while time.perf_counter() < end:
                ours()
                calls += 1
            profiler.stop()
            lines += [
                f"## ours, pyinstrument ({calls} blocks in {seconds:g} s, under the profiler)",
                "",
                "```",
                profiler.output_text(unicode=True, color=False, short_mode=False).rstrip(),
                "```",
                "",
            ]
        for side, fn in (("ours", ours), ("bare", bare)):
            profile = cProfile.Profile()
            calls = 0
            end = time.perf_counter() + seconds / 2
            profile.enable()
            while time.perf_counter() < end:
                fn()
                calls += 1
            profile.disable()
            lines += [
                f"## {side}, cProfile top 20 by own time ({calls} calls under the profiler)",
                "",
                *top_functions(pstats.Stats(profile), 20, "own"),
                "",
            ]
        (self.profiles / "block_inprocess.txt").write_text("\n".join(lines), encoding="utf-8")

    # --- 2. block over HTTP ----------------------------------------------------------------

    def bench_http(self) -> None:
        if not http_block.wrk_available():
            self.notes.append("http: not run, wrk is not installed (`apt-get install -y wrk`)")
            log("http: wrk missing, skipped")
            return
        plan = self.plan
        deep, _ = self.components()
        db_url = self.synthetic_db(plan.sizes[0])
        key = http_block.cli_key(db_url)
        path = f"/v1/blocks/{deep}?locale=de-AT&region=AT&role=technician&segment=installer-partner"
        for workers in plan.http_workers:
            runs = plan.http_runs
            result = http_block.compare(
                db_url,
                key,
                path,
                self.work,
                workers=workers,
                runs=runs,
                seconds=plan.http_seconds,
                warmup=plan.http_warmup,
                connections=plan.http_connections,
            )
            label = f"2. GET block over HTTP, {workers} worker{'s' if workers > 1 else ''}"
            rps = result.median("ours", "rps"), result.median("bare", "rps")
            self.rows += [
                Row(
                    f"{label}: throughput",
                    rps[0],
                    rps[1],
                    kind="rate",
                    unit="req/s",
                    baseline_name="bare FastAPI",
                    target=(">=", 0.70),
                ),
                Row(
                    f"{label}: p50 latency",
                    result.median("ours", "p50"),
                    result.median("bare", "p50"),
                    baseline_name="bare FastAPI",
                ),
                Row(
                    f"{label}: p99 latency",
                    result.median("ours", "p99"),
                    result.median("bare", "p99"),
                    baseline_name="bare FastAPI",
                    target=("<=", 2.0),
                ),
            ]
            routed = f"{label}, full route (a never-seen `at`: no stored answer matches)"
            self.rows += [
                Row(
                    f"{routed}: throughput",
                    result.median("routed", "rps"),
                    rps[1],
                    kind="rate",
                    unit="req/s",
                    baseline_name="bare FastAPI",
                    target=(">=", 0.70),
                ),
                Row(
                    f"{routed}: p99 latency",
                    result.median("routed", "p99"),
                    result.median("bare", "p99"),
                    baseline_name="bare FastAPI",
                    target=("<=", 2.0),
                ),
            ]
            if result.rss_ours is not None:
                self.rows.append(
                    Row(
                        f"{label}: server RSS after the load ({plan.sizes[0]} components)",
                        result.rss_ours,
                        result.rss_bare,
                        kind="mem",
                        baseline_name="bare FastAPI",
                    )
                )
            if result.bad():
                self.notes.append(
                    f"http {workers}w: {result.bad()} non-2xx responses or socket errors"
                )
        self.notes.append(
            f"http: wrk -t1 -c{plan.http_connections}, {plan.http_runs} alternating runs of "
            f"{plan.http_seconds:g} s per server after {plan.http_warmup:g} s warm-up "
            "(each worker count); both servers uvicorn with httptools, ours on `serve`'s "
            "default loop (asyncio's for 1 worker, uvloop's for 2), the bare one on uvloop "
            "(uvicorn's when installed), loopback; the bare route answers the same bytes and "
            "headers"
        )
        self.bench_customer()
        http_block.profile(
            db_url,
            key,
            path,
            self.work,
            self.profiles / "block_http.txt",
            seconds=plan.profile_seconds,
            warmup=plan.http_warmup,
            connections=plan.http_connections,
        )

    def bench_customer(self) -> None:
        """One customer's block, a new customer every request, vs a hand-written route."""
        from benchmarks import customer_block

        plan = self.plan
        url = self.sample_engine_db()
        result = customer_block.compare(
            url,
            http_block.cli_key(url),
            self.work,
            runs=plan.http_runs,
            seconds=plan.http_seconds,
            warmup=plan.http_warmup,
            connections=plan.http_connections,
        )
        label = (
            f"2. POST /v1/blocks `{customer_block.COMPONENT}`, a new customer each request, "
            "1 worker"
        )
        uvloop = f"{label}, ours under `serve --loop uvloop`"

        def row(name: str, side: str, measure: str, target: tuple[str, float] | None) -> Row:
            rate = measure == "rps"
            return Row(
                name,
                result.median(side, measure),
                result.median("bare", measure),
                kind="rate" if rate else "time",
                unit="req/s" if rate else "",
                baseline_name="hand-written FastAPI route",
                target=target,
            )

        self.rows += [
            row(f"{label}: throughput", "ours", "rps", (">=", 1.0)),
            row(f"{label}: p50 latency", "ours", "p50", None),
            row(f"{label}: p99 latency", "ours", "p99", ("<=", 2.0)),
            row(f"{uvloop}: throughput", "uvloop", "rps", None),
            row(f"{uvloop}: p99 latency", "uvloop", "p99", None),
        ]
        if result.bad():
            self.notes.append(f"customer: {result.bad()} non-2xx responses or socket errors")
        self.notes.append(
            "customer: the same wrk settings; each request a JSON body with a customer and "
            "product never sent before (wrk Lua script); the baseline (`customer_app.py`) parses "
            "it with pydantic and renders the same body with Jinja2 and Babel, `async def`, "
            "without key check, selection, inline conditions, budgets or sandbox"
        )

    # --- 3. PDF ----------------------------------------------------------------------------

    def sample_engine_db(self) -> str:
        url = self.db_url("sample")
        if not (self.work / "sample.db").exists():
            from content_engine import Engine, Settings

            with Engine(Settings(db_url=url, home=ROOT)) as engine:
                engine.import_library(ROOT / "components")
        return url

    def bench_pdf(self) -> None:
        from benchmarks.pdf import BareRenderer, count_pages, page_inputs
        from content_engine import Context, Engine, Settings

        url = self.sample_engine_db()
        context = Context(locale="de-AT", region="AT", role="buyer", segments=("residential",))
        with Engine(Settings(db_url=url, home=ROOT)) as engine:
            engine.render(PUBLICATION, context, format="pdf")  # warm: fonts, stylesheets
            inputs = page_inputs(engine, PUBLICATION, context)
            bare = BareRenderer(inputs)
            pages = count_pages(bare.render())
            ours_pdf = engine.render(PUBLICATION, context, format="pdf").content
            if count_pages(ours_pdf) != pages:
                self.notes.append("pdf: our PDF and the bare one differ in page count")
            ours_s: list[float] = []
            bare_s: list[float] = []
            for _ in range(self.plan.pdf_repeat):
                for fn, out in (
                    (lambda: engine.render(PUBLICATION, context, format="pdf"), ours_s),
                    (bare.render, bare_s),
                ):
                    out.append(median_seconds(fn, 1))
        ours, base = _median(ours_s), _median(bare_s)
        self.pdf_seconds = ours
        self.rows.append(
            Row(
                f"4. PDF `{PUBLICATION}` warm in process, per page ({pages} pages)",
                ours / pages,
                base / pages,
                baseline_name="bare WeasyPrint",
                target=("<=", 1.10),
            )
        )
        log(f"pdf warm: ours {ours:.3f} s, bare {base:.3f} s for {pages} pages")
        self.bench_pdf_cold(inputs, context)

    def bench_pdf_cold(self, inputs: Any, context: Any) -> None:
        folder = self.work / "cold-page"
        inputs.save(folder)
        url = self.sample_engine_db()
        ours_cmd = [
            *console_script("content-engine"),
            "render",
            PUBLICATION,
            "--locale",
            context.locale,
            "--region",
            context.region,
            "--role",
            context.role,
            "--segment",
            "residential",
            "--format",
            "pdf",
            "-o",
            str(self.work / "cold-ours.pdf"),
            "--db",
            url,
        ]
        bare_cmd = [sys.executable, "-m", "benchmarks.pdf", str(folder), str(self.work / "b.pdf")]
        ours_s: list[float] = []
        bare_s: list[float] = []
        for _ in range(self.plan.cold_repeat):
            for cmd, out, name in ((ours_cmd, ours_s, "ours"), (bare_cmd, bare_s, "bare")):
                logfile = self.work / f"cold-{name}.log"
                seconds, code = run_timed(cmd, timeout=120, log=logfile)
                if code != 0:
                    raise RuntimeError(f"cold {name} render failed ({code}):\n{tail(logfile)}")
                out.append(seconds)
        self.rows.append(
            Row(
                f"4. PDF `{PUBLICATION}` cold: one `content-engine render --format pdf` process",
                _median(ours_s),
                _median(bare_s),
                baseline_name="python + bare WeasyPrint",
            )
        )

    # --- 4. batch --------------------------------------------------------------------------

    def bench_batch(self) -> None:
        from benchmarks.pdf import batch_lines

        plan = self.plan
        lines = plan.batch_lines
        per_doc = self.pdf_seconds or 0.6
        stall = max(30.0, 15 * per_doc)

        def estimate(n: int) -> float:
            return n * per_doc * (1 + 1 / 1.7) + 15 + (2 * stall if n > 100 else 0)

        keep = self._reserve("batch")
        if not self.budget.allows(estimate(lines), keep) and plan.mode == "full":
            fitting = int((self.budget.left - keep - 15 - 2 * stall) / (per_doc * (1 + 1 / 1.7)))
            lines = max(20, fitting)
            self.notes.append(
                f"batch: {lines} lines instead of {plan.batch_lines} to stay in the time budget"
            )
        contexts = self.work / "contexts.jsonl"
        contexts.write_text("\n".join(batch_lines(lines)) + "\n", encoding="utf-8")
        url = self.sample_engine_db()
        throughput: dict[int, float] = {}
        problems = []
        for workers in (1, 2):
            out = self.work / f"batch-{workers}"
            cmd = [
                *console_script("content-engine"),
                "batch",
                PUBLICATION,
                "--contexts",
                str(contexts),
                "--out",
                str(out),
                "--format",
                "pdf",
                "--workers",
                str(workers),
                "--db",
                url,
            ]
            logfile = self.work / f"batch-{workers}.log"
            run = watch_batch(cmd, out, logfile, stall=stall, timeout=max(60, 3 * estimate(lines)))
            failures_file = out / "failures.jsonl"
            failures = len(failures_file.read_text().splitlines()) if failures_file.exists() else 0
            if run.stalled:
                problems.append(
                    f"{workers} worker{'s' if workers > 1 else ''} stopped making progress after "
                    f"{run.written} of {lines} documents (no new PDF for {stall:.0f} s; the "
                    "process was killed; throughput counts the documents done until then). "
                    "If it stopped at a multiple of batch.TASKS_PER_WORKER: Python 3.11's "
                    "ProcessPoolExecutor does not replace a worker that exits at "
                    "max_tasks_per_child while work is queued (CPython gh-115634)"
                )
            elif run.code != 0 or run.written != lines or failures:
                problems.append(
                    f"{workers}w: exit {run.code}, {run.written} of {lines} written, {failures} "
                    "failures: " + tail(logfile, 3).replace("\n", " / ")
                )
            throughput[workers] = run.written / run.seconds if run.seconds else 0.0
            log(
                f"batch {workers}w: {run.written} PDFs in {run.seconds:.1f} s, {failures} failures"
                + (" (stalled)" if run.stalled else "")
            )
        self.notes += [f"batch: {p}" for p in problems]
        self.rows.append(
            Row(
                f"5. batch of {lines} PDF{'s' if lines > 1 else ''}, 2 workers vs 1 (documents/s)",
                throughput[2],
                throughput[1],
                kind="rate",
                unit="docs/s",
                baseline_name="1 worker",
                target=(">=", 1.7),
                note=f"{os.cpu_count()} cores"
                + ("; **did not finish**, see notes" if problems else "; 0 failures"),
            )
        )

    # --- 5. the per-customer path: data sources -------------------------------------------

    def bench_lookup(self) -> None:
        from benchmarks import lookups
        from content_engine import Engine, Settings

        plan = self.plan
        managed, service_url = lookups.start_service(self.work)
        with managed as proc:
            lookups.wait_up(f"{service_url}/stats", proc, self.work / "customer-service.log")
            setup = lookups.prepare(self.work, service_url)
            settings = Settings(db_url=setup.db_url, home=ROOT, sources=str(setup.sources))
            with Engine(settings) as engine:
                a = lookups.in_process(engine, service_url, setup.crm, plan.lookup_repeat)
            log(
                f"lookup in process: {a.lookup * 1e3:.2f} ms from a serial, inline "
                f"{a.inline * 1e3:.2f} ms + bare sources {a.bare_sources * 1e3:.2f} ms; "
                f"overhead {a.overhead * 1e3:.2f} ms"
            )
            b = lookups.over_http(
                setup.db_url,
                setup.sources,
                service_url,
                self.work,
                requests=plan.lookup_requests,
                rounds=plan.lookup_rounds,
            )
        latency = lookups.LATENCY
        n = b.requests
        self.rows += [
            Row(
                "6. block from a serial number (SQLite CRM, then an HTTP source answering after "
                f"{latency * 1e3:.0f} ms) vs the same block with the data inline + the sources' "
                "own calls made bare",
                a.lookup,
                a.inline + a.bare_sources,
                baseline_name="inline + bare calls",
                note=f"inline block {a.inline * 1e3:.2f} ms, bare calls "
                f"{a.bare_sources * 1e3:.2f} ms; {a.samples} samples",
            ),
            Row(
                "6. its overhead past the sources' own latency (median of paired samples) vs "
                "the issue's 2 ms",
                a.overhead,
                0.002,
                baseline_name="allowed",
                target=("<=", 1.0),
            ),
            Row(
                f"6. {n} concurrent GET block over HTTP, {n} different serials, source latency "
                f"{latency * 1e3:.0f} ms: wall time vs {n} concurrent GETs at the source itself",
                b.ours,
                b.source_batch,
                baseline_name="one batch of source calls",
                target=("<=", 3.0),
                note=f"{b.calls_per_burst} calls at the source per burst; median of {b.rounds}"
                + (f"; **{b.bad} answers not 200**" if b.bad else ""),
            ),
            Row(
                f"6. the same burst vs {n} source calls in a row",
                b.ours,
                n * latency,
                baseline_name=f"{n} × {latency * 1e3:.0f} ms",
            ),
            Row(
                f"6. {n} concurrent identical lookups over HTTP, `cache_ttl: 60`: calls at the "
                "source",
                float(max(b.cached_calls)),
                float(n),
                kind="plain",
                unit="calls",
                baseline_name="requests",
                target=("<=", 1 / n),
                note="per burst: " + ", ".join(str(c) for c in b.cached_calls),
            ),
            Row(
                f"6. {n} concurrent identical lookups over HTTP, `cache_ttl: 0` (coalescing "
                "alone): calls at the source",
                float(max(b.identical_calls)),
                float(n),
                kind="plain",
                unit="calls",
                baseline_name="requests",
                note="per burst: "
                + ", ".join(str(c) for c in b.identical_calls)
                + f"; a call is shared while it runs ({latency * 1e3:.0f} ms), and the server "
                f"takes the burst's whole time (~{b.ours * 1e3:.0f} ms) to start them all",
            ),
        ]
        self.notes.append(
            f"lookup: the customer service is a threaded Python HTTP server in its own process "
            f"sleeping {latency * 1e3:.0f} ms per answer; `serve` 1 worker; the client is one "
            "asyncio httpx client with every connection opened before the burst"
        )

    # --- 6. scale --------------------------------------------------------------------------

    def bench_scale(self) -> None:
        plan = self.plan
        deep, _ = self.components()
        measured: dict[int, dict[str, Any]] = {}
        spent: dict[int, float] = {}
        for size in plan.sizes:
            if measured:
                last = max(measured)
                # Generating, storing and loading grow with the size (linearly, or worse);
                # process start-up and the block timing do not.
                m = measured[last]
                growing = self.build_seconds[last] + m["load_s"] + m["bare_read_s"]
                fixed = max(0.0, spent[last] - growing)
                estimate = growing * size / last * 1.2 + fixed + 10
                keep = self._reserve("scale")
                if not self.budget.allows(estimate, keep):
                    self.notes.append(
                        f"scale: {size} components not run: estimated {estimate:.0f} s "
                        f"(from {last}), {self.budget.left - keep:.0f} s of the budget left; "
                        f"run `python -m benchmarks.run --only scale` alone for it"
                    )
                    self.rows.append(
                        Row(f"3. block at {size:,} components", None, None, note="not run")
                    )
                    break
            start = time.perf_counter()
            url = self.synthetic_db(size)
            measured[size] = self.worker(
                "measure",
                "--db",
                url,
                "--component",
                deep,
                "--repeat",
                str(plan.block_repeat),
                timeout=900,
                name=f"measure-{size}",
            )
            spent[size] = time.perf_counter() - start
            m = measured[size]
            log(
                f"scale {size}: load {m['load_s']:.1f} s, block {m['block_ours'] * 1e6:.1f} µs, "
                f"RSS {m['rss_loaded'] / 2**20:.0f} MiB"
            )
            self._drop_db(size)
        smallest = plan.sizes[0]
        base = measured[smallest]
        for size, m in measured.items():
            if size == smallest:
                continue
            # The same bare render in both processes shows how much of a difference is the
            # machine's mood rather than the library's size.
            drift = (m["block_ours"] / m["block_bare"]) / (base["block_ours"] / base["block_bare"])
            self.rows.append(
                Row(
                    f"3. block `{deep}` at {size:,} vs {smallest:,} components",
                    m["block_ours"],
                    base["block_ours"],
                    baseline_name=f"at {smallest:,}",
                    target=("<=", 1.3) if size >= 100 * smallest else None,
                    note=f"bare render {m['block_bare'] * 1e6:.1f} vs "
                    f"{base['block_bare'] * 1e6:.1f} µs; relative to it {drift:.2f}×",
                )
            )
        for size, m in measured.items():
            self.rows.append(
                Row(
                    f"3. engine process RSS, {size:,} components loaded",
                    m["rss_loaded"],
                    m["rss_before"],
                    kind="mem",
                    baseline_name="same process before the engine",
                    note=_against(m["rss_loaded"], RSS_TARGET, "mem") if size >= 100_000 else "",
                )
            )
        for size, m in measured.items():
            self.rows.append(
                Row(
                    f"3. start to first block answered, {size:,} components (open the engine, "
                    "load, compile what the block needs)",
                    m["first_block_s"],
                    m["bare_read_s"],
                    baseline_name="sqlite3 reads every row",
                    note=_against(m["first_block_s"], START_TARGET, "time")
                    if size >= 100_000
                    else "",
                )
            )
        for size, m in measured.items():
            self.rows.append(
                Row(
                    f"3. full garbage collection, {size:,} components loaded (library frozen "
                    "out of the collector's sight)",
                    m["gc_loaded_s"],
                    m["gc_before_s"],
                    baseline_name="same process before the engine",
                    note=f"{m['gc_unfrozen_s'] * 1e3:.0f} ms with the library unfrozen",
                )
            )
        for size, m in measured.items():
            self.rows.append(
                Row(
                    f"3. load {size:,} components into a fresh engine",
                    m["load_s"],
                    m["bare_read_s"],
                    baseline_name="sqlite3 reads every row",
                    note=f"generated and stored with `Repository.import_library` in "
                    f"{self.build_seconds[size]:.1f} s",
                )
            )
        for size, m in measured.items():
            self.rows.append(
                Row(
                    f"3. another writer publishes one variant at {size:,} components: the "
                    "engine's refresh (reads what changed) vs loading the whole library",
                    m["publish_refresh_s"],
                    m["load_s"],
                    baseline_name="whole load, above",
                )
            )

    def _drop_db(self, size: int) -> None:
        # The larger databases take gigabytes of a tmpfs; block/http keep the smallest.
        if size != self.plan.sizes[0] and size in self.dbs:
            with contextlib.suppress(OSError):
                Path(self.dbs.pop(size).removeprefix("sqlite:///")).unlink()

    # --- 7. import from files --------------------------------------------------------------

    def bench_import(self) -> None:
        plan = self.plan
        probe = self.import_files(plan.import_probe)
        # The shared snippets come on top of every size.
        per_component = probe["import_s"] / (plan.import_probe + SNIPPETS)
        self.rows.append(
            Row(
                f"3. import {plan.import_probe:,} components from files (`Engine.import_library`)",
                probe["import_s"],
                probe["bare_read_s"],
                baseline_name="read every file",
            )
        )
        target = plan.import_target
        estimate = per_component * (target + SNIPPETS) * 1.15 + 10
        if target <= plan.import_probe:
            return
        if self.budget.allows(estimate):
            real = self.import_files(target, timeout=max(60, 2 * estimate))
            self.rows.append(
                Row(
                    f"3. import {target:,} components from files (`Engine.import_library`)",
                    real["import_s"],
                    real["bare_read_s"],
                    baseline_name="read every file",
                    note=_against(real["import_s"], IMPORT_TARGET, "time")
                    if target >= 10_000
                    else "",
                )
            )
        else:
            self.rows.append(
                Row(
                    f"3. import {target:,} components from files (`Engine.import_library`)",
                    per_component * (target + SNIPPETS),
                    None,
                    approx=True,
                    note=f"projected from {plan.import_probe:,}, not run: "
                    f"~{estimate:.0f} s > {self.budget.left:.0f} s left",
                )
            )

    def import_files(self, size: int, timeout: float = 600) -> dict[str, Any]:
        from benchmarks.synth import make_library, write_folder

        folder = self.work / f"folder-{size}"
        if not folder.exists():
            write_folder(make_library(size), folder)
        result = self.worker(
            "import-files",
            "--folder",
            str(folder),
            "--db",
            self.db_url(f"import-{size}"),
            timeout=timeout,
            name=f"import-{size}",
        )
        log(f"import {size} from files: {result['import_s']:.1f} s ({result['summary']})")
        shutil.rmtree(folder, ignore_errors=True)
        return result

    # --- 7. a publish seen by another server --------------------------------------------------

    def bench_listen(self) -> None:
        from benchmarks import listen

        name = "6. a publish on one server seen by another"
        admin = listen.pg_admin_url()
        if admin is None:
            self.rows.append(Row(f"{name} (PostgreSQL)", None, None, note="not run"))
            self.notes.append("listen: not run, no PostgreSQL server answered")
            return
        n = self.plan.listen_publishes
        with listen.scratch_pg(admin) as pg_url:
            pushed = listen.measure(pg_url, 30, n, self.work)
        polled = listen.measure(self.db_url("listen-poll"), 0.5, n, self.work)
        log(
            f"listen: NOTIFY p50 {pushed.p50 * 1e3:.1f} ms p99 {pushed.p99 * 1e3:.1f} ms; "
            f"polling p50 {polled.p50 * 1e3:.1f} ms p99 {polled.p99 * 1e3:.1f} ms"
        )
        baseline = "polling every 0.5 s"
        self.rows += [
            Row(f"{name}: p50", pushed.p50, polled.p50, baseline_name=baseline),
            Row(
                f"{name}: p99",
                pushed.p99,
                polled.p99,
                baseline_name=baseline,
                note=f"target ≤ 100 ms: {'met' if pushed.p99 <= 0.1 else '**not met**'}",
            ),
        ]
        self.notes.append(
            f"listen: {n} publishes through one `serve`, 50 ms apart, a reader asking another "
            "every 2 ms; ours on PostgreSQL with `--refresh 30` (only NOTIFY explains a fast "
            "update), the baseline two servers on SQLite polling every 0.5 s (`--refresh 0.5`: "
            "a check every 0.25 s)"
        )

    # --- 8. queue --------------------------------------------------------------------------

    def bench_queue(self) -> None:
        from benchmarks import queue

        name = "8. campaign on a task queue (Redis), 2 workers vs 1 (documents/s)"
        url = os.environ.get("CONTENT_ENGINE_BENCH_QUEUE", queue.DEFAULT_QUEUE)
        if not queue.reachable(url):
            self.rows.append(Row(name, None, None, note="not run"))
            self.notes.append(f"queue: not run, no broker answered at {url}")
            return
        db_url = queue.prepare(self.work)
        count = self.plan.queue_contexts
        # Seconds per document with one worker (11 ms measured on a loaded 2-core machine);
        # both runs take about 1.6 times the one-worker run; 20 s of set-up.
        per_doc = 0.012
        estimate = count * per_doc * 1.6 + 60  # and the PDFs' rows
        if self.plan.mode == "full" and not self.budget.allows(estimate):
            count = max(500, int((self.budget.left - 20) / (per_doc * 1.6)))
            self.notes.append(
                f"queue: {count} contexts instead of {self.plan.queue_contexts} to stay in the "
                "time budget (`python -m benchmarks.run --only queue` runs them all)"
            )
        # The 10 k HTML letters (the row), then PDFs, whose render outweighs what the
        # queue costs per task: the ratio the cores allow when rendering dominates.
        pdfs = max(4, self.plan.queue_contexts // 25)
        for fmt, n, target in (("html", count, 1.8), ("pdf", pdfs, None)):
            runs = {w: queue.measure(url, db_url, w, n, self.work, fmt) for w in (1, 2)}
            problems = [
                f"{fmt} {w}w: exit {r.code}, {r.written} of {n} written, {r.failures} failures"
                for w, r in runs.items()
                if r.code != 0 or r.written != n or r.failures
            ]
            for w, r in runs.items():
                log(f"queue {fmt} {w}w: {r.written} documents in {r.seconds:.1f} s")
            self.notes += [f"queue: {p}" for p in problems]
            self.rows.append(
                Row(
                    f"{name}, {n:,} {fmt.upper()} contexts",
                    runs[2].rate,
                    runs[1].rate,
                    kind="rate",
                    unit="docs/s",
                    baseline_name="1 worker",
                    target=(">=", target) if target else None,
                    note=f"{os.cpu_count()} cores"
                    + ("; **did not finish**, see notes" if problems else "; 0 failures"),
                )
            )
        self.notes.append(
            "queue: from starting `batch --queue` to its end (reading the lines, queueing every "
            "task, rendering, every result back); workers started and warmed before; the broker "
            "(redis-server) and `batch` itself share the 2 cores with the workers"
        )

    def _reserve(self, stage: str) -> float:
        """Seconds to keep for the stages after ``stage`` (their smallest useful run)."""
        later = STAGES[STAGES.index(stage) + 1 :]
        rough = {
            "batch": 60.0,
            "lookup": 30.0,
            "scale": 40.0,
            "import": 20.0,
            "listen": 40.0,
            "queue": 60.0,
        }
        return sum(rough.get(s, 0.0) for s in later) if self.plan.mode == "full" else 0.0


@dataclass
class BatchRun:
    seconds: float  # to the end, or to the last document written if it stalled
    written: int
    code: int | None
    stalled: bool


def watch_batch(
    cmd: list[str], out: Path, logfile: Path, *, stall: float, timeout: float
) -> BatchRun:
    """Run a batch, watching its output folder: a batch that writes nothing new for ``stall``
    seconds is ended (a pool that lost its workers waits forever)."""

    def written() -> int:
        with contextlib.suppress(FileNotFoundError):
            return sum(1 for name in os.listdir(out) if name.endswith(".pdf"))
        return 0

    start = time.perf_counter()
    count, changed = 0, start
    with process(cmd, log=logfile) as proc:
        while True:
            code = proc.poll()
            now = time.perf_counter()
            current = written()
            if current != count:
                count, changed = current, now
            if code is not None:
                return BatchRun(now - start, current, code, False)
            if now - changed > stall or now - start > timeout:
                return BatchRun(changed - start, count, None, True)
            time.sleep(0.25)


# The absolute targets for 100 k components loaded and a first import of 10 k.
RSS_TARGET = 600 * 2**20
START_TARGET = 5.0
IMPORT_TARGET = 20.0


def _against(value: float, target: float, kind: str) -> str:
    """A note judging ``value`` against an absolute target (the ratios judge the rest)."""
    verdict = "met" if value <= target else f"not met ({value / target:.1f}× the target)"
    return f"target ≤ {fmt_value(target, kind)}: {verdict}"


def _median(values: list[float]) -> float:
    import statistics

    return statistics.median(values)


@contextlib.contextmanager
def watchdog(seconds: float) -> Iterator[None]:
    """Whatever hangs, the run ends: an exception after ``seconds`` unwinds and cleans up."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"the benchmark run took over {seconds:.0f} s and was stopped")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(int(seconds))
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def work_folder(explicit: Path | None) -> Path:
    """A scratch folder, on tmpfs where there is one: the suite times the engine, not the disk
    (deleting 10 k component folders from this VM's disk took 80 s)."""
    if explicit is not None:
        explicit.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix="ce-bench-", dir=explicit))
    shm = Path("/dev/shm")
    if shm.is_dir() and shutil.disk_usage(shm).free > 8 * 2**30:
        return Path(tempfile.mkdtemp(prefix="ce-bench-", dir=shm))
    return Path(tempfile.mkdtemp(prefix="ce-bench-"))


def machine_notes(work: Path) -> list[str]:
    import weasyprint

    from content_engine.rendering.pdf import harfbuzz_subset_available

    try:
        head = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        head = "unknown"
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"machine: {os.cpu_count()} cores, load average {load} at the start; Python "
        f"{platform.python_version()}, WeasyPrint {weasyprint.__version__}, HarfBuzz subsetting "
        f"{'yes' if harfbuzz_subset_available() else 'NO'}; commit {head}; work files on "
        f"{'tmpfs' if str(work).startswith('/dev/shm') else 'disk'}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="a small run for iterating")
    size.add_argument("--smoke", action="store_true", help="a tiny run: does the suite work?")
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(STAGES)}")
    parser.add_argument("--append", action="store_true", help="append the table to RESULTS.md")
    parser.add_argument("--budget", type=float, help="seconds the run may take (estimates)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument("--profiles", type=Path, help=f"profile folder (default {PROFILES})")
    parser.add_argument("--workdir", type=Path, help="scratch folder (default tmpfs)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args(argv)

    plan = SMOKE if args.smoke else QUICK if args.quick else FULL
    if args.budget:
        plan = replace(plan, budget=args.budget)
    stages = STAGES if not args.only else tuple(s.strip() for s in args.only.split(","))
    unknown = set(stages) - set(STAGES)
    if unknown:
        parser.error(f"unknown benchmark {sorted(unknown)[0]!r}: use {', '.join(STAGES)}")
    work = work_folder(args.workdir)
    profiles = args.profiles or PROFILES
    profiles.mkdir(parents=True, exist_ok=True)
    suite = Suite(plan, work, profiles)
    suite.notes += machine_notes(work)
    started = datetime.now(UTC)
    failed: list[str] = []
    log(f"{plan.mode} run, budget {plan.budget:.0f} s, scratch {work}")
    try:
        with watchdog(plan.budget * 1.5 + 120):
            for stage in STAGES:
                if stage not in stages:
                    continue
                load = os.getloadavg()[0]
                suite.loads.append(f"{stage} {load:.1f}")
                log(f"--- {stage} ({suite.budget.elapsed:.0f} s elapsed, load average {load:.1f})")
                try:
                    getattr(suite, f"bench_{stage}")()
                except (RuntimeError, AssertionError, OSError, subprocess.SubprocessError) as exc:
                    failed.append(stage)
                    suite.notes.append(f"{stage}: FAILED: {exc}".replace("\n", " / ")[:600])
                    log(f"{stage} failed: {exc}")
    finally:
        if args.keep:
            log(f"scratch kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    elapsed = suite.budget.elapsed
    suite.notes.append(
        "load average (1 min) when each benchmark started: "
        + ", ".join(suite.loads)
        + f"; {os.getloadavg()[0]:.1f} at the end (2 = both cores busy with something)"
    )
    suite.notes.append(
        f"total runtime {elapsed:.0f} s ({plan.mode} run, budget {plan.budget:.0f} s)"
    )
    title = f"## {started:%Y-%m-%d %H:%M} UTC, {plan.mode} run" + (
        f" ({', '.join(stages)})" if args.only else ""
    )
    text = "\n".join(["", title, "", *table(suite.rows), "", *(f"- {n}" for n in suite.notes), ""])
    print(text)
    if args.json:
        data = {"rows": [r.as_dict() for r in suite.rows], "notes": suite.notes, "failed": failed}
        args.json.write_text(json.dumps(data, indent=2), encoding="utf-8")
    if args.append:
        with RESULTS.open("a", encoding="utf-8") as fh:
            fh.write(text)
        log(f"appended to {RESULTS}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
