"""Every request gets an id, is counted and timed by its route, and (optionally) logged.

In: an HTTP request, with or without a client's ``X-Request-ID``. Out: the same answer with an
``X-Request-ID`` header (and ``X-Content-Type-Options: nosniff``, see ``nosniff``), the id in
``REQUEST_ID`` while the request is served (every log line and every error body names it:
``engine.logs``, ``errors.error_body``), the request counted and timed in ``AppMetrics`` under
its route template, and with ``access_log`` one line for it.

A client's id is taken only when it is one short token of safe characters (``SAFE_ID``): a
proxy's or a load balancer's id then follows the request through our logs; anything else (a
CR or LF, a NUL, 10 kB, two copies) is replaced by one of ours, never echoed, never logged.
Ours are a random prefix per app and a counter: unique across workers and restarts, and
cheaper than a UUID on the fast path's budget of tens of microseconds.

Outermost of all middleware (outside Starlette's error middleware), so that the answers the
others make themselves (a repeated header's 400, a body's 413, a 500) carry the id too. One
wrapper of ``send`` for both headers: each layer costs about a microsecond per request.
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
from time import perf_counter
from typing import Any

from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from content_engine.engine import ACCESS_LOGGER, REQUEST_ID
from content_engine.web.metrics import NO_ROUTE, AppMetrics
from content_engine.web.nosniff import HEADER as NOSNIFF
from content_engine.web.nosniff import says_nosniff

__all__ = ["FAST_PATH_KEY", "HEADER", "SAFE_ID", "Observe"]

HEADER = b"x-request-id"
SAFE_ID = re.compile(rb"[A-Za-z0-9._:+=/-]{1,64}")
# The fast path leaves here whether it answered a GET block request it considered.
FAST_PATH_KEY = "content_engine.fast_path"
FAST_PATH_ROUTE = "/v1/blocks/{component}"  # the route whose answers the fast path sends
MAX_LOGGED_PATH = 1000

access = logging.getLogger(ACCESS_LOGGER)


def given_id(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    """The client's ``X-Request-ID`` if it came once and is safe, else ``None``."""
    found: bytes | None = None
    for name, value in headers:
        if len(name) == 12 and name.lower() == HEADER:  # 12: len(HEADER), checked first
            if found is not None:
                return None  # two ids: which would the client look for?
            found = value
    return found if found is not None and SAFE_ID.fullmatch(found) else None


class Observe:
    """ASGI middleware: request id, nosniff, metrics by route, access log."""

    def __init__(
        self,
        app: ASGIApp,
        metrics: AppMetrics,
        routes: list[BaseRoute],
        access_log: bool = False,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes  # the app's, for the templates of routes that are not APIRoutes
        self.access_log = access_log
        self._prefix = secrets.token_hex(6)
        self._counter = itertools.count(1)
        self._templates: dict[Any, str] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = given_id(scope["headers"])
        request_id = raw.decode() if raw else f"{self._prefix}-{next(self._counter):x}"
        header = (HEADER, raw or request_id.encode())
        token = REQUEST_ID.set(request_id)
        status = 500  # what the client gets if the app fails before it answers
        started = perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = message.get("headers", [])
                added = [header] if says_nosniff(headers) else [header, NOSNIFF]
                # A new message: the one sent may be a stored response's, sent again later.
                message = {**message, "headers": [*headers, *added]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except BaseException:
            # The id stays set: the server's own report of the error names it too.
            self._answered(scope, status, perf_counter() - started)
            raise
        self._answered(scope, status, perf_counter() - started)
        REQUEST_ID.reset(token)

    def _answered(self, scope: Scope, status: int, seconds: float) -> None:
        fast = scope.get(FAST_PATH_KEY)  # None: not a request the fast path looks at
        if fast is None:
            route = self._route(scope)
        else:
            self.metrics.fast_path(fast)
            route = FAST_PATH_ROUTE if fast else self._route(scope)
        self.metrics.answered(route, scope["method"], status, seconds)
        if self.access_log:
            self._log(scope, route, status, seconds)

    def _route(self, scope: Scope) -> str:
        """The template of the route that answered (``/v1/components/{component_id}``)."""
        route = scope.get("route")  # FastAPI's routes leave themselves here
        if route is not None:
            return str(route.path)
        endpoint = scope.get("endpoint")  # Starlette's own (the API docs) and mounts
        if endpoint is None:
            return NO_ROUTE
        if self._templates is None:
            self._templates = _templates(self.routes)
        return self._templates.get(endpoint, NO_ROUTE)

    @staticmethod
    def _log(scope: Scope, route: str, status: int, seconds: float) -> None:
        path = scope["path"][:MAX_LOGGED_PATH]  # never the query: lookup keys are personal
        ms = round(seconds * 1000, 3)
        access.info(
            "%s %s %d %.1f ms",
            scope["method"],
            path,
            status,
            ms,
            extra={
                "method": scope["method"],
                "path": path,
                "route": route,
                "status": status,
                "duration_ms": ms,
            },
        )


def _templates(routes: list[BaseRoute]) -> dict[Any, str]:
    """Endpoint (or mounted app) -> template, for the routes that do not name themselves."""
    found: dict[Any, str] = {}
    for route in routes:
        if isinstance(route, Route):
            found[route.endpoint] = route.path
        elif isinstance(route, Mount):
            found[route.app] = route.path + "/{path}"
    return found
