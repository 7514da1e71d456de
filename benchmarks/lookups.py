"""Benchmark 6: the per-customer path, a block from a serial number through the data sources.

In: a scratch folder. It builds a SQLite CRM (``installations``: serial -> model, customer id),
starts a customer service on 127.0.0.1 in a process of its own (a threaded HTTP server that
answers every ``/customers/{id}`` after a set latency, 50 ms, and counts what it was asked), and
a small library whose ``sheet`` reads both: ``installation`` (the ``sql`` source, by serial)
and ``customer`` (the ``http`` source, ``from: installation.customer_id``). No cache
(``cache_ttl: 0``): every lookup asks the sources.

Out, each against a baseline measured in the same run:
a. ``Engine.block`` from ``lookup={"serial": ...}`` against the same block with the same data
   passed inline plus the sources' own calls made bare (sqlite3 on a kept connection, then one
   GET on a kept-alive httpx client): the engine's overhead past the sources' own latency,
   median over N paired samples, judged against the 2 ms the issue allows.
b. 100 concurrent ``GET /v1/blocks/sheet?lookup.serial=...`` for 100 different serials at a real
   ``content-engine serve``: wall time, against 100 concurrent GETs straight at the customer
   service from the same client (one batch of source calls), and against 100 × the latency.
c. 100 concurrent identical lookups over HTTP: how many calls reached the customer service,
   without a cache (coalescing alone: one call per call's time of the burst) and through the
   ``account`` source (the same service, ``cache_ttl: 60``; ``card`` reads it): one call.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2

from benchmarks.measure import console_script, free_port, log, process, tail

LATENCY = 0.05  # seconds the customer service takes for every answer
CUSTOMERS = 1000
COMPONENT = "sheet"

LIBRARY = {
    "library.yaml": "default_locale: en\nlocales: [en]\n",
    "c/sheet/component.yaml": "id: sheet\ntype: snippet\n",
    "c/sheet/en.html": (
        "<section><h2>{{ installation.model }} {{ installation.serial }}</h2>\n"
        "<p>Installed {{ installation.installed_on }} for {{ customer.name }},"
        " {{ customer.city }} ({{ customer.tier }}).</p></section>\n"
    ),
    # The same service as ``customer``, through a source that keeps answers a minute.
    "c/card/component.yaml": "id: card\ntype: snippet\n",
    "c/card/en.html": "<p>{{ account.name }}, {{ account.tier }}</p>\n",
}


def serial(n: int) -> str:
    return f"HP200-{n:04d}"


def customer(customer_id: str) -> dict[str, Any] | None:
    """The customer service's record for ``customer_id`` (``C-0000`` .. ``C-0999``)."""
    number = customer_id.removeprefix("C-")
    if not (number.isdigit() and len(number) == 4):
        return None
    n = int(number)
    tiers = ("gold", "silver", "bronze")
    return {"id": customer_id, "name": f"Customer {n}", "city": "Graz", "tier": tiers[n % 3]}


# --- the systems of record --------------------------------------------------------------------


def write_crm(path: Path) -> None:
    """The SQLite CRM: installation ``n`` belongs to customer ``C-n``."""
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE installations (serial TEXT PRIMARY KEY, model TEXT, installed_on TEXT,"
            " customer_id TEXT)"
        )
        db.executemany(
            "INSERT INTO installations VALUES (?, ?, ?, ?)",
            [
                (serial(n), "HP200 Pro", f"2024-{n % 12 + 1:02d}-15", f"C-{n:04d}")
                for n in range(CUSTOMERS)
            ],
        )
    db.close()


def write_sources(folder: Path, crm: Path, service_url: str) -> Path:
    path = folder / "sources.yaml"
    path.write_text(
        "deadline: 5\n"
        "sources:\n"
        "  installation:\n"
        "    kind: sql\n"
        f"    url: sqlite:///{crm}\n"
        '    query: "SELECT serial, model, installed_on, customer_id FROM installations'
        ' WHERE serial = :serial"\n'
        "    key: serial\n"
        "    required: true\n"
        "    timeout: 2\n"
        "  customer:\n"
        "    kind: http\n"
        f'    url: "{service_url}/customers/{{customer_id}}"\n'
        "    key: customer_id\n"
        "    from: installation.customer_id\n"
        "    required: true\n"
        "    timeout: 4\n"
        "    retries: 0\n"
        "  account:\n"
        "    kind: http\n"
        f'    url: "{service_url}/customers/{{customer_id}}"\n'
        "    key: customer_id\n"
        "    from: installation.customer_id\n"
        "    required: true\n"
        "    timeout: 4\n"
        "    retries: 0\n"
        "    cache_ttl: 60\n",
        encoding="utf-8",
    )
    return path


def write_library(folder: Path) -> Path:
    for name, text in LIBRARY.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


