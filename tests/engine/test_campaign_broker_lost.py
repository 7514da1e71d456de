"""A campaign whose broker is lost mid-way and comes back: ``batch --queue`` says so in one line
and exits 1 rather than waiting for ever or printing a traceback; nothing already written is
lost or rendered twice, and the campaign run again renders exactly what is missing.

The broker is a ``redis-server`` of the test's own, killed with SIGKILL and started again
empty (no persistence): the tasks queued and not yet done are gone with it, which is the worst
case a rerun must mend.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from content_engine.cli import main
from tests.engine.test_campaign import batch_command
from tests.support.brokers import (
    own_redis,
    renders_by_reader,
    workers,
    write_contexts,
    write_letter_library,
)

pytestmark = pytest.mark.slow


def test_the_broker_lost_mid_campaign_is_one_line_and_a_rerun_renders_what_is_missing(
    tmp_path: Path,
) -> None:
    db_url = f"sqlite:///{tmp_path / 'ce.db'}"
    assert main(["import", str(write_letter_library(tmp_path / "lib")), "--db", db_url]) == 0
    count = 30
    contexts = write_contexts(tmp_path / "contexts.jsonl", count)
    out = tmp_path / "out"
    with own_redis(tmp_path) as redis, workers(redis.url, db_url, 2) as started:
        batch = subprocess.Popen(
            batch_command(redis.url, db_url, contexts, out),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 120  # the workers' start, on a busy machine
        while len(list(out.glob("c*.html"))) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        redis.kill()
        _, err = batch.communicate(timeout=60)
        lost = err.decode()
        assert batch.returncode == 1, lost
        assert f"error: lost the queue at {redis.url}" in lost, lost
        assert "run the campaign again to render what is missing" in lost
        assert "Traceback" not in lost
        written = {p.name for p in out.glob("c*.html")}
        assert 5 <= len(written) < count, "the broker was not lost mid-campaign"

        redis.start()  # back, and empty: what was queued is gone
        rerun = subprocess.run(
            batch_command(redis.url, db_url, contexts, out),
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert all(p.poll() is None for p in started), "a worker did not outlive the broker"
    assert rerun.returncode == 0, rerun.stderr.decode()
    for n in range(count):
        html = (out / f"c{n:03d}.html").read_text(encoding="utf-8")
        assert f"<p>Hello N{n}.</p>" in html and html.rstrip().endswith("</html>")
    # Nothing rendered twice: what was written before the loss was kept, not rendered again.
    assert renders_by_reader(db_url) == {f"N{n}": 1 for n in range(count)}
    summary = rerun.stderr.decode()
    assert f"{count - len(written)} written, {len(written)} already there, 0 failed" in summary
