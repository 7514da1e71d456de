"""Routes for whoever runs the server: ``GET /readyz`` and ``GET /metrics``.

``/readyz`` (no key: a load balancer's probe) is 200 ``{"ready": true}`` once the database
answers a trivial query (the revision, through the store's fault map and the SQLite file's
guard) and the library is loaded into memory, else 503 ``not_ready`` saying which of the two
is missing. It never takes much longer than ``READY_WITHIN`` seconds: the check runs in a
thread, one at a time however many probes come (a database that hangs must not fill the
thread pool with checks); a probe that arrives while one runs waits for that one, and past the
bound answers 503 while the check goes on. The first probe also starts loading the library,
which can take longer than the bound: later probes see it loaded.

``/metrics`` is the app's registry (``AppMetrics``) as Prometheus text. It says how the server
is used (routes, rates, data-source names), so it needs an admin key unless the deployment
sets ``metrics_public`` (a scraper on a private network) or the server is open.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from content_engine.core.errors import ContentEngineError
from content_engine.engine import Engine, domain_error_of
from content_engine.web.auth import require
from content_engine.web.errors import ApiError
from content_engine.web.headers import headers_of
from content_engine.web.metrics import AppMetrics

__all__ = ["READY_WITHIN", "Readiness", "install"]

READY_WITHIN = 1.0  # seconds a probe waits for the check before it answers 503
RETRY_AFTER = "1"


class NotReady(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason, self.message = reason, message


class Readiness:
    """The engine's readiness, checked at most once at a time."""

    def __init__(self, engine: Engine, within: float = READY_WITHIN) -> None:
        self.engine = engine
        self.within = within
        self._running: asyncio.Future[None] | None = None
        self._step = "database"  # what the running check is waiting on

    async def check(self) -> None:
        """Return when ready; ``NotReady`` (with the reason) otherwise or past ``within``."""
        running = self._running
        if running is None:
            running = self._running = asyncio.ensure_future(run_in_threadpool(self._check))
            running.add_done_callback(self._finished)
        try:
            # Shielded: one probe giving up must not cancel the check others wait for.
            await asyncio.wait_for(asyncio.shield(running), self.within)
        except TimeoutError:
            if self._step == "library":
                raise NotReady("loading", "the library is still being loaded") from None
            raise NotReady(
                "database", f"the database did not answer within {self.within:g} s"
            ) from None

    def _finished(self, done: asyncio.Future[None]) -> None:
        self._running = None
        if not done.cancelled():
            done.exception()  # retrieved: a failed check is the next probe's to report

    def _check(self) -> None:
        """Blocking: one query, then the library loaded if it is not yet."""
        self._step = "database"
        try:
            self.engine.revision()
            if self.engine.loaded() is None:
                self._step = "library"
                self.engine.library()
        except ContentEngineError as exc:
            raise NotReady(self._step, exc.message) from None
        except Exception as exc:
            found = domain_error_of(exc)
            if found is None:
                raise
            raise NotReady(self._step, found.message) from None


async def readyz(request: Request) -> dict[str, Any]:
    """200 once the database answers and the library is loaded; 503 ``not_ready`` before."""
    readiness: Readiness = request.app.state.readiness
    try:
        await readiness.check()
    except NotReady as exc:
        raise ApiError(
            503,
            "not_ready",
            exc.message,
            details={"reason": exc.reason},
            headers={"Retry-After": RETRY_AFTER},
        ) from None
    return {"ready": True}


async def metrics(request: Request) -> Response:
    """Every metric of this server process, in Prometheus's text format."""
    registry: AppMetrics = request.app.state.metrics
    body, media_type = registry.exposition(headers_of(request.scope).accept)
    return Response(body, media_type=media_type, headers={"Cache-Control": "no-store"})


def install(app: FastAPI, *, metrics_public: bool) -> None:
    # No key for a public /metrics; else the admin role (``--open`` lets everyone in as one).
    guard: list[Any] = [] if metrics_public else [require("admin")]
    router = APIRouter(tags=["service"])
    router.add_api_route("/readyz", readyz, methods=["GET"])
    router.add_api_route(
        "/metrics",
        metrics,
        methods=["GET"],
        dependencies=guard,
        response_class=Response,
        responses={200: {"content": {"text/plain": {}}}},
    )
    app.include_router(router)