class _Service(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512  # 100 clients connect at once: the default backlog is 5

    def __init__(self, port: int, latency: float) -> None:
        super().__init__(("127.0.0.1", port), _ServiceHandler)
        self.latency = latency
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hanging up between runs


class _ServiceHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm the second waits for the
    # client's delayed ACK, 40 ms that would be counted as the source's latency.
    disable_nagle_algorithm = True
    server: _Service

    def log_message(self, *_: Any) -> None:
        pass

    def do_GET(self) -> None:
        path = self.path.partition("?")[0]
        if path == "/stats":
            with self.server.lock:
                body = json.dumps(dict(self.server.hits)).encode()
            return self._send(200, body)
        if path == "/reset":
            with self.server.lock:
                self.server.hits.clear()
            return self._send(200, b"{}")
        with self.server.lock:
            self.server.hits[path] += 1
        time.sleep(self.server.latency)
        found = (
            customer(path.removeprefix("/customers/")) if path.startswith("/customers/") else None
        )
        if found is None:
            return self._send(404, b'{"error": "none"}')
        return self._send(200, json.dumps(found).encode())

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve_service(port: int, latency: float) -> None:
    """The customer service, until the process is ended (``python -m benchmarks.lookups``)."""
    _Service(port, latency).serve_forever(poll_interval=0.05)


def wait_up(url: str, proc: Any, logfile: Path, seconds: float = 60) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the process exited ({proc.returncode}):\n{tail(logfile)}")
        try:
            httpx2.get(url, timeout=1)
            return
        except httpx2.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url}: not up after {seconds:g} s:\n{tail(logfile)}")


def service_hits(service_url: str) -> Counter[str]:
    hits: dict[str, int] = httpx2.get(f"{service_url}/stats", timeout=5).json()
    httpx2.get(f"{service_url}/reset", timeout=5)
    return Counter(hits)


# --- a. in process -----------------------------------------------------------------------------


@dataclass
class InProcess:
    lookup: float  # median seconds of a block from a serial number
    inline: float  # ... of the same block with the data passed inline
    bare_sources: float  # ... of the sources' own calls, made bare
    overhead: float  # median of (lookup - inline - bare sources), sample by sample
    samples: int


def in_process(engine: Any, service_url: str, crm: Path, repeat: int) -> InProcess:
    from content_engine import Context

    db = sqlite3.connect(crm, check_same_thread=False)
    client = httpx2.Client(trust_env=False)
    query = "SELECT serial, model, installed_on, customer_id FROM installations WHERE serial = ?"

    def bare_sources(value: str) -> tuple[dict[str, Any], dict[str, Any]]:
        cursor = db.execute(query, (value,))
        names = [c[0] for c in cursor.description]
        row = dict(zip(names, cursor.fetchone(), strict=True))
        answer = client.get(f"{service_url}/customers/{row['customer_id']}", timeout=5)
        return row, answer.json()

    def by_lookup(value: str) -> Any:
        return engine.block(COMPONENT, Context(locale="en", lookup={"serial": value}))

    def inline(row: dict[str, Any], found: dict[str, Any]) -> Any:
        context = Context(locale="en", customer=found, data={"installation": row})
        return engine.block(COMPONENT, context)

    def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
        start = time.perf_counter()
        out = fn()
        return time.perf_counter() - start, out

    row, found = bare_sources(serial(0))
    if by_lookup(serial(0)).html != inline(row, found).html:
        raise AssertionError("the block from a serial number differs from the inline one")
    samples: tuple[list[float], list[float], list[float]] = ([], [], [])
    try:
        for i in range(repeat):
            value = serial(i % CUSTOMERS)
            ours, _ = timed(lambda: by_lookup(value))  # noqa: B023
            bare, (row, found) = timed(lambda: bare_sources(value))  # noqa: B023
            flat, _ = timed(lambda: inline(row, found))  # noqa: B023
            for out, seconds in zip(samples, (ours, bare, flat), strict=True):
                out.append(seconds)
    finally:
        client.close()
        db.close()
    ours_s, bare_s, flat_s = samples
    return InProcess(
        lookup=statistics.median(ours_s),
        inline=statistics.median(flat_s),
        bare_sources=statistics.median(bare_s),
        overhead=statistics.median(
            o - b - f for o, b, f in zip(ours_s, bare_s, flat_s, strict=True)
        ),
        samples=repeat,
    )


# --- b. and c. over HTTP ----------------------------------------------------------------------


async def _burst(urls: list[str], headers: dict[str, str]) -> tuple[float, list[int]]:
    """Wall seconds for every URL asked at once (connections opened beforehand), and statuses."""
    limits = httpx2.Limits(max_connections=len(urls), max_keepalive_connections=len(urls))
    async with httpx2.AsyncClient(limits=limits, timeout=30, trust_env=False) as client:
        # Open the connections first: the burst times the server, not TCP handshakes.
        await asyncio.gather(*(client.get(urls[0].split("/v1/")[0] + "/healthz") for _ in urls))
        start = time.perf_counter()
        answers = await asyncio.gather(*(client.get(u, headers=headers) for u in urls))
        seconds = time.perf_counter() - start
    return seconds, [a.status_code for a in answers]


