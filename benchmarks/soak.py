"""Soak: a real ``content-engine serve`` under a bounded, mixed loopback load for minutes.

The server runs on a fresh SQLite database holding the sample library (``components/``) plus a
few components the soak creates through the API. Concurrent clients then, until the time is up:

- readers GET blocks for varied readers (locales, roles, regions; HTML or JSON; revalidation
  with ``If-None-Match``);
- renderers POST ``/v1/render`` (html, every so often pdf) and fetch each render's receipt;
- a lockstep writer moves ``soak.a`` and then ``soak.b`` to revision n, again and again, while
  a publisher saves drafts of ``soak.c`` and publishes them, and two contenders race their
  writes on ``soak.d`` (412 is the expected answer for the loser).

The publication ``soak.lockstep`` shows A, B, A. A render assembled from one snapshot of the
library shows the same revision in both copies of A and B equal to A or one behind it (A is
always written first); a torn read would show anything else. Every receipt must carry the
SHA-256 of the bytes that were sent and the versions whose markers the document shows.

Measured: requests and errors (any 5xx, any 4xx that was not expected, any transport error),
latency percentiles per route, and the server's RSS (process and children) every few seconds.
Fails (exit 1) on any error, any torn or mismatched render, or RSS growth of 10 % or more
between the end of the warm-up (the first 20 % of the run) and the end.

Run: ``make soak`` or ``.venv/bin/python benchmarks/soak.py [--duration 120] [--record]``;
``--record`` appends the figures to ``benchmarks/RESULTS.md``. Loopback only; it stops by
itself after ``--duration`` seconds or ``--max-requests`` requests, whichever comes first.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
import psutil

from content_engine import Engine, Settings

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "components"
RESULTS = Path(__file__).with_name("RESULTS.md")
MAX_GROWTH = 0.10
WARM_UP = 0.20
MARKER = re.compile(r"(soak\.[ab]) rev (\d+)")
MARKS = ("soak.a", "soak.b")  # the lockstep pair, always written in this order

# Varied readers of the sample library's blocks: (component, query parameters).
READS: list[tuple[str, dict[str, str]]] = [
    ("product.hp200.overview", {"locale": "de-AT", "region": "AT", "role": "buyer"}),
    ("product.hp200.overview", {"locale": "en", "region": "US", "role": "buyer"}),
    ("product.hp200.overview", {"locale": "fr", "region": "FR", "role": "technician"}),
    ("product.hp200.specs", {"locale": "en-US", "region": "US"}),
    ("product.hp200.specs", {"locale": "de", "region": "DE", "channel": "print"}),
    ("snippet.hotline", {"locale": "de-CH", "region": "CH"}),
    ("snippet.hotline", {"locale": "en", "region": "GB"}),
    ("legal.warranty", {"locale": "fr", "region": "FR"}),
    ("legal.warranty", {"locale": "de-AT", "region": "AT", "segment": "enterprise"}),
    ("docs.safety", {"locale": "de", "region": "DE", "role": "technician"}),
    ("docs.hp200.maintenance", {"locale": "en", "region": "US", "role": "technician"}),
    ("brochure.hp200.cover", {"locale": "de-AT", "region": "AT", "role": "buyer"}),
]
RENDER_CONTEXT = {"locale": "en", "region": "US", "role": "buyer"}
LOCKSTEP_SLOTS = [
    {"component": "soak.a", "required": True},
    {"component": "soak.b", "required": True},
    {"component": "soak.a", "required": True},
    {"component": "soak.c", "required": True},
    {"component": "snippet.hotline"},
    {"component": "legal.warranty", "required": True},
]


# --- measuring -------------------------------------------------------------------------------


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    expected_conflicts: int = 0
    samples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def error(self, route: str, message: str) -> None:
        with self.lock:
            self.errors[route] += 1
            if len(self.samples) < 20:
                self.samples.append(f"{route}: {message}")


@dataclass
class RenderSeen:
    """What one render showed and what its receipt says, checked against the writer's log."""

    format: str
    shown: list[tuple[str, int]]
    receipt_versions: list[tuple[str, int]]


