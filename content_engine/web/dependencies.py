"""The engine a request is served by, as one typed dependency.

In: a request of an app that ``create_app`` built. Out: the ``Engine`` its lifespan built.
API routes and workbench pages declare ``engine: EngineDep``; code that runs outside a route's
dependencies (an error page) calls ``engine_of``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from content_engine.engine import Engine


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def _engine(request: Request) -> Engine:
    # ``async``: FastAPI runs a plain dependency in its thread pool, a hop that would cost the
    # hot block route more than this attribute read.
    return engine_of(request)


EngineDep = Annotated[Engine, Depends(_engine)]