def burst(urls: list[str], headers: dict[str, str] | None = None) -> tuple[float, list[int]]:
    return asyncio.run(_burst(urls, headers or {}))


@dataclass
class Concurrent:
    ours: float  # median wall seconds of one burst of requests with different serials
    source_batch: float  # ... of the same burst straight at the customer service
    requests: int
    rounds: int
    calls_per_burst: int  # calls the customer service saw per burst (different serials)
    identical_calls: list[int]  # calls it saw per burst of identical lookups, no cache
    cached_calls: list[int]  # ... through the source that keeps answers (``card``)
    bad: int  # answers other than 200


def over_http(
    db_url: str, sources: Path, service_url: str, work: Path, *, requests: int, rounds: int
) -> Concurrent:
    from benchmarks.http_block import cli_key

    key = cli_key(db_url)
    headers = {"Authorization": f"Bearer {key}"}
    port = free_port()
    cmd = [
        *console_script("content-engine"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--db",
        db_url,
        "--sources",
        str(sources),
    ]
    logfile = work / "serve-lookups.log"
    base = f"http://127.0.0.1:{port}"
    ours: list[float] = []
    batch: list[float] = []
    calls: list[int] = []
    identical: list[int] = []
    cached: list[int] = []
    bad = 0
    with process(cmd, log=logfile) as proc:
        wait_up(f"{base}/healthz", proc, logfile)
        first = httpx2.get(
            f"{base}/v1/blocks/{COMPONENT}?locale=en&lookup.serial={serial(0)}",
            headers=headers,
            timeout=10,
        )
        if first.status_code != 200:
            raise RuntimeError(f"GET sheet answered {first.status_code}: {first.text[:300]}")
        service_hits(service_url)
        for r in range(rounds):
            numbers = [(r * requests + i) % CUSTOMERS for i in range(requests)]
            block_urls = [
                f"{base}/v1/blocks/{COMPONENT}?locale=en&lookup.serial={serial(n)}" for n in numbers
            ]
            source_urls = [f"{service_url}/customers/C-{n:04d}" for n in numbers]
            # Alternate which goes first, so neither always follows the other's heat.
            order = [("ours", block_urls, headers), ("bare", source_urls, {})]
            for side, urls, sent in order if r % 2 == 0 else order[::-1]:
                seconds, statuses = burst(urls, sent)
                bad += sum(1 for s in statuses if s != 200)
                hits = service_hits(service_url)
                if side == "ours":
                    ours.append(seconds)
                    calls.append(sum(hits.values()))
                else:
                    batch.append(seconds)
            for component, out in ((COMPONENT, identical), ("card", cached)):
                same = [f"{base}/v1/blocks/{component}?locale=en&lookup.serial={serial(r)}"]
                _, statuses = burst(same * requests, headers)
                bad += sum(1 for s in statuses if s != 200)
                out.append(sum(service_hits(service_url).values()))
            log(
                f"lookup burst {r}: ours {ours[-1] * 1e3:.0f} ms, source batch "
                f"{batch[-1] * 1e3:.0f} ms, {calls[-1]} calls; identical: {identical[-1]} calls, "
                f"{cached[-1]} with cache_ttl"
            )
    return Concurrent(
        ours=statistics.median(ours),
        source_batch=statistics.median(batch),
        requests=requests,
        rounds=rounds,
        calls_per_burst=max(calls),
        identical_calls=identical,
        cached_calls=cached,
        bad=bad,
    )


# --- set-up -------------------------------------------------------------------------------------


@dataclass
class Setup:
    db_url: str
    sources: Path
    crm: Path
    service_url: str


def start_service(work: Path, latency: float = LATENCY) -> tuple[Any, str]:
    """The customer service as a context manager and its URL (a process of its own: its
    threads do not compete with the engine's for one interpreter's lock)."""
    import sys

    port = free_port()
    logfile = work / "customer-service.log"
    cmd = [sys.executable, "-m", "benchmarks.lookups", "--port", str(port)]
    cmd += ["--latency", str(latency)]
    return process(cmd, log=logfile), f"http://127.0.0.1:{port}"


def prepare(work: Path, service_url: str) -> Setup:
    from benchmarks.measure import ROOT
    from content_engine import Engine, Settings

    folder = work / "lookups"
    folder.mkdir(parents=True, exist_ok=True)
    crm = folder / "crm.db"
    if not crm.exists():
        write_crm(crm)
    sources = write_sources(folder, crm, service_url)
    db_url = f"sqlite:///{folder / 'library.db'}"
    with Engine(Settings(db_url=db_url, home=ROOT)) as engine:
        engine.import_library(write_library(folder / "library"))
    return Setup(db_url, sources, crm, service_url)


def main() -> None:
    parser = argparse.ArgumentParser(description="the customer service of benchmark 6")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency", type=float, default=LATENCY)
    args = parser.parse_args()
    serve_service(args.port, args.latency)


if __name__ == "__main__":
    main()
