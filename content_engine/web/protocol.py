"""How the server takes connections: its event loop, and Nagle's algorithm off on each one.

The loop (``settings.event_loop_for``): asyncio's accepts every connection waiting when the
listening socket is ready; uvloop's (libuv since 1.45) one per pass of the loop. One worker
busy with every request in flight therefore let the 20th client to connect wait 20 passes
under uvloop (the per-customer benchmark's p99: 4.3-4.5x the hand-written route's, 1.1x under
asyncio). Several workers share one listening socket, and there asyncio's greed is the fault:
the first worker to wake took a whole burst of connections and kept them (all 32 of a wrk run,
three runs of three; 8,900 stored blocks per second from 2 workers), while uvloop's one at a
time spread them (14 to 21 per worker; 17,600 per second).

An answer goes out in two writes (the head, then the body). With Nagle's algorithm on, the
second waits until the client acknowledges the first, and a client delays that ACK by 40 ms:
every keep-alive request after a connection's first then takes 40 ms more. asyncio's loop
turns Nagle off only on sockets that say they are TCP, and the socket uvicorn binds for
``--workers N`` does not (uvicorn issue 3149: measured here, 2 workers on asyncio's loop
answered 730 req/s at a 44 ms median, 2 on uvloop's 15,000). So each connection turns it off
itself, on either loop.
"""

from __future__ import annotations

import asyncio
import socket
from contextlib import suppress

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


def no_delay(transport: asyncio.BaseTransport) -> None:
    """Turn off Nagle's algorithm on ``transport``'s socket if it is a TCP one."""
    sock = transport.get_extra_info("socket")
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return  # a Unix socket (--uds) has no Nagle to turn off
    with suppress(OSError):  # the client is gone already: the protocol meets that itself
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayHttpProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` (uvicorn's ``http="httptools"``) with ``TCP_NODELAY`` set."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        no_delay(transport)
        super().connection_made(transport)
