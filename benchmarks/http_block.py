"""Benchmark 2: ``GET /v1/blocks/...`` over HTTP against a bare FastAPI route, both under wrk.

In: a database holding a library and a reader API key, a component and its query. Out: for
each worker count, requests/s, p50 and p99 of our server (``content-engine serve``) and of the
bare route (``bare_app.py`` under ``uvicorn`` with the same host, workers, loop, HTTP parser and
log settings), measured in alternating wrk runs of fixed duration on loopback; medians over the
runs. Both get the same URL and the same ``Authorization: Bearer`` header; the bare route
answers the very bytes and headers our server answered.

Optionally it also profiles one server of each kind under the same load (``profiled_server``)
and writes the top functions to a text file.
"""

from __future__ import annotations

import json
import os
import pstats
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.measure import (
    ROOT,
    console_script,
    free_port,
    log,
    process,
    rss_bytes,
    tail,
    top_functions,
)

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


@dataclass
class WrkResult:
    rps: float
    p50: float  # seconds
    p99: float
    requests: int
    bad: int  # non-2xx/3xx responses and socket errors


@dataclass
class Comparison:
    workers: int
    ours: list[WrkResult] = field(default_factory=list)
    bare: list[WrkResult] = field(default_factory=list)
    # Ours again, each request with an ``at`` never seen before: the answer is the same, but
    # no stored answer matches it, so every request goes through FastAPI's routing.
    routed: list[WrkResult] = field(default_factory=list)
    rss_ours: int | None = None
    rss_bare: int | None = None

    def median(self, side: str, attribute: str) -> float:
        return statistics.median(getattr(r, attribute) for r in getattr(self, side))

    def bad(self) -> int:
        return sum(r.bad for r in self.ours + self.bare + self.routed)


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def _seconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"cannot read wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    total = re.search(r"(\d+) requests in", output)
    if not (rps and p50 and p99 and total):
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        rps=float(rps.group(1)),
        p50=_seconds(p50.group(1)),
        p99=_seconds(p99.group(1)),
        requests=int(total.group(1)),
        bad=(int(bad.group(1)) if bad else 0)
        + (sum(int(g) for g in errors.groups()) if errors else 0),
    )


# Adds an ``at`` no request has sent before, a millisecond apart from now on: the block is the
# same (the engine's cache holds it for its whole schedule window), but the query string is
# new, so no stored answer matches and the request goes through FastAPI's routing.
UNSEEN_QUERY_LUA = """
counter = 0
start = os.time()
request = function()
  counter = counter + 1
  local t = start + math.floor(counter / 1000)
  local at = os.date("!%Y-%m-%dT%H:%M:%S", t) .. string.format(".%03dZ", counter % 1000)
  return wrk.format(nil, wrk.path .. "&at=" .. at)
end
"""


def wrk(
    url: str, key: str, seconds: float, connections: int, script: Path | None = None
) -> WrkResult:
    cmd = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "-H",
        f"Authorization: Bearer {key}",
        *(["-s", str(script)] if script else []),
        url,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30, check=True)
    return parse_wrk(done.stdout)


