"""The ASGI application: ``create_app(settings)`` builds the engine in its lifespan.

Routes live in ``touchpoints`` and ``library_api``, the editors' workbench (HTML pages) in
``ui``; this module wires them with the error shape, the request-size limit and the refusal of
unknown query parameters.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, get_args, get_origin

import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from content_engine.engine import Engine
from content_engine.settings import Settings
from content_engine.web import (
    apidocs,
    assets_api,
    errors,
    feedback_api,
    library_api,
    operations,
    touchpoints,
    ui,
    xliff_api,
)
from content_engine.web.auth import VerifiedKeys
from content_engine.web.blockspost import BlocksFastPath
from content_engine.web.bodies import refuse_unstorable_query
from content_engine.web.errors import ApiError, error_body
from content_engine.web.fastpath import BlockFastPath
from content_engine.web.headers import HeaderCheck, headers_of
from content_engine.web.heap import HeapSettler
from content_engine.web.metrics import AppMetrics
from content_engine.web.observe import Observe
from content_engine.web.operations import Readiness
from content_engine.web.refresher import Refresher
from content_engine.web.touchpoints import LOOKUP_PREFIX, query_context

DEFAULT_THREADS = 40  # anyio's thread pool

logger = logging.getLogger("content_engine.web")


async def reject_unknown_query(request: Request) -> None:
    """A misspelt parameter (``?regoin=AT``) must not silently change what is served, nor may a
    repeated one (``?locale=fr&locale=de``): which copy counts would be a guess, and the fast
    path keys on the query as sent."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    params = _all_query_params(dependant)
    known = {p.alias for p in params}
    unknown = sorted(set(request.query_params) - known)
    if _takes_lookup(dependant):  # ``lookup.<name>``: the reader's lookup keys (CONTRACT 8)
        unknown = [n for n in unknown if not n.startswith(LOOKUP_PREFIX)]
    if unknown:
        raise ApiError(
            400,
            "unknown_parameter",
            f"unknown query parameter {unknown[0]!r}"
            + (f"; known: {', '.join(sorted(known))}" if known else ""),
            details={"unknown": unknown, "known": sorted(known)},
        )
    single = {p.alias for p in params if not _repeatable(p.field_info.annotation)}
    repeated = sorted(n for n in single if len(request.query_params.getlist(n)) > 1)
    if repeated:
        raise ApiError(
            400,
            "repeated_parameter",
            f"the query parameter {repeated[0]!r} takes one value and came more than once",
            details={"repeated": repeated},
        )


async def check_query(request: Request) -> None:
    """Every route's query checks as one dependency (each one FastAPI solves costs more than a
    block answered from memory): unknown or repeated parameters, then unstorable text."""
    await reject_unknown_query(request)
    await refuse_unstorable_query(request)


def _repeatable(annotation: Any) -> bool:
    """Whether a parameter takes a list (``list[str] | None``): those may come more than once."""
    kinds = (annotation, *get_args(annotation))
    return any(get_origin(k) in (list, tuple, set, frozenset) for k in kinds)


def _takes_lookup(dependant: Any) -> bool:
    return any(d.call is query_context or _takes_lookup(d) for d in dependant.dependencies)


def _all_query_params(dependant: Any) -> list[Any]:
    found = list(dependant.query_params)
    for sub in dependant.dependencies:
        found += _all_query_params(sub)
    return found


