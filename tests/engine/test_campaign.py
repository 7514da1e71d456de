"""Campaigns on a real task queue: ``batch --queue`` and ``content-engine worker`` processes on
a real RabbitMQ or Redis, a real SQLite database and a real output folder.

A worker killed with SIGKILL mid-campaign loses nothing (its task goes back to the queue: late
acknowledgement) and renders nothing twice; a campaign run again renders only what is missing;
progress comes from the queue's results.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from content_engine.cli import main
from content_engine.engine.campaign import MARKER, run_campaign
from content_engine.queue import make_app, send
from tests.support.brokers import (
    AMQP_ENV,
    REDIS_ENV,
    broker_url,
    renders_by_reader,
    workers,
    write_contexts,
    write_letter_library,
)

# They share the brokers' queue: keep them in this one file, which `make test` (`--dist
# loadfile`) runs on one process, so that no two run at once.
pytestmark = pytest.mark.slow


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A file database the worker processes share, with the letter library imported."""
    url = f"sqlite:///{tmp_path / 'ce.db'}"
    assert main(["import", str(write_letter_library(tmp_path / "lib")), "--db", url]) == 0
    return url


def batch_command(url: str, db_url: str, contexts: Path, out: Path) -> list[str]:
    return [
        sys.executable, "-m", "content_engine", "batch", "letter", "--contexts", str(contexts),
        "--out", str(out), "--format", "html", "--queue", url, "--db", db_url,
    ]  # fmt: skip


def started_batch(
    url: str, db_url: str, contexts: Path, out: Path, *, written: int
) -> subprocess.Popen[bytes]:
    """``batch --queue`` running, once it has ``written`` outputs (or after 30 s)."""
    batch = subprocess.Popen(
        batch_command(url, db_url, contexts, out),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while len(list(out.glob("c*.html"))) < written and time.monotonic() < deadline:
        time.sleep(0.01)
    return batch


def test_a_worker_killed_mid_campaign_loses_nothing_and_renders_nothing_twice(
    tmp_path: Path, sqlite_url: str
) -> None:
    url = broker_url(AMQP_ENV)
    count = 40
    contexts = write_contexts(tmp_path / "contexts.jsonl", count)
    out = tmp_path / "out"
    with workers(url, sqlite_url, 2) as (doomed, survivor):
        batch = started_batch(url, sqlite_url, contexts, out, written=8)
        os.kill(doomed.pid, signal.SIGKILL)  # its render child dies with it
        killed_at = len(list(out.glob("c*.html")))
        _, err = batch.communicate(timeout=60)
        assert survivor.poll() is None
    assert batch.returncode == 0, err.decode()
    assert 8 <= killed_at < count, "the kill did not land mid-campaign"
    names = sorted(p.name for p in out.iterdir() if not p.name.endswith(".part"))
    assert names == sorted([f"c{n:03d}.html" for n in range(count)] + [MARKER, "failures.jsonl"])
    for n in range(count):
        html = (out / f"c{n:03d}.html").read_text(encoding="utf-8")
        assert f"<p>Hello N{n}.</p>" in html and html.rstrip().endswith("</html>")
    assert renders_by_reader(sqlite_url) == {f"N{n}": 1 for n in range(count)}
    assert (out / "failures.jsonl").read_text() == ""
    assert f"{count} written, 0 failed" in err.decode()


def test_a_worker_stopped_mid_render_hands_its_line_on_rather_than_failing_it(
    tmp_path: Path, sqlite_url: str
) -> None:
    """A service manager stops a worker with SIGTERM to each of its processes (systemd's
    default), so the render process too, often inside a receipt's statement: here it waits at
    BEGIN IMMEDIATE for a lock the test holds. Its ``SystemExit`` had been taken for a lost
    database connection and reported as the line's failure."""
    url = broker_url(AMQP_ENV)
    count = 30
    contexts = write_contexts(tmp_path / "contexts.jsonl", count)
    out = tmp_path / "out"
    with workers(url, sqlite_url, 2) as (stopped, survivor):
        batch = started_batch(url, sqlite_url, contexts, out, written=5)
        holder = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        time.sleep(0.5)  # both render processes are waiting for the lock by now
        os.killpg(stopped.pid, signal.SIGTERM)
        time.sleep(0.3)
        holder.execute("ROLLBACK")
        holder.close()
        _, err = batch.communicate(timeout=90)
        assert stopped.wait(30) is not None and survivor.poll() is None
    assert batch.returncode == 0, err.decode()
    assert (out / "failures.jsonl").read_text() == ""
    assert sorted(p.name for p in out.glob("c*.html")) == [f"c{n:03d}.html" for n in range(count)]
    assert renders_by_reader(sqlite_url) == {f"N{n}": 1 for n in range(count)}


def test_a_campaign_run_again_renders_only_what_is_missing_and_shows_progress(
    tmp_path: Path, sqlite_url: str
) -> None:
    url = broker_url(REDIS_ENV)
    count = 20
    lines = write_contexts(tmp_path / "contexts.jsonl", count).read_text().splitlines()
    lines.insert(3, "{not json")
    out = tmp_path / "out"
    seen: list[tuple[int, int]] = []

    def campaign() -> tuple[int, int, int, list[tuple[int, int]]]:
        seen.clear()
        report = run_campaign(
            "letter",
            iter(lines),
            fmt="html",
            out_dir=out,
            queue_url=url,
            on_progress=lambda done, total: seen.append((done, total)),
        )
        assert [(f.line, f.code) for f in report.failures] == [(4, "bad_json")]
        return len(report.written), report.kept, len(report.failures), list(seen)

    with workers(url, sqlite_url, 1):
        written, kept, failed, progress = campaign()
        assert (written, kept, failed) == (count, 0, 1)
        assert progress == [(n, count) for n in range(count + 1)]  # each result as it came
        untouched = {p.name: p.stat().st_mtime_ns for p in out.glob("c*.html")}
        for n in (0, 7, 19):
            (out / f"c{n:03d}.html").unlink()
            del untouched[f"c{n:03d}.html"]

        written, kept, failed, progress = campaign()
    assert (written, kept, failed) == (3, count - 3, 1)
    assert progress == [(count - 3, count), (count - 2, count), (count - 1, count), (count, count)]
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("c*.html") if p.name in untouched} == (
        untouched
    )
    renders = renders_by_reader(sqlite_url)
    assert renders == {f"N{n}": 2 if n in (0, 7, 19) else 1 for n in range(count)}


