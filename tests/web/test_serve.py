"""``content-engine serve`` as a real process on a real port, reached over HTTP.

The database gets the sample library and a reader key through the CLI, as an operator would
set it up; every server started here is terminated in a ``finally``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest

from tests.engine_factory import ROOT, SAMPLE

pytestmark = pytest.mark.slow

STARTUP_SECONDS = 20.0
BLOCK = "/v1/blocks/snippet.hotline"


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "content_engine", *args],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result


def _env() -> dict[str, str]:
    # The engine's data folders are found from the checkout, not from the working directory.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTENT_ENGINE_")}
    return env | {"CONTENT_ENGINE_HOME": str(ROOT), "PYTHONUNBUFFERED": "1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    stderr: Path

    def log(self) -> str:
        return self.stderr.read_text(encoding="utf-8", errors="replace")


@contextmanager
def serve(db_url: str, tmp_path: Path, *extra: str) -> Iterator[Server]:
    """A running ``serve``; waits (bounded) until /healthz answers, stops it whatever happens."""
    port = free_port()
    log = tmp_path / f"serve-{port}.log"
    command = [sys.executable, "-m", "content_engine", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--db", db_url, *extra]
    with log.open("wb") as err:
        process = subprocess.Popen(
            command, cwd=tmp_path, env=_env(), stdout=subprocess.DEVNULL, stderr=err
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_until_healthy(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_until_healthy(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"serve exited with {server.process.returncode}:\n{server.log()}")
        try:
            if httpx2.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"serve did not answer /healthz within {STARTUP_SECONDS} s:\n{server.log()}")


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    cli("import", str(SAMPLE), "--db", url, cwd=tmp_path)
    return url


def test_serve_checks_keys_over_http(db_url: str, tmp_path: Path) -> None:
    created = cli("keys", "create", "--role", "reader", "--db", db_url, cwd=tmp_path)
    key = created.stdout.strip()
    assert key.startswith("ce_") and "\n" not in key
    with serve(db_url, tmp_path) as server, httpx2.Client(base_url=server.url) as http:
        ok = http.get(BLOCK, params={"locale": "en"}, headers={"Authorization": f"Bearer {key}"})
        assert ok.status_code == 200, ok.text
        assert ok.headers["content-type"].startswith("text/html")
        assert ok.text.startswith("<")
        refused = http.get(BLOCK, params={"locale": "en"})
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "unauthorized"
        assert "OPEN ACCESS" not in server.log()
    assert key not in server.log()


def test_serve_open_warns_loudly_and_needs_no_key(db_url: str, tmp_path: Path) -> None:
    with serve(db_url, tmp_path, "--open") as server, httpx2.Client(base_url=server.url) as http:
        response = http.get(BLOCK, params={"locale": "en"})
        assert response.status_code == 200, response.text
        assert response.text.startswith("<")
        # Editors' routes too: without keys every caller is admin.
        assert http.get("/v1/lint").status_code == 200
        log = server.log()
    assert "WARNING: --open: no API keys are checked" in log
    assert "Never expose this server" in log