class BodyLimit:
    """Refuse request bodies over a size, whether announced by Content-Length or streamed."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = headers_of(scope).content_length
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        import json

        body = json.dumps(
            error_body("payload_too_large", f"the request body is over {self.limit} bytes")
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


# Seconds between two purges of receipts' personal data past the retention (``retention``).
PURGE_INTERVAL = 3600.0
# Seconds the first purge waits for the library to be loaded by a probe or a request.
PURGE_FIRST_WITHIN = 60.0


async def purge_on_schedule(
    stop: asyncio.Event,
    purge: Callable[[], int],
    loaded: Callable[[], bool],
    interval: float = PURGE_INTERVAL,
    first_within: float = PURGE_FIRST_WITHIN,
) -> None:
    """Run ``purge`` in a thread soon after start and then every ``interval`` seconds, until
    ``stop``.

    The retention in force is partly the library's (``library.yaml``), so a purge needs the
    library loaded. The first one waits for whatever loads it (readiness's probe, the first
    request) up to ``first_within`` seconds: a start stays as quick as a lazy load makes it
    and readiness reports the load, and an idle server still purges, loading it then.

    Off the request path: a purge of years of receipts takes its write lock a chunk at a time
    (``store.receipts``), and requests go on meanwhile. Each worker of ``serve`` runs its own;
    purging twice purges nothing the second time.
    """
    waited = 0.0
    while not loaded() and waited < first_within and not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)
        waited += 0.5
    while not stop.is_set():
        try:
            purged = await run_in_threadpool(purge)
        except Exception as exc:  # the database may be away a while; the next run tries again
            logger.warning("cannot purge receipts' personal data: %s", exc)
        else:
            if purged:
                logger.info("purged the personal data of %d render receipt(s)", purged)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)


def room_for_lookups(waiting: int) -> None:
    """Sync routes, and the engine calls of async ones, run on anyio's threads: 40 by default.
    A request waiting on a data source holds one and does nothing; with sources the pool gets
    room for a source's worth of such requests besides, so 100 readers of a slow source wait
    for it together (not 40 at a time, each wave a source call) and requests that ask no source
    still find a thread."""
    if waiting:
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = max(limiter.total_tokens, DEFAULT_THREADS + waiting)


def event_loop_name(loop: asyncio.AbstractEventLoop) -> str:
    """``uvloop`` or ``asyncio``: which loop runs the server (``serve --loop``), for its log."""
    return "uvloop" if type(loop).__module__.startswith("uvloop") else "asyncio"


def create_app(
    settings: Settings | None = None,
    *,
    open_access: bool | None = None,
    engine: Engine | None = None,
    settle_heap: bool = False,
) -> FastAPI:
    """The HTTP API. ``open_access`` (``serve --open``; unless given, as the settings say) lets
    anyone in as admin: local use only. ``settle_heap``: freeze the loaded library out of the
    garbage collector's walks (``heap``), for a process that is the server and nothing else."""
    settings = settings or Settings.from_env()
    open_access = settings.open_access if open_access is None else open_access
    metrics = AppMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = engine is None
        current = app.state.engine = engine or Engine(settings)
        room_for_lookups(current.lookups.concurrency)
        # The signing key, loaded now: block answers made in the event loop then need no I/O.
        await run_in_threadpool(current.feedback.prime)
        keys = app.state.keys = VerifiedKeys(current.access, current.freshness)
        app.state.open_access = open_access
        app.state.readiness = Readiness(current)
        watched = current.metrics.collectors()
        metrics.watch(watched)
        if open_access:
            logger.warning("OPEN ACCESS: no API keys are checked; every caller is admin")
        logger.info("event loop: %s", event_loop_name(asyncio.get_running_loop()))
        interval = current.freshness.interval
        # Writes by other servers on the same PostgreSQL are pushed at once; polling below
        # stays as the bound (and SQLite's only way).
        listening = current.listen()
        stop = asyncio.Event()
        refreshers = [current.refresh, keys.reverify]
        if settle_heap:
            refreshers.append(HeapSettler(current).settle)
        refresher = Refresher(interval, *refreshers) if interval > 0 else None
        if refresher is not None:
            refresher.start()
        purger = asyncio.create_task(
            purge_on_schedule(
                stop, current.retention.purge_due, lambda: current.loaded() is not None
            )
        )
        try:
            yield
        finally:
            stop.set()
            await purger
            if refresher is not None:
                await run_in_threadpool(refresher.stop)
            metrics.unwatch(watched)
            if own:
                current.close()
            elif listening:
                await run_in_threadpool(current.listening.close)

    app = FastAPI(
        title="content-engine",
        summary="Personalized documents assembled from reusable components.",
        version="1",
        lifespan=lifespan,
        dependencies=[Depends(check_query)],
        docs_url=None,
        redoc_url=None,
    )
    app.state.metrics = metrics
    errors.install(app)
    apidocs.install(app)
    app.include_router(touchpoints.router)
    operations.install(app, metrics_public=settings.metrics_public)
    app.include_router(library_api.router)
    app.include_router(feedback_api.router)
    app.include_router(assets_api.router)
    app.include_router(xliff_api.router)
    app.include_router(ui.router)
    app.mount(ui.STATIC_PATH, StaticFiles(directory=ui.STATIC_DIR), name="static")
    app.add_middleware(BlocksFastPath, state=app.state)  # inside BodyLimit: bodies bounded
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(BlockFastPath, state=app.state)
    app.add_middleware(HeaderCheck)  # every path reads the headers as the fast path did
    # Outside even Starlette's ServerErrorMiddleware, so that a 500 carries nosniff and the
    # request id too, and is counted.
    build = app.build_middleware_stack
    app.build_middleware_stack = lambda: Observe(  # type: ignore[method-assign]
        build(), metrics, app.router.routes, access_log=settings.access_log
    )
    return app


def app_from_env() -> FastAPI:
    """The app as ``serve`` runs it in each worker: settings from the environment."""
    return create_app(Settings.from_env(), settle_heap=True)