@dataclass
class Shared:
    stop: threading.Event = field(default_factory=threading.Event)
    # component -> version -> lockstep revision written at that version
    written: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(dict))
    renders: list[RenderSeen] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    rss: list[tuple[float, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def problem(self, message: str) -> None:
        with self.lock:
            self.problems.append(message)


class Client:
    """One client's connection: every request timed under a route label and judged."""

    def __init__(self, base: str, key: str, stats: Stats, budget: Budget) -> None:
        self.http = httpx2.Client(
            base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60
        )
        self.stats, self.budget = stats, budget

    def close(self) -> None:
        self.http.close()

    def call(
        self,
        route: str,
        method: str,
        url: str,
        expect: frozenset[int] = frozenset({200}),
        **kwargs: Any,
    ) -> httpx2.Response | None:
        self.budget.take()
        start = time.perf_counter()
        try:
            response = self.http.request(method, url, **kwargs)
        except httpx2.HTTPError as exc:
            self.stats.error(route, f"{type(exc).__name__}: {exc}")
            return None
        elapsed = time.perf_counter() - start
        with self.stats.lock:
            self.stats.latencies[route].append(elapsed)
        if response.status_code not in expect:
            self.stats.error(route, f"{response.status_code} {response.text[:200]}")
            return None
        if response.status_code == 412:
            with self.stats.lock:
                self.stats.expected_conflicts += 1
        return response


class Budget:
    """The bound on the number of requests; the run stops when it is spent."""

    def __init__(self, limit: int, stop: threading.Event) -> None:
        self.left, self.stop, self.lock = limit, stop, threading.Lock()

    def take(self) -> None:
        with self.lock:
            self.left -= 1
            if self.left <= 0:
                self.stop.set()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- the server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def running_server(db_url: str, workdir: Path, workers: int) -> Iterator[tuple[str, int, Path]]:
    """``content-engine serve`` on a free loopback port; yields (url, pid, log), then stops it."""
    port = free_port()
    log = workdir / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTENT_ENGINE_")}
    env |= {"CONTENT_ENGINE_HOME": str(ROOT), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "content_engine", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--db", db_url, "--workers", str(workers)]
    with log.open("wb") as err:
        process = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=err
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise SystemExit(f"serve exited with {process.returncode}:\n{log.read_text()}")
            try:
                if httpx2.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"serve did not answer within 30 s:\n{log.read_text()}")
            time.sleep(0.1)
        yield url, process.pid, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def tree_rss(pid: int) -> int:
    process = psutil.Process(pid)
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return int(total)


# --- set-up through the API ------------------------------------------------------------------


def create_soak_content(editor: Client) -> None:
    """Components A, B (lockstep), C (stable + fresh drafts), D (contended), one publication."""
    create = {"If-None-Match": "*"}
    created = frozenset({201})
    for cid in ("soak.a", "soak.b", "soak.c", "soak.d"):
        component = {"type": "snippet", "title": f"Soak {cid[-1].upper()}", "tags": ["soak"]}
        editor.call(
            "setup", "PUT", f"/v1/components/{cid}", created, json=component, headers=create
        )
    variants = {
        ("soak.a", "main"): {"body": "<p>soak.a rev 0</p>"},
        ("soak.b", "main"): {"body": "<p>soak.b rev 0</p>"},
        ("soak.c", "stable"): {"body": "<p>Stable text of C.</p>"},
        ("soak.c", "fresh"): {"body": "<p>Fresh text of C, first draft.</p>", "priority": 1},
        ("soak.d", "main"): {"body": "<p>Contended D.</p>"},
    }
    for (cid, key), variant in variants.items():
        body = {"status": "published", **variant}
        path = f"/v1/components/{cid}/variants/{key}"
        editor.call("setup", "PUT", path, created, json=body, headers=create)
    publication = {"title": "Soak lockstep", "slots": LOCKSTEP_SLOTS}
    editor.call(
        "setup", "PUT", "/v1/publications/soak.lockstep", created, json=publication, headers=create
    )


# --- the clients -----------------------------------------------------------------------------


def reader(client: Client, shared: Shared, seed: int) -> None:
    rng = random.Random(seed)
    etags: dict[int, str] = {}
    while not shared.stop.is_set():
        index = rng.randrange(len(READS))
        component, params = READS[index]
        headers = {}
        if rng.random() < 0.3:
            headers["Accept"] = "application/json"
        elif index in etags and rng.random() < 0.3:
            headers["If-None-Match"] = etags[index]
        expect = frozenset({200, 304}) if "If-None-Match" in headers else frozenset({200})
        response = client.call(
            "GET /v1/blocks/{id}", "GET", f"/v1/blocks/{component}", expect, params=params,
            headers=headers,
        )  # fmt: skip
        if response is not None and "Accept" not in headers and response.status_code == 200:
            etags[index] = response.headers["ETag"]
        time.sleep(rng.uniform(0, 0.004))


def renderer(client: Client, agent: Client, shared: Shared, seed: int, pdf_every: int) -> None:
    rng = random.Random(seed)
    count = 0
    while not shared.stop.is_set():
        count += 1
        fmt = "pdf" if pdf_every and count % pdf_every == 0 else "html"
        publication = "soak.lockstep" if rng.random() < 0.8 or fmt == "pdf" else "brochure.hp200"
        body = {"publication": publication, "context": RENDER_CONTEXT, "format": fmt}
        response = client.call(f"POST /v1/render {fmt}", "POST", "/v1/render", json=body)
        if response is None:
            continue
        receipt_response = agent.call(
            "GET /v1/renders/{id}", "GET", f"/v1/renders/{response.headers['X-Render-Id']}"
        )
        if receipt_response is None:
            continue
        receipt = receipt_response.json()
        if hashlib.sha256(response.content).hexdigest() != receipt["sha256"]:
            shared.problem(f"render {receipt['id']}: sent bytes differ from the receipt's sha256")
        if publication == "soak.lockstep":
            check_lockstep(fmt, response.content, receipt, shared)
        time.sleep(rng.uniform(0, 0.01))


def check_lockstep(fmt: str, content: bytes, receipt: dict[str, Any], shared: Shared) -> None:
    """Both copies of A agree and B is A or one behind: one snapshot per document."""
    if fmt == "pdf":
        from pypdf import PdfReader

        text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    else:
        text = content.decode("utf-8")
    shown = [(component, int(rev)) for component, rev in MARKER.findall(text)]
    versions = [
        (b["component"], int(b["version"])) for b in receipt["blocks"] if b["component"] in MARKS
    ]
    seen = RenderSeen(fmt, shown, versions)
    names = [c for c, _ in shown]
    if names != ["soak.a", "soak.b", "soak.a"] or [c for c, _ in versions] != names:
        shared.problem(f"render {receipt['id']} ({fmt}): blocks {shown} vs receipt {versions}")
    else:
        (_, a), (_, b), (_, a2) = shown
        if a != a2 or a - b not in (0, 1):
            shared.problem(f"render {receipt['id']} ({fmt}) mixes revisions: {shown}")
    with shared.lock:
        shared.renders.append(seen)


def lockstep_writer(editor: Client, shared: Shared, pause: float) -> None:
    current = {"soak.a": 1, "soak.b": 1}
    with shared.lock:
        for component in MARKS:
            shared.written[component][1] = 0
    rev = 0
    while not shared.stop.is_set():
        rev += 1
        for component in MARKS:
            body = {"status": "published", "body": f"<p>{component} rev {rev}</p>"}
            response = editor.call(
                "PUT variant", "PUT", f"/v1/components/{component}/variants/main",
                json=body, headers={"If-Match": f'"{current[component]}"'},
            )  # fmt: skip
            if response is None:
                shared.problem(f"lockstep write of {component} rev {rev} failed; writer stops")
                return
            current[component] = response.json()["version"]
            with shared.lock:
                shared.written[component][current[component]] = rev
        time.sleep(pause)


def publisher(editor: Client, shared: Shared, pause: float) -> None:
    """Save a draft of C's fresh variant, then publish it: the draft is a working copy, so
    readers keep the fresh text last published until the new one is."""
    path = "/v1/components/soak.c/variants/fresh"
    n = 0
    while not shared.stop.is_set():
        n += 1
        got = editor.call("GET variant", "GET", path)
        if got is None:
            time.sleep(pause)
            continue
        draft = {"status": "draft", "priority": 1, "body": f"<p>Fresh text of C, draft {n}.</p>"}
        put = editor.call(
            "PUT variant", "PUT", path, json=draft, headers={"If-Match": got.headers["ETag"]}
        )
        if put is not None:
            editor.call(
                "POST publish", "POST", f"{path}/publish", headers={"If-Match": put.headers["ETag"]}
            )
        time.sleep(pause)


def contender(editor: Client, shared: Shared, name: str, seed: int) -> None:
    """Read D, then write it: against another contender, one of the two may get 412."""
    rng = random.Random(seed)
    path = "/v1/components/soak.d/variants/main"
    n = 0
    while not shared.stop.is_set():
        n += 1
        got = editor.call("GET variant", "GET", path)
        if got is not None:
            body = {"status": "published", "body": f"<p>D by {name}, write {n}.</p>"}
            editor.call(
                "PUT variant (contended)", "PUT", path, frozenset({200, 412}), json=body,
                headers={"If-Match": got.headers["ETag"]},
            )  # fmt: skip
        time.sleep(rng.uniform(0.05, 0.25))


def rss_sampler(pid: int, shared: Shared, every: float, started: float) -> None:
    while not shared.stop.wait(every):
        try:
            shared.rss.append((time.monotonic() - started, tree_rss(pid)))
        except psutil.NoSuchProcess:
            shared.problem("the server process is gone")
            shared.stop.set()


# --- the run ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    duration: float
    stats: Stats
    shared: Shared
    rss_start: int
    rss_warm: int
    rss_end: int
    rss_peak: int
    history_ok: bool
    server_errors: list[str]

    @property
    def growth(self) -> float:
        return self.rss_end / self.rss_warm - 1

    @property
    def passed(self) -> bool:
        return (
            self.stats.error_count == 0
            and not self.shared.problems
            and self.growth < MAX_GROWTH
            and self.history_ok
            and not self.server_errors
            and self.stats.requests > 0
        )


def run(args: argparse.Namespace) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="ce-soak-") as tmp:
        workdir = Path(tmp)
        db_url = f"sqlite:///{workdir / 'soak.db'}"
        with Engine(Settings(db_url=db_url, home=ROOT)) as engine:
            engine.import_library(SAMPLE)
            keys = {
                role: engine.repository.create_key(role, f"soak {role}")[1]
                for role in ("reader", "agent", "editor")
            }
        shared = Shared()
        stats = Stats()
        budget = Budget(args.max_requests, shared.stop)
        with running_server(db_url, workdir, args.workers) as (base, pid, log):
            clients: list[Client] = []

            def client(role: str) -> Client:
                made = Client(base, keys[role], stats, budget)
                clients.append(made)
                return made

            create_soak_content(client("editor"))
            preflight(client("reader"), client("agent"), stats, pdf=args.pdf_every > 0)
            stats.latencies.clear()  # the set-up's requests are not part of the load
            rss_start = tree_rss(pid)
            started = time.monotonic()
            shared.rss.append((0.0, rss_start))
            jobs: list[tuple[Any, tuple[Any, ...]]] = [
                (rss_sampler, (pid, shared, args.rss_every, started)),
                (lockstep_writer, (client("editor"), shared, 0.05)),
                (publisher, (client("editor"), shared, 0.25)),
                (contender, (client("editor"), shared, "one", 1)),
                (contender, (client("editor"), shared, "two", 2)),
            ]
            jobs += [(reader, (client("reader"), shared, 100 + n)) for n in range(args.readers)]
            jobs += [
                (renderer, (client("reader"), client("agent"), shared, 200 + n, args.pdf_every))
                for n in range(args.renderers)
            ]
            threads = [threading.Thread(target=f, args=a, daemon=True) for f, a in jobs]
            for thread in threads:
                thread.start()
            shared.stop.wait(args.duration)
            shared.stop.set()
            duration = time.monotonic() - started
            shared.rss.append((duration, tree_rss(pid)))
            for thread in threads:
                thread.join(timeout=120)
            history_ok = check_history(client("editor"), shared)
            for made in clients:
                made.close()
            server_log = log.read_text(encoding="utf-8", errors="replace")
        check_receipts_against_writes(shared)
        warm, end, peak = rss_figures(shared.rss, duration)
        server_errors = [
            line for line in server_log.splitlines() if "Traceback" in line or "ERROR" in line
        ]
        return Outcome(
            duration, stats, shared, rss_start, warm, end, peak, history_ok, server_errors
        )


def rss_figures(samples: list[tuple[float, int]], duration: float) -> tuple[int, int, int]:
    """RSS after warm-up, at the end, and the peak after warm-up.

    The first two are medians of three neighbouring samples, so that one sample taken in the
    middle of a PDF render (WeasyPrint's transient peak) does not decide the verdict.
    """
    warm_at = duration * WARM_UP
    nearest = min(range(len(samples)), key=lambda i: abs(samples[i][0] - warm_at))
    around = samples[max(0, nearest - 1) : nearest + 2]
    warm = int(statistics.median(r for _, r in around))
    end = int(statistics.median(r for _, r in samples[-3:]))
    peak = max(r for t, r in samples if t >= warm_at)
    return warm, end, peak


def preflight(reader_client: Client, agent: Client, stats: Stats, *, pdf: bool) -> None:
    """Every read and render the soak makes works once before the clock starts.

    A PDF among them loads WeasyPrint and its fonts (~50 MiB) before the first RSS sample.
    """
    for component, params in READS:
        reader_client.call("setup", "GET", f"/v1/blocks/{component}", params=params)
    renders = [("soak.lockstep", "html"), ("brochure.hp200", "html")]
    for publication, fmt in renders + ([("soak.lockstep", "pdf")] if pdf else []):
        body = {"publication": publication, "context": RENDER_CONTEXT, "format": fmt}
        response = reader_client.call("setup", "POST", "/v1/render", json=body)
        if response is not None:
            agent.call("setup", "GET", f"/v1/renders/{response.headers['X-Render-Id']}")
    if stats.error_count:
        raise SystemExit("set-up failed:\n  " + "\n  ".join(stats.samples))


def check_history(editor: Client, shared: Shared) -> bool:
    """Nothing the lockstep writer was told was accepted is missing from A's or B's history."""
    ok = True
    for component in MARKS:
        path = f"/v1/components/{component}/variants/main/versions"
        response = editor.call("GET versions", "GET", path)
        if response is None:
            return False
        stored = {v["version"]: v["body"] for v in response.json()}
        for version, rev in shared.written[component].items():
            if stored.get(version) != f"<p>{component} rev {rev}</p>":
                shared.problem(f"{component} version {version} (rev {rev}) is not in its history")
                ok = False
    return ok


def check_receipts_against_writes(shared: Shared) -> None:
    """Each receipt's versions of A and B are the ones whose markers the document showed."""
    for seen in shared.renders:
        if len(seen.shown) != len(seen.receipt_versions):
            continue  # already reported
        for (component, rev), (_, version) in zip(seen.shown, seen.receipt_versions, strict=True):
            if shared.written[component].get(version) != rev:
                shared.problem(
                    f"a {seen.format} render showed {component} rev {rev}, "
                    f"its receipt says version {version}"
                )


# --- reporting -------------------------------------------------------------------------------


def mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def table(outcome: Outcome) -> list[str]:
    stats = outcome.stats
    lines = [
        "| route | requests | errors | p50 ms | p90 ms | p99 ms | max ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for route in sorted(stats.latencies):
        values = stats.latencies[route]
        ms = [1000 * percentile(values, q) for q in (0.5, 0.9, 0.99)] + [1000 * max(values)]
        lines.append(
            f"| {route} | {len(values)} | {stats.errors.get(route, 0)} | "
            + " | ".join(f"{v:.1f}" for v in ms)
            + " |"
        )
    return lines


def summary(outcome: Outcome, args: argparse.Namespace) -> list[str]:
    stats, shared = outcome.stats, outcome.shared
    pdfs = sum(r.format == "pdf" for r in shared.renders)
    revisions = {r.shown[0][1] for r in shared.renders if r.shown}
    verdict = "PASS" if outcome.passed else "FAIL"
    lines = [
        f"{stats.requests} requests in {outcome.duration:.0f} s "
        f"({stats.requests / outcome.duration:.0f}/s), {stats.error_count} errors, "
        f"{stats.expected_conflicts} expected 412s; clients: {args.readers} readers, "
        f"{args.renderers} renderers, 4 editors; {args.workers} server worker(s)",
        f"lockstep renders checked: {len(shared.renders)} ({pdfs} pdf) over {len(revisions)} "
        f"revisions; lockstep pairs written: {max(shared.written['soak.b'].values(), default=0)}; "
        f"torn or mismatched: {len(shared.problems)}",
        f"server RSS: start {mib(outcome.rss_start)}, after warm-up {mib(outcome.rss_warm)}, "
        f"end {mib(outcome.rss_end)} (growth {100 * outcome.growth:+.1f} %, limit "
        f"{100 * MAX_GROWTH:.0f} %), peak after warm-up {mib(outcome.rss_peak)}",
        f"history complete: {'yes' if outcome.history_ok else 'NO'}; "
        f"server log errors: {len(outcome.server_errors)}; verdict: {verdict}",
    ]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of load")
    parser.add_argument("--readers", type=int, default=4, help="block-reading clients")
    parser.add_argument("--renderers", type=int, default=2, help="rendering clients")
    parser.add_argument("--pdf-every", type=int, default=15, help="every Nth render is a pdf")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    parser.add_argument("--rss-every", type=float, default=2.0, help="seconds between samples")
    parser.add_argument("--max-requests", type=int, default=2_000_000, help="request bound")
    parser.add_argument("--record", action="store_true", help="append to RESULTS.md")
    args = parser.parse_args()

    outcome = run(args)
    lines = [*table(outcome), "", *summary(outcome, args)]
    print("\n".join(lines))
    for sample in [*outcome.stats.samples, *outcome.shared.problems[:20]]:
        print(f"  problem: {sample}")
    series = outcome.shared.rss[:: max(1, len(outcome.shared.rss) // 12)]
    print("  RSS over time: " + ", ".join(f"{t:.0f}s {r / 2**20:.0f}" for t, r in series))
    for line in outcome.server_errors[:20]:
        print(f"  server log: {line}")
    if args.record:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        head = (
            f"\n## Soak, {stamp}, {outcome.duration:.0f} s, {platform.python_version()}, "
            f"{platform.machine()}, {os.cpu_count()} CPUs, load average {load}\n\n"
        )
        with RESULTS.open("a", encoding="utf-8") as fh:
            fh.write(head + "\n".join(lines) + "\n")
    return 0 if outcome.passed else 1


if __name__ == "__main__":
    sys.exit(main())