def test_a_forged_task_cannot_write_outside_its_campaign_folder(
    tmp_path: Path, sqlite_url: str
) -> None:
    """Through the real broker and a real worker: who can enqueue cannot pick where to write."""
    url = broker_url(REDIS_ENV)
    out = tmp_path / "out"
    out.mkdir()
    (out / MARKER).write_text("a" * 32 + "\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    good = {
        "campaign": "a" * 32, "out_dir": str(out), "output": "ok.html", "publication": "letter",
        "line": 1, "context": {"locale": "en", "customer": {"name": "Eve"}}, "format": "html",
        "strict": False,
    }  # fmt: skip
    forged = [
        {**good, "output": "../escaped.html"},
        {**good, "output": str(elsewhere / "abs.html")},
        {**good, "out_dir": str(elsewhere), "output": "nomarker.html"},
        {**good, "campaign": "b" * 32, "output": "stale.html"},
        {**good, "format": "pdf", "output": "wrong-ext.html"},
        {**good, "run": "rm -rf /"},
        good,
    ]
    app = make_app(url)
    with workers(url, sqlite_url, 1):
        pending = send(app, [(f"forged-{n}-{time.time_ns()}", m) for n, m in enumerate(forged)])
        results = [r.get(timeout=30) for r in pending.results]
    assert [r["code"] for r in results] == ["bad_task"] * 6 + [None]
    assert "not a safe file name" in results[0]["message"]
    assert "cannot read campaign marker" in results[2]["message"]
    assert "not the folder of campaign" in results[3]["message"]
    assert results[5]["message"] == "bad task: run: Extra inputs are not permitted"
    written = [p.relative_to(tmp_path) for p in tmp_path.rglob("*.html") if "lib" not in p.parts]
    assert written == [Path("out/ok.html")]
    assert renders_by_reader(sqlite_url) == {"Eve": 1}
    json.dumps(results)  # results are plain JSON


def test_a_worker_replaces_its_render_process_every_recycle_tasks(
    tmp_path: Path, sqlite_url: str
) -> None:
    """``--recycle 2``: 4 tasks are rendered by two render processes, one after the other, and
    the worker itself stays."""
    url = broker_url(AMQP_ENV)
    contexts = write_contexts(tmp_path / "contexts.jsonl", 4)
    out = tmp_path / "out"
    with workers(url, sqlite_url, 1, "--recycle", "2") as (worker,):
        parent = psutil.Process(worker.pid)
        batch = subprocess.Popen(
            batch_command(url, sqlite_url, contexts, out),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        children: set[int] = set()
        while batch.poll() is None:
            try:
                children |= {child.pid for child in parent.children()}
            except psutil.NoSuchProcess:
                break
            time.sleep(0.02)
        assert worker.poll() is None
    assert batch.returncode == 0
    assert len(list(out.glob("c*.html"))) == 4
    assert len(children) >= 2, children
