"""JSON request bodies and query parameters, refused at the edge when the store could not keep them.

FastAPI parses bodies with ``json.loads``: nesting past Python's recursion limit became a bare
400, and a lone surrogate or a NUL below the models' reach went on to the database (a 500).
Routes of ``CheckedRoute`` parse with ``storable.load_json`` instead, so every body is checked
whole (depth, NUL, lone surrogates, NaN) before any model sees it, and a refusal is a 422 in the
error shape like any other invalid body.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from content_engine.core.errors import UnstorableText
from content_engine.core.storable import load_json, text_problem


class CheckedJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                self._json = load_json(await self.body())
            except UnstorableText as exc:
                # FastAPI turns a JSONDecodeError (and only that) into its 422 for bodies.
                raise json.JSONDecodeError(exc.message, "", 0) from None
        return self._json


class CheckedRoute(APIRoute):
    """An ``APIRoute`` whose handler reads the body through ``CheckedJsonRequest``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def checked(request: Request) -> Response:
            return await handler(CheckedJsonRequest(request.scope, request.receive))

        return checked


async def refuse_unstorable_query(request: Request) -> None:
    """Query parameters hold no NUL (``%00``) or other text the store cannot keep."""
    for name, value in request.query_params.multi_items():
        reason = text_problem(name) or text_problem(value)
        if reason is not None:
            raise UnstorableText(f"query parameter {name!r}: {reason}")
