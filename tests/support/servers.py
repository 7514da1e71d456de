"""A real ``content-engine serve`` process on a free loopback port, for tests that need HTTP
over a socket (the ASGI test client covers the rest)."""

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

from tests.support.engine_factory import ROOT

STARTUP_SECONDS = 30.0


def cli_env(**extra: str) -> dict[str, str]:
    """The environment of a CLI subprocess: the checkout's data folders (not the working
    directory's), no stray settings, and ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTENT_ENGINE_")}
    return env | {"CONTENT_ENGINE_HOME": str(ROOT), "PYTHONUNBUFFERED": "1"} | extra


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "content_engine", *args]


def run_cli(
    *args: str, cwd: Path, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    """``content-engine ARGS`` in a subprocess, whatever its exit code; ``env`` added."""
    return subprocess.run(
        cli_command(*args),
        cwd=cwd,
        env=cli_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``run_cli`` that must succeed."""
    result = run_cli(*args, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result


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
def serve(db_url: str, tmp_path: Path, *extra: str, port: int | None = None) -> Iterator[Server]:
    """A running ``serve`` (on ``port``, else a free one); waits (bounded) until /healthz
    answers, stops it whatever happens."""
    port = port or free_port()
    log = tmp_path / f"serve-{port}.log"
    command = cli_command("serve", "--host", "127.0.0.1", "--port", str(port), "--db", db_url)
    command += extra
    with log.open("wb") as err:
        process = subprocess.Popen(
            command, cwd=tmp_path, env=cli_env(), stdout=subprocess.DEVNULL, stderr=err
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
