"""Publish-to-seen latency across servers: PostgreSQL ``NOTIFY`` vs polling every 0.5 s.

Two ``content-engine serve`` processes on one database; an editor publishes a variant through
the first (``PUT ... status=published``) and a reader asks the second for the block as fast as
it answers, until it serves the new text. The seconds from the publish's answer to that are
one sample. Ours: a PostgreSQL database with ``--refresh 30`` (only a notification explains a
fast update). Baseline: the same servers polling every 0.5 s (``--refresh 0.5``, the default)
on a SQLite file, which has no notifications: what every deployment had before.

PostgreSQL is the one ``CONTENT_ENGINE_TEST_PG`` names, else ``postgresql://postgres@127.0.0.1
:5432/test``; a scratch database is made there and dropped. Without a server the row says so.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import statistics
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from benchmarks.measure import console_script, free_port, process, tail

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
LIBRARY = {
    "library.yaml": "default_locale: en\nlocales: [en]\n",
    "c/note/component.yaml": "id: note\ntype: snippet\n",
    "c/note/any.html": "<p>text 0</p>\n",
}
SEEN_LIMIT = 5.0  # seconds; a publish not seen by then is counted at this
POLL = 0.002  # seconds between a reader's requests: a busy reader, not a flood of them


@dataclass
class Latency:
    samples: list[float]

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p99(self) -> float:
        return statistics.quantiles(self.samples, n=100, method="inclusive")[98]


def pg_admin_url() -> str | None:
    """A PostgreSQL server to make a scratch database on, or ``None`` if none answers."""
    url = os.environ.get("CONTENT_ENGINE_TEST_PG") or DEFAULT_PG
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3):
            return url
    except Exception:
        return None


@contextlib.contextmanager
def scratch_pg(admin: str) -> Iterator[str]:
    import psycopg
    from sqlalchemy import make_url

    name = f"ce_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(admin).set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def measure(db_url: str, refresh: float, publishes: int, work: Path) -> Latency:
    """``publishes`` samples of publish-to-seen between two servers on ``db_url``."""
    from content_engine import Engine, Settings
    from content_engine.store import Repository

    folder = work / "listen-lib"
    for rel, content in LIBRARY.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(content, encoding="utf-8")
    with Engine(Settings(db_url=db_url)) as engine:
        engine.import_library(folder)
    with Repository(db_url) as repository:
        editor = repository.create_key("editor", "benchmarks")[1]
        reader = repository.create_key("reader", "benchmarks")[1]
    with server(db_url, refresh, work, "one") as one, server(db_url, refresh, work, "two") as two:
        ask(two, "/v1/blocks/note?locale=en", reader)  # loaded before the first publish
        samples = []
        version = 1
        for n in range(1, publishes + 1):
            body = {"status": "published", "body": f"<p>text {n}</p>"}
            status, answer = ask(
                one, "/v1/components/note/variants/any", editor, body, f'"{version}"'
            )
            if status != 200:
                raise RuntimeError(f"publish {n} answered {status}: {answer[:300]!r}")
            version = json.loads(answer)["version"]
            done = time.perf_counter()
            wanted = f"<p>text {n}</p>".encode()
            while wanted not in ask(two, "/v1/blocks/note?locale=en", reader)[1]:
                if time.perf_counter() - done > SEEN_LIMIT:
                    break
                time.sleep(POLL)
            samples.append(min(time.perf_counter() - done, SEEN_LIMIT))
            time.sleep(0.05)  # publishes apart, as editors make them
    return Latency(samples)


@contextlib.contextmanager
def server(db_url: str, refresh: float, work: Path, name: str) -> Iterator[str]:
    port = free_port()
    cmd = [*console_script("content-engine"), "serve", "--port", str(port), "--db", db_url]
    cmd += ["--refresh", f"{refresh:g}"]
    logfile = work / f"listen-{name}.log"
    with process(cmd, log=logfile) as proc:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}:\n{tail(logfile)}")
            try:
                if ask(base, "/healthz", "")[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server not ready after 60 s:\n{tail(logfile)}")
            time.sleep(0.1)
        yield base


def ask(
    base: str, path: str, key: str, body: object = None, if_match: str | None = None
) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if if_match is not None:
        headers["If-Match"] = if_match
    request = urllib.request.Request(
        base + path, data=data, headers=headers, method="PUT" if data else "GET"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


__all__ = ["Latency", "measure", "pg_admin_url", "scratch_pg"]
