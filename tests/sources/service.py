"""A real HTTP service on 127.0.0.1 that behaves as badly as a system of record can.

Each path's first segment picks a behaviour; every request is counted by path so tests can
prove how often a source really asked. ``/customers/{id}`` answers the ``CUSTOMERS`` below (404
for others); ``/slow/{id}`` does the same after ``SLOW_SECONDS``, ``/gate/{id}`` once the test
opens ``Service.gate`` (at most ``GATE_SECONDS`` later); ``/echo/...`` answers the raw
path and query it received; the rest misbehave as their names say.
"""

from __future__ import annotations

import functools
import gzip
import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

CUSTOMERS = {
    "C-1": {"id": "C-1", "name": "Anna Huber", "tier": "gold"},
    "C-2": {"id": "C-2", "name": "Ben Ort", "tier": "silver"},
}
SLOW_SECONDS = 0.4
GATE_SECONDS = 10.0
HUGE = 50 * 2**20


@functools.cache
def _gzip_bomb() -> bytes:
    """50 MB of spaces in about 50 kB, compressed once before serving: compressing while a
    request waits took longer than a source's timeout on a loaded machine, so the test saw a
    timeout, not the bomb."""
    return gzip.compress(b" " * HUGE, compresslevel=9)


@dataclass
class Service:
    port: int
    hits: Counter[str] = field(default_factory=Counter)
    # Paths answered 503 this many more times before they answer properly.
    failures_left: Counter[str] = field(default_factory=Counter)
    headers_seen: list[dict[str, str]] = field(default_factory=list)
    active: int = 0  # requests being answered now ...
    peak: int = 0  # ... and the most at once
    stop: threading.Event = field(default_factory=threading.Event)
    gate: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def count(self, prefix: str) -> int:
        with self.lock:
            return sum(n for path, n in self.hits.items() if path.startswith(prefix))


def _handler(service: Service) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes: no delayed-ACK stall

        def log_message(self, *_: Any) -> None:
            pass

        def _json(self, status: int, data: Any) -> None:
            body = json.dumps(data).encode()
            self._bytes(status, body, "application/json")

        def _bytes(self, status: int, body: bytes, kind: str, **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path = self.path
            with service.lock:
                service.hits[path.partition("?")[0]] += 1
                service.headers_seen.append(dict(self.headers))
                failing = service.failures_left[path] > 0
                if failing:
                    service.failures_left[path] -= 1
            parts = path.partition("?")[0].split("/")
            what = parts[1] if len(parts) > 1 else ""
            rest = "/".join(parts[2:])
            with service.lock:
                service.active += 1
                service.peak = max(service.peak, service.active)
            try:
                with suppress(BrokenPipeError, ConnectionResetError):
                    self._behave(what, rest, failing)
            finally:
                with service.lock:
                    service.active -= 1

        def _behave(self, what: str, rest: str, failing: bool) -> None:
            if failing:
                self._json(503, {"error": "try later"})
            elif what in ("customers", "slow", "flaky", "gate"):
                if what == "slow":
                    service.stop.wait(SLOW_SECONDS)
                elif what == "gate":
                    service.gate.wait(GATE_SECONDS)
                found = CUSTOMERS.get(unquote(rest))
                self._json(200, found) if found else self._json(404, {"error": "none"})
            elif what == "list":
                self._json(200, [{"n": i, "key": rest} for i in range(int(rest or 0))])
            elif what == "echo":
                self._json(200, {"path": self.path})
            elif what == "hang":
                service.stop.wait(30)
                self.close_connection = True  # answer nothing, and hang up
            elif what == "status":
                self._json(int(rest), {"error": "status"})
            elif what == "garbage":
                self._bytes(200, b"<html>not json at all\x00\xff", "application/json")
            elif what == "scalar":
                self._bytes(200, b"42", "application/json")
            elif what == "deep":
                self._bytes(200, b"[" * 100_000 + b"]" * 100_000, "application/json")
            elif what == "nul":
                self._json(200, {"name": "a\u0000b"})
            elif what == "huge":
                self._huge(declared=rest != "chunked")
            elif what == "gzipbomb":
                self._bytes(200, _gzip_bomb(), "application/json", Content_Encoding="gzip")
            elif what == "drip":
                self._drip()
            elif what == "redirect":
                target = f"http://localhost:{service.port}/customers/C-1"
                if rest == "same":
                    target = "/customers/C-1"
                elif rest == "loop":
                    target = "/redirect/loop"
                self.send_response(302)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self._json(404, {"error": "no such behaviour"})

        def _huge(self, *, declared: bool) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if declared:
                self.send_header("Content-Length", str(HUGE))
            else:
                self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b" " * 65536
            for _ in range(HUGE // len(chunk)):
                if service.stop.is_set():
                    return
                if declared:
                    self.wfile.write(chunk)
                else:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))

        def _drip(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            for _ in range(100_000):
                if service.stop.wait(0.1):
                    return
                self.wfile.write(b" ")
                self.wfile.flush()

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # a burst of 100 connections at once (the default backlog is 5)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up (the sources close idle connections) is no error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def running() -> Iterator[Service]:
    """A fresh service on a free port, stopped (hung requests released) at the end."""
    _gzip_bomb()  # made before any request waits for it
    server = _Server(("127.0.0.1", 0), BaseHTTPRequestHandler)
    service = Service(port=server.server_address[1])
    server.RequestHandlerClass = _handler(service)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield service
    finally:
        service.stop.set()
        service.gate.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
        time.sleep(0)
