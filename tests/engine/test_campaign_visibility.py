"""On Redis a task taken by a worker that was then killed goes to another worker once it has
been unacknowledged for ``worker --visibility-timeout`` seconds: not before (Redis cannot tell a
killed worker from a slow one), and not long after (the workers look for overdue tasks often).

The task is taken by a process of the test's own that holds it unacknowledged and is killed
with SIGKILL, as a worker killed mid-render: no goodbye puts the task back.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from content_engine.cli import main
from content_engine.engine.campaign import MARKER
from content_engine.queue import make_app, release, send
from tests.support.brokers import own_redis, renders_by_reader, workers, write_letter_library

pytestmark = pytest.mark.slow

TAKE = """
import sys, time
from content_engine.queue import QUEUE, make_app
with make_app(sys.argv[1]).connection_for_read() as conn:
    message = conn.default_channel.basic_get(QUEUE, no_ack=False)
    print("taken" if message is not None else "empty", flush=True)
    time.sleep(600)
"""


def test_a_task_whose_worker_was_killed_is_handed_on_after_the_visibility_timeout(
    tmp_path: Path,
) -> None:
    db_url = f"sqlite:///{tmp_path / 'ce.db'}"
    assert main(["import", str(write_letter_library(tmp_path / "lib")), "--db", db_url]) == 0
    out = tmp_path / "out"
    out.mkdir()
    (out / MARKER).write_text("c" * 32 + "\n")
    task = {
        "campaign": "c" * 32, "out_dir": str(out), "output": "eve.html", "publication": "letter",
        "line": 1, "context": {"locale": "en", "customer": {"name": "Eve"}}, "format": "html",
        "strict": False,
    }  # fmt: skip
    timeout = 10
    with own_redis(tmp_path) as redis:
        # Released at once: this test never waits for the result, and a dropped result set
        # would unsubscribe from this Redis, by then stopped, inside the garbage collector.
        release(send(make_app(redis.url), [("held-1", task)]))
        with subprocess.Popen(
            [sys.executable, "-c", TAKE, redis.url], stdout=subprocess.PIPE, text=True
        ) as taker:
            try:
                assert taker.stdout is not None and taker.stdout.readline().strip() == "taken"
                taken = time.monotonic()
            finally:
                taker.send_signal(signal.SIGKILL)
        extra = ("--visibility-timeout", str(timeout))
        with workers(redis.url, db_url, 1, *extra):
            while not (out / "eve.html").exists() and time.monotonic() < taken + 90:
                time.sleep(0.05)
        handed_on = time.monotonic() - taken
    assert (out / "eve.html").exists(), "the held task was never handed on"
    # Not before the timeout (the clock started a moment after the take), and soon after it.
    assert timeout - 1 <= handed_on < timeout + 30, handed_on
    assert renders_by_reader(db_url) == {"Eve": 1}