def get(url: str, key: str) -> tuple[int, bytes, dict[str, str]]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def wait_ready(url: str, key: str, proc: subprocess.Popen[bytes], logfile: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{tail(logfile)}")
        try:
            get(url, key)
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError(f"server not ready after 60 s:\n{tail(logfile)}")


def ours_cmd(port: int, workers: int, db_url: str) -> list[str]:
    return [
        *console_script("content-engine"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--db",
        db_url,
    ]


def bare_cmd(port: int, workers: int) -> list[str]:
    # As a developer runs uvicorn: loop and http "auto" (uvloop, httptools), log level info, no
    # access log. (``serve``'s default loop is asyncio's for 1 worker: docs/servers.md.)
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "benchmarks.bare_app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "info",
        "--no-access-log",
    ]


_KEPT_HEADERS = ("etag", "vary", "cache-control", "content-language")


def bare_inputs(html: bytes, headers: dict[str, str], work: Path) -> dict[str, str]:
    page = work / "bare-block.html"
    page.write_bytes(html)
    kept = {k: v for k, v in headers.items() if k.lower() in _KEPT_HEADERS}
    return {"CE_BENCH_BARE_HTML": str(page), "CE_BENCH_BARE_HEADERS": json.dumps(kept)}


def compare(
    db_url: str,
    key: str,
    path: str,
    work: Path,
    *,
    workers: int,
    runs: int,
    seconds: float,
    warmup: float,
    connections: int,
) -> Comparison:
    """Both servers up at once (idle while the other is loaded), wrk runs alternating."""
    result = Comparison(workers)
    with ExitStack() as stack:
        port = free_port()
        ours_log = work / f"serve-ours-{workers}w.log"
        ours = stack.enter_context(process(ours_cmd(port, workers, db_url), log=ours_log))
        ours_url = f"http://127.0.0.1:{port}{path}"
        wait_ready(ours_url, key, ours, ours_log)
        status, html, headers = get(ours_url, key)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}: {html[:300]!r}")
        bare_port = free_port()
        bare_log = work / f"serve-bare-{workers}w.log"
        bare = stack.enter_context(
            process(
                bare_cmd(bare_port, workers), log=bare_log, env=bare_inputs(html, headers, work)
            )
        )
        bare_url = f"http://127.0.0.1:{bare_port}{path}"
        wait_ready(bare_url, key, bare, bare_log)
        if get(bare_url, key)[1] != html:
            raise RuntimeError("the bare route does not answer our block's bytes")
        if warmup > 0:
            for url in (ours_url, bare_url):
                wrk(url, key, warmup, connections)
        if workers == 1:
            result.rss_ours, result.rss_bare = rss_bytes(ours.pid), rss_bytes(bare.pid)
        unseen = work / "unseen-query.lua"
        unseen.write_text(UNSEEN_QUERY_LUA, encoding="utf-8")
        for n in range(runs):
            # Alternate which goes first, so neither always follows the other's heat.
            order: list[tuple[str, str, Path | None]] = [
                ("ours", ours_url, None),
                ("bare", bare_url, None),
                ("routed", ours_url, unseen),
            ]
            for side, url, script in order if n % 2 == 0 else order[::-1]:
                measured = wrk(url, key, seconds, connections, script)
                getattr(result, side).append(measured)
                log(
                    f"http {workers}w {side}: {measured.rps:,.0f} req/s "
                    f"p50 {measured.p50 * 1e3:.2f} ms p99 {measured.p99 * 1e3:.2f} ms"
                )
    return result


def profile(
    db_url: str,
    key: str,
    path: str,
    work: Path,
    out: Path,
    *,
    seconds: float,
    warmup: float,
    connections: int,
) -> None:
    """Each server once under cProfile (every thread) and the same wrk load; top 20 to ``out``."""
    sections = [
        f"# Where a GET {path} spends its time over HTTP",
        "",
        "cProfile on every thread of a 1-worker uvicorn (FastAPI runs sync routes and",
        f"dependencies in a thread pool), {seconds:g} s of wrk -c{connections} per server after",
        "a warm-up that is not counted. cProfile measures wall time per thread: with many",
        "threads, time spent waiting for the GIL shows up in whatever released it (sqlite3,",
        "hashlib). Idle waits of the pool's threads are left out. Profiling slows both",
        "servers down; compare shares, not absolute times.",
        "",
    ]
    html: bytes = b""
    headers: dict[str, str] = {}
    for side in ("ours", "bare"):
        port = free_port()
        stats_file = work / f"http-{side}.prof"
        cmd = [sys.executable, "-m", "benchmarks.profiled_server", str(stats_file)]
        env: dict[str, str] = {}
        if side == "ours":
            cmd += ["content_engine.web.app:app_from_env", "--factory"]
            env = {"CONTENT_ENGINE_DB": db_url, "CONTENT_ENGINE_OPEN": ""}
        else:
            cmd += ["benchmarks.bare_app:app"]
            env = bare_inputs(html, headers, work)
        cmd += ["--port", str(port)]
        logfile = work / f"profile-{side}.log"
        url = f"http://127.0.0.1:{port}{path}"
        with process(cmd, log=logfile, env=env) as proc:
            wait_ready(url, key, proc, logfile)
            if side == "ours":
                _, html, headers = get(url, key)
            if warmup > 0:
                wrk(url, key, warmup, connections)
            os.kill(proc.pid, signal.SIGUSR1)  # forget start-up and warm-up
            time.sleep(0.2)
            measured = wrk(url, key, seconds, connections)
        if not stats_file.exists():
            raise RuntimeError(f"no profile written:\n{tail(logfile)}")
        stats = pstats.Stats(str(stats_file))
        sections += [
            f"## {side}: {measured.rps:,.0f} req/s under the profiler",
            "",
            "### top 20 by own time",
            "",
            *top_functions(stats, 20, "own"),
            "",
            "### top 20 by cumulative time",
            "",
            *top_functions(stats, 20, "cumulative"),
            "",
        ]
    out.write_text("\n".join(sections) + "\n", encoding="utf-8")


def cli_key(db_url: str) -> str:
    """A reader key, created through the repository as ``keys create`` would."""
    from content_engine.store import Repository

    with Repository(db_url) as repository:
        _, secret = repository.create_key("reader", "benchmarks")
    return secret


__all__ = ["ROOT", "Comparison", "cli_key", "compare", "profile", "wrk_available"]
