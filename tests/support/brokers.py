"""Real brokers for the campaign tests, and ``content-engine worker`` processes on them.

``CONTENT_ENGINE_TEST_REDIS`` and ``CONTENT_ENGINE_TEST_AMQP`` name a Redis and a RabbitMQ
(``.ci/run`` starts both and sets them); without one, its tests are skipped. Every test starts
from an empty queue.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from content_engine.queue import make_app
from tests.support.engine_factory import write_files

REDIS_ENV = "CONTENT_ENGINE_TEST_REDIS"
AMQP_ENV = "CONTENT_ENGINE_TEST_AMQP"


def broker_url(env: str) -> str:
    """The broker's URL with its queue emptied; the test is skipped when ``env`` is unset."""
    url = os.environ.get(env)
    if not url:
        pytest.skip(f"needs a broker: set {env}")
    app = make_app(url)
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=2)
    app.control.purge()
    return url


def write_letter_library(root: Path) -> Path:
    """One publication whose single body names the reader, so each output says whose it is."""
    return write_files(
        root,
        {
            "library.yaml": "default_locale: en\nlocales: [en]\n",
            "c/hello/component.yaml": "id: hello\ntype: snippet\n",
            "c/hello/en.html": "<p>Hello {{ customer.name }}.</p>\n",
            "publications/letter.yaml": (
                "id: letter\ntitle: Letter\nslots: [{component: hello, required: true}]\n"
            ),
        },
    )


def write_contexts(path: Path, count: int) -> Path:
    lines = [
        json.dumps({"id": f"c{n:03d}", "context": {"locale": "en", "customer": {"name": f"N{n}"}}})
        for n in range(count)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def renders_by_reader(db_url: str) -> dict[str, int]:
    """How often each reader's document was rendered: one receipt per render."""
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        contexts = conn.execute(sa.text("SELECT context FROM render_receipts")).scalars().all()
    engine.dispose()
    counts: dict[str, int] = {}
    for context in contexts:
        name = (json.loads(context) if isinstance(context, str) else context)["customer"]["name"]
        counts[name] = counts.get(name, 0) + 1
    return counts


@contextmanager
def workers(
    url: str, db_url: str, count: int, *extra: str
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` worker processes (each in a session of its own), stopped at the end."""
    command = [sys.executable, "-m", "content_engine", "worker", "--queue", url, "--db", db_url]
    command += extra
    started = [
        subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(count)
    ]
    try:
        yield started
    finally:
        for process in started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in started:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)


class OwnRedis:
    """A ``redis-server`` of the test's own on a free loopback port, which the test stops and
    starts again at will (the broker lost mid-campaign, then back, empty: it keeps nothing on
    disk, as a Redis restarted without persistence). Skipped without the ``redis-server``
    program."""

    def __init__(self, folder: Path) -> None:
        from tests.support.servers import free_port

        if shutil.which("redis-server") is None:
            pytest.skip("needs the redis-server program")
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port)]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.folder)]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: the broker gone at once, without a goodbye to its clients."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None


@contextmanager
def own_redis(folder: Path) -> Iterator[OwnRedis]:
    """An ``OwnRedis``, started, and stopped at the end whatever happened."""
    server = OwnRedis(folder)
    server.start()
    try:
        yield server
    finally:
        server.kill()
