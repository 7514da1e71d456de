"""A real ``serve`` with catastrophic segment rules stays responsive under hostile readers.

The library holds ``^(a+)+$`` on ``region`` and ``\\s+$`` on ``customer.note``. With Python's
backtracking ``re`` one request with ``region=aaaa…a-`` held the event loop for seconds (and
doubles per character: 63 of them would never finish); ``/healthz`` waited behind it. Here
readers keep sending such requests from four threads, and each ``/healthz`` probe goes out right
after a hostile answer, while the other threads' requests are in flight.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
import pytest

from tests.support.engine_factory import copy_sample
from tests.support.servers import cli, serve

pytestmark = pytest.mark.slow

RULES = """\
  - segment: all-a
    when: {attr: region, op: matches, value: '^(a+)+$'}
  - segment: trailing-space
    when: {attr: customer.note, op: matches, value: '\\s+$'}
  - segment: words
    when: {attr: customer.name, op: matches, value: '^(\\w+\\s?)+$'}
"""
BLOCK = "/v1/blocks/snippet.hotline"
# Generous: each answer takes milliseconds; the old engine took longer than any test runs.
PROBE_SECONDS = 5.0
FLOOD_STARTS_WITHIN = 60.0


@pytest.fixture
def server_and_key(tmp_path: Path) -> tuple[Path, str, str]:
    root = copy_sample(tmp_path)
    settings = root / "library.yaml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(text.replace("segment_rules:\n", "segment_rules:\n" + RULES), "utf-8")
    url = f"sqlite:///{tmp_path / 'x.db'}"
    cli("import", str(root), "--db", url, cwd=tmp_path)
    key = cli("keys", "create", "--role", "reader", "--db", url, cwd=tmp_path).stdout.strip()
    return tmp_path, url, key


def hostile(http: httpx2.Client, n: int) -> int:
    """One hostile request of three kinds, each with a reader the server has not seen."""
    kind = n % 3
    if kind == 0:
        region = "a" * (40 + n % 23) + "-"
        return http.get(BLOCK, params={"locale": "en", "region": region}).status_code
    customer = {"note": " " * 9_000 + f"x{n}", "name": "Anna Berg " * 900 + f"!{n}"}
    if kind == 1:
        body = {
            "context": {"locale": "en", "customer": customer},
            "components": ["snippet.hotline"],
        }
        return http.post("/v1/blocks", json=body).status_code
    body = {"publication": "manual.hp200", "context": {"locale": "en", "customer": customer}}
    return http.post("/v1/render", json=body).status_code


def test_healthz_answers_promptly_while_hostile_readers_send_catastrophic_input(
    server_and_key: tuple[Path, str, str],
) -> None:
    tmp_path, url, key = server_and_key
    auth = {"Authorization": f"Bearer {key}"}
    stop = threading.Event()
    answered: list[int] = []
    progress = threading.Condition()

    def flood(worker: int) -> None:
        with httpx2.Client(base_url=server.url, headers=auth, timeout=120) as http:
            n = worker
            while not stop.is_set():
                status = hostile(http, n)
                n += 4
                with progress:
                    answered.append(status)
                    progress.notify_all()

    def next_hostile_answer() -> None:
        """Wait (bounded) until one more hostile request has been answered."""
        with progress:
            seen = len(answered)
            arrived = progress.wait_for(lambda: len(answered) > seen, FLOOD_STARTS_WITHIN)
        assert arrived, f"hostile requests stalled after {seen} answers"

    with serve(url, tmp_path) as server, ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(flood, w) for w in range(4)]
        try:
            with httpx2.Client(base_url=server.url, timeout=PROBE_SECONDS * 2) as probe:
                # Each probe goes out right after a hostile answer, while the other three
                # threads' requests are in flight: interleaved by construction.
                for _ in range(10):
                    next_hostile_answer()
                    start = time.monotonic()
                    assert probe.get("/healthz").status_code == 200
                    assert time.monotonic() - start < PROBE_SECONDS
        finally:
            stop.set()
        for future in futures:
            future.result(timeout=120)
    assert answered and set(answered) == {200}, sorted(set(answered))
