"""What every benchmark shares: paired timing, result rows, memory, processes, the time budget.

In: callables to time, commands to run. Out: medians of repeated samples, ``Row``s that pair
our number with the bare tool's from the same run, and the table ``run.py`` prints. Nothing
here knows about the engine.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


# --- timing ----------------------------------------------------------------------------------


def calibrate(fn: Callable[[], object], min_seconds: float) -> int:
    """How many calls make one sample last at least ``min_seconds`` (timer noise stays small)."""
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        if time.perf_counter() - start >= min_seconds or number >= 1 << 20:
            return number
        number *= 2


def paired_medians(
    ours: Callable[[], object],
    bare: Callable[[], object],
    *,
    repeat: int,
    min_sample: float = 0.02,
) -> tuple[float, float]:
    """Median seconds per call of ``ours`` and ``bare``, their samples interleaved.

    Alternating the samples (ours, bare, ours, ...) spreads a noisy neighbour over both sides
    instead of over whichever happened to run during the burst.
    """
    for fn in (ours, bare):
        fn()  # warm: caches, lazy imports
    n_ours, n_bare = calibrate(ours, min_sample), calibrate(bare, min_sample)
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for fn, n, out in ((ours, n_ours, samples[0]), (bare, n_bare, samples[1])):
            start = time.perf_counter()
            for _ in range(n):
                fn()
            out.append((time.perf_counter() - start) / n)
    return statistics.median(samples[0]), statistics.median(samples[1])


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


# --- result rows -----------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the table: our median, the bare tool's median, and the target on their ratio.

    ``kind`` says how to show the numbers: ``time`` (seconds), ``rate`` (per second), ``mem``
    (bytes) or ``plain``. ``ratio`` is ours / baseline unless a benchmark sets it (throughput
    targets read "at least 70 % of bare"). ``target`` is ``("<=", 1.5)``, ``(">=", 0.7)`` or
    ``None`` for numbers that are reported, not judged.
    """

    name: str
    ours: float | None
    baseline: float | None
    kind: str = "time"
    baseline_name: str = ""
    ratio: float | None = None
    target: tuple[str, float] | None = None
    note: str = ""
    unit: str = ""
    approx: bool = False  # ``ours`` is a projection, not a measurement
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.ratio is None and self.ours is not None and self.baseline:
            self.ratio = self.ours / self.baseline

    @property
    def met(self) -> bool | None:
        if self.target is None or self.ratio is None:
            return None
        op, value = self.target
        return self.ratio <= value if op == "<=" else self.ratio >= value

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"met": self.met}


def fmt_value(value: float | None, kind: str, unit: str = "") -> str:
    if value is None:
        return "—"
    if kind == "time":
        if value < 1e-3:
            return f"{value * 1e6:.1f} µs"
        if value < 1:
            return f"{value * 1e3:.2f} ms"
        return f"{value:.2f} s"
    if kind == "rate":
        shown = f"{value:,.0f}" if value >= 100 else f"{value:.3g}"
        return f"{shown} {unit or '/s'}"
    if kind == "mem":
        return f"{value / 2**20:,.0f} MiB"
    return f"{value:,.3g} {unit}".strip()


def fmt_target(target: tuple[str, float] | None, kind: str) -> str:
    if target is None:
        return "(report)"
    op, value = target
    sign = "≤" if op == "<=" else "≥"
    return f"{sign} {value:.0%} of bare" if kind == "rate" and value < 1 else f"{sign} {value:g}×"


def table(rows: Sequence[Row]) -> list[str]:
    lines = [
        "| benchmark | ours (median) | baseline (median) | ratio | target | met? |",
        "| --- | ---: | ---: | ---: | --- | :---: |",
    ]
    for row in rows:
        ours = ("≈ " if row.approx else "") + fmt_value(row.ours, row.kind, row.unit)
        base = fmt_value(row.baseline, row.kind, row.unit)
        if row.baseline_name and row.baseline is not None:
            base = f"{base} ({row.baseline_name})"
        ratio = "—" if row.ratio is None else f"{row.ratio:.2f}×"
        met = {True: "yes", False: "**no**", None: "—"}[row.met]
        name = row.name + (f" — {row.note}" if row.note else "")
        lines.append(
            f"| {name} | {ours} | {base} | {ratio} | {fmt_target(row.target, row.kind)} | {met} |"
        )
    return lines


# --- memory and processes ----------------------------------------------------------------------


def rss_bytes(pid: int | str = "self") -> int:
    """Resident set size (VmRSS) of a process, from /proc."""
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def console_script(name: str) -> list[str]:
    """The venv's console script ``name``, as the Makefile would call it."""
    script = Path(sys.executable).with_name(name)
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", name.replace("-", "_")]


@contextlib.contextmanager
def process(
    cmd: Sequence[str], *, log: Path, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> Iterator[subprocess.Popen[bytes]]:
    """A background process in a session of its own, ended (with its children) on exit."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            list(cmd),
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM to the process group we started, SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def run_timed(
    cmd: Sequence[str], *, timeout: float, log: Path, env: dict[str, str] | None = None
) -> tuple[float, int]:
    """Wall-clock seconds and exit code of a command; killed (code -9) past ``timeout``."""
    start = time.perf_counter()
    with process(cmd, log=log, env=env) as proc:
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            code = -9
    return time.perf_counter() - start, code


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# --- the time budget -------------------------------------------------------------------------


class Budget:
    """The run's deadline: stages ask what is left before they start something long."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.start = time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.start

    @property
    def left(self) -> float:
        return self.seconds - self.elapsed

    def allows(self, estimate: float, keep: float = 0.0) -> bool:
        """Whether ``estimate`` seconds fit, keeping ``keep`` seconds for what comes after."""
        return estimate <= self.left - keep


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- profiles --------------------------------------------------------------------------------

# Threads waiting for work: wall time a profiler sees, but no work done.
IDLE = (
    "acquire' of '_thread.lock' objects",
    "threading.py:wait",
    "queue.py:get",
    "'run_forever' of 'uvloop.loop.Loop'",
    "'poll' of 'select.epoll'",
)


def top_functions(stats: Any, n: int = 20, key: str = "own") -> list[str]:
    """The ``n`` functions with the most own (or cumulative) time, as a Markdown table.

    ``stats`` is a ``pstats.Stats``. Idle waits (``IDLE``) are left out; shares are of the
    remaining own time, so they say where the work goes.
    """
    rows = []
    for (file, line, func), (_cc, calls, own, cum, _callers) in stats.stats.items():
        name = func if file == "~" else f"{Path(file).name}:{line}({func})"
        short = func if file == "~" else f"{Path(file).name}:{func}"
        if any(idle in short for idle in IDLE):
            continue
        rows.append((own, cum, calls, name))
    total = sum(r[0] for r in rows) or 1.0
    rows.sort(key=lambda r: r[0] if key == "own" else r[1], reverse=True)
    out = [
        "| own % | own s | cumulative s | calls | function |",
        "| ---: | ---: | ---: | ---: | --- |",
    ]
    for own, cum, calls, name in rows[:n]:
        out.append(f"| {own / total:.1%} | {own:.3f} | {cum:.3f} | {calls} | `{name}` |")
    return out
