"""Connections: Nagle's algorithm off on every connection, on both event loops and however many
workers, and the event loop ``serve --loop`` names (or ``auto`` picks) is the one that runs.

With Nagle on, an answer's body (written after its head) waits for the client's delayed ACK:
40 ms per keep-alive request on Linux. uvicorn's socket for ``--workers N`` left it on under
asyncio's loop (uvicorn issue 3149), which these tests saw as a 44 ms median.
"""

from __future__ import annotations

import asyncio
import http.client
import socket
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import pytest
import uvloop

from content_engine.core.errors import InputError
from content_engine.settings import event_loop_for
from content_engine.web.protocol import no_delay
from tests.support.servers import run_cli, serve

LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop,
    "uvloop": uvloop.new_event_loop,
}


class _Probe(asyncio.Protocol):
    """Records the accepted socket's TCP_NODELAY after ``no_delay``."""

    seen: ClassVar[list[int | None]] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        no_delay(transport)
        sock = transport.get_extra_info("socket")
        tcp = sock.family in (socket.AF_INET, socket.AF_INET6)
        self.seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) if tcp else None)
        transport.close()


def _accept_one(loop_name: str, listener: socket.socket, connect: Callable[[], None]) -> int | None:
    """What ``_Probe`` saw on the one connection ``connect`` makes to ``listener``."""
    _Probe.seen = []

    async def run() -> None:
        server = await asyncio.get_running_loop().create_server(_Probe, sock=listener)
        async with server:
            await asyncio.get_running_loop().run_in_executor(None, connect)
            for _ in range(200):
                if _Probe.seen:
                    return
                await asyncio.sleep(0.01)

    loop = LOOPS[loop_name]()
    try:
        loop.run_until_complete(run())
    finally:
        loop.close()
    assert len(_Probe.seen) == 1
    return _Probe.seen[0]


@pytest.mark.parametrize("loop_name", sorted(LOOPS))
def test_no_delay_on_a_socket_bound_as_uvicorn_binds_for_workers(loop_name: str) -> None:
    # proto left at 0, as uvicorn's Config.bind_socket leaves it: asyncio then skips TCP_NODELAY.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]

    def connect() -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            client.recv(1)  # until the server closes

    assert _accept_one(loop_name, listener, connect) == 1


@pytest.mark.parametrize("loop_name", sorted(LOOPS))
def test_a_unix_socket_is_left_alone(loop_name: str, tmp_path: Path) -> None:
    path = str(tmp_path / "s")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen()

    def connect() -> None:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(path)
            client.recv(1)

    assert _accept_one(loop_name, listener, connect) is None


def _keep_alive_median(url: str, requests: int = 25) -> float:
    """Median seconds of ``requests`` GET /healthz on one keep-alive connection, the first
    (the connection's set-up) left out."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    took = []
    try:
        for _ in range(requests + 1):
            start = time.perf_counter()
            connection.request("GET", "/healthz")
            answer = connection.getresponse()
            assert answer.status == 200
            answer.read()
            took.append(time.perf_counter() - start)
    finally:
        connection.close()
    return statistics.median(took[1:])


@pytest.mark.slow
@pytest.mark.parametrize(("loop_name", "workers"), [("asyncio", 2), ("uvloop", 2), ("asyncio", 1)])
def test_keep_alive_answers_do_not_wait_for_the_clients_ack(
    loop_name: str, workers: int, tmp_path: Path
) -> None:
    db_url = f"sqlite:///{tmp_path / 'x.db'}"
    with serve(db_url, tmp_path, "--workers", str(workers), "--loop", loop_name) as server:
        median = _keep_alive_median(server.url)
        log = server.log()
    # Nagle's wait is the client's delayed ACK, at least 40 ms on Linux; an answer of /healthz
    # takes about 1 ms, and the margin is for a loaded machine.
    assert median < 0.03, f"median {median * 1e3:.1f} ms per keep-alive request\n{log}"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("given", "workers", "runs"),
    [
        ("asyncio", 1, "asyncio"),
        ("uvloop", 1, "uvloop"),
        ("auto", 1, "asyncio"),
        ("auto", 2, "uvloop"),
    ],
)
def test_serve_runs_the_loop_it_was_given(
    given: str, workers: int, runs: str, tmp_path: Path
) -> None:
    db_url = f"sqlite:///{tmp_path / 'x.db'}"
    with serve(db_url, tmp_path, "--loop", given, "--workers", str(workers)) as server:
        deadline = time.monotonic() + 30
        while server.log().count("event loop: ") < workers and time.monotonic() < deadline:
            time.sleep(0.1)  # /healthz answered by one worker: the other may still start
        log = server.log()
    assert log.count(f"event loop: {runs}\n") == workers, log


def test_the_loop_follows_the_workers_unless_named() -> None:
    def loop(setting: str, workers: int, installed: bool = True) -> str:
        return event_loop_for(setting, workers, uvloop_installed=installed)

    assert loop("auto", 1) == "asyncio"
    assert [loop("auto", n) for n in (2, 3, 64)] == ["uvloop"] * 3
    assert loop("asyncio", 4) == "asyncio"
    assert loop("uvloop", 1) == "uvloop"
    # Where uvloop is not built (Windows, PyPy): auto runs asyncio's, by name it is refused.
    assert [loop("auto", n, installed=False) for n in (1, 2)] == ["asyncio"] * 2
    assert loop("asyncio", 2, installed=False) == "asyncio"
    with pytest.raises(InputError, match="uvloop is not installed"):
        loop("uvloop", 1, installed=False)


@pytest.mark.slow
def test_serve_refuses_uvloop_by_name_where_it_is_missing(tmp_path: Path) -> None:
    # A sitecustomize that hides uvloop, as on Windows: the refusal is one line and exit 2.
    hidden = tmp_path / "hide"
    hidden.mkdir()
    (hidden / "sitecustomize.py").write_text(
        "import sys\nsys.modules['uvloop'] = None\n", encoding="utf-8"
    )
    db_url = f"sqlite:///{tmp_path / 'x.db'}"
    result = run_cli(
        "serve", "--loop", "uvloop", "--db", db_url, cwd=tmp_path, PYTHONPATH=str(hidden)
    )
    assert result.returncode == 2, result.stderr
    assert "uvloop is not installed" in result.stderr
    assert "Traceback" not in result.stderr
