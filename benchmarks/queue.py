"""Campaigns on a task queue: the same campaign rendered by one ``content-engine worker`` and
then by two, on a real broker (Redis by default), the ratio of their documents per second.

In: a broker URL, the number of contexts, a scratch folder. Out: for each worker count, the
seconds from starting ``batch --queue`` to its end (reading the lines, queueing every task,
rendering, every result back), the documents written and the failures. The workers are
started and warmed (a small campaign of their own) before the clock starts, as a deployment's
workers are running before a campaign. The documents are HTML letters of a small library, so
the queue's own cost per task is in the number, not hidden behind seconds of PDF layout.

Run alone: ``python -m benchmarks.queue --contexts 2000``; ``benchmarks/run.py`` runs it as its
``queue`` step.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.measure import console_script, process, tail

DEFAULT_QUEUE = "redis://127.0.0.1:6379/14"
LIBRARY = {
    "library.yaml": "default_locale: en\nlocales: [en, de]\nsegments: [gold]\n",
    "c/greeting/component.yaml": "id: greeting\ntype: snippet\n",
    "c/greeting/en.html": "<p>Dear {{ customer.name }},</p>\n",
    "c/greeting/de.html": "<p>Liebe(r) {{ customer.name }},</p>\n",
    "c/offer/component.yaml": "id: offer\ntype: snippet\n",
    "c/offer/en.html": (
        "<p>Your contract {{ customer.contract }} ends on {{ customer.ends }}. Renew it for "
        "{{ customer.price }} EUR a year.</p>\n"
    ),
    "c/offer/de.html": (
        "<p>Ihr Vertrag {{ customer.contract }} endet am {{ customer.ends }}. Verlängern Sie "
        "für {{ customer.price }} EUR im Jahr.</p>\n"
    ),
    "publications/renewal.yaml": (
        "id: renewal\ntitle: Renewal\nslots:\n  - {component: greeting, required: true}\n"
        "  - {component: offer, required: true}\n"
    ),
}


@dataclass(frozen=True)
class Campaign:
    workers: int
    contexts: int
    seconds: float
    written: int
    failures: int
    code: int

    @property
    def rate(self) -> float:
        return self.written / self.seconds if self.seconds else 0.0


def reachable(url: str) -> bool:
    from content_engine.core.errors import ContentEngineError
    from content_engine.queue import check_reachable, make_app

    try:
        check_reachable(make_app(url))
    except ContentEngineError:
        return False
    return True


def prepare(work: Path) -> str:
    """A database with the letters' library; its URL."""
    lib = work / "queue-library"
    for name, body in LIBRARY.items():
        path = lib / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body), encoding="utf-8")
    url = f"sqlite:///{work / 'queue.db'}"
    ce = console_script("content-engine")
    log = work / "queue-import.log"
    with process([*ce, "import", str(lib), "--db", url], log=log) as proc:
        if proc.wait(120) != 0:
            raise RuntimeError(f"import failed:\n{tail(log)}")
    return url


def write_contexts(path: Path, count: int) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for n in range(count):
            customer = {
                "name": f"Customer {n}",
                "contract": f"K-{n:06d}",
                "ends": "2027-03-31",
                "price": 120 + n % 50,
            }
            context = {"locale": "de" if n % 3 else "en", "customer": customer}
            fh.write(json.dumps({"id": f"r{n:06d}", "context": context}) + "\n")
    return path


def campaign(
    url: str, db_url: str, contexts: Path, out: Path, log: Path, fmt: str = "html"
) -> tuple[float, int]:
    """Run ``batch --queue`` to its end: (seconds, exit code)."""
    cmd = [
        *console_script("content-engine"), "batch", "renewal", "--contexts", str(contexts),
        "--out", str(out), "--format", fmt, "--queue", url, "--db", db_url,
    ]  # fmt: skip
    start = time.perf_counter()
    with process(cmd, log=log) as proc:
        code = proc.wait()
    return time.perf_counter() - start, code


def measure(
    url: str, db_url: str, workers: int, count: int, work: Path, fmt: str = "html"
) -> Campaign:
    """One campaign of ``count`` contexts with ``workers`` worker processes, warmed first."""
    ce = console_script("content-engine")
    logs = [work / f"queue-worker-{workers}-{n}.log" for n in range(workers)]
    started = [process([*ce, "worker", "--queue", url, "--db", db_url], log=log) for log in logs]
    procs = [p.__enter__() for p in started]
    try:
        warm = write_contexts(work / "queue-warm.jsonl", 4 * workers)
        warm_out = work / f"queue-warm-{workers}-{fmt}"
        _, code = campaign(url, db_url, warm, warm_out, work / "warm.log", fmt)
        if code != 0:
            raise RuntimeError(f"warm-up campaign failed:\n{tail(work / 'warm.log')}")
        contexts = write_contexts(work / f"queue-{count}.jsonl", count)
        out = work / f"queue-out-{workers}-{fmt}"
        log = work / f"queue-batch-{workers}-{fmt}.log"
        seconds, code = campaign(url, db_url, contexts, out, log, fmt)
        if any(p.poll() is not None for p in procs):
            raise RuntimeError(f"a worker ended:\n{tail(logs[0])}")
    finally:
        for p in reversed(started):
            p.__exit__(None, None, None)
    written = sum(1 for name in out.iterdir() if name.suffix == f".{fmt}")
    failures_file = out / "failures.jsonl"
    failures = len(failures_file.read_text().splitlines()) if failures_file.exists() else 0
    return Campaign(workers, count, seconds, written, failures, code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queue", default=DEFAULT_QUEUE, help="broker URL")
    parser.add_argument("--contexts", type=int, default=2000)
    parser.add_argument("--work", type=Path, required=True, help="scratch folder")
    args = parser.parse_args(argv)
    if not reachable(args.queue):
        print(f"no broker at {args.queue}", file=sys.stderr)
        return 1
    args.work.mkdir(parents=True, exist_ok=True)
    db_url = prepare(args.work)
    for workers in (1, 2):
        run = measure(args.queue, db_url, workers, args.contexts, args.work)
        print(json.dumps({**run.__dict__, "rate": run.rate}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
