"""The body editor's two JSON routes: its completions, and the check as the editor types.

In: a signed-in workbench session; for the check, a form post (``csrf_token``, ``key``,
``body``) as the variant page's own form would send it. Out: ``GET /body-hints``, what the
editor completes (``bodyhints``); ``POST /components/{id}/check-body``, the problems saving
that body would meet, each at its line and column (``bodycheck``), stored nowhere.

Both are workbench routes: no session is a redirect to the sign-in page, as for every page (the
editor then says it cannot check). Every other refusal is the API's JSON error shape, since a
script reads it: a form without this session's CSRF token is 403 ``csrf_refused``, an agent's
session 403 ``forbidden``, a body over ``MAX_BODY_CHARS`` is 413 ``payload_too_large``, an
unknown component 404.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from content_engine.web.errors import ApiError, error_response
from content_engine.web.schemas import ComponentId
from content_engine.web.ui.bodycheck import MAX_BODY_CHARS, check_body
from content_engine.web.ui.bodyhints import hints
from content_engine.web.ui.forms import CheckedForm
from content_engine.web.ui.routing import HEADERS, sign_in_redirect
from content_engine.web.ui.session import CsrfRefused, EditorsOnly, SignInRequired
from content_engine.web.ui.templating import WorkbenchPage


class JsonUiRoute(APIRoute):
    """A workbench route a script calls: sign-in as for pages, refusals as JSON errors (the
    app's handlers give the domain's and the request's their status and shape)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def json_handler(request: Request) -> Response:
            try:
                response = await handle(request)
            except SignInRequired as exc:
                response = sign_in_redirect(request, exc)
            except CsrfRefused:
                response = error_response(
                    403, "csrf_refused", "the form does not carry this session's CSRF token"
                )
            except EditorsOnly as exc:
                response = error_response(
                    403,
                    "forbidden",
                    f"the body editor needs the editor role; the session has {exc.role}",
                    {"required": "editor", "role": exc.role},
                )
            response.headers.update(HEADERS)
            return response

        return json_handler


router = APIRouter(include_in_schema=False, route_class=JsonUiRoute)


@router.get("/body-hints")
def body_hints(page: WorkbenchPage) -> JSONResponse:
    """What the body editor completes: component ids, condition values, names, filters."""
    return JSONResponse(hints(page.engine))


@router.post("/components/{component_id}/check-body")
def check(page: WorkbenchPage, form: CheckedForm, component_id: ComponentId) -> JSONResponse:
    """The problems saving this body would meet, at their lines and columns; nothing stored."""
    body = form.get("body")
    if len(body) > MAX_BODY_CHARS:
        raise ApiError(
            413,
            "payload_too_large",
            f"a body of {len(body):,} characters is over the {MAX_BODY_CHARS:,} checked as typed",
            details={"limit": MAX_BODY_CHARS},
        )
    marks = check_body(page.engine, component_id, form.get("key").strip(), body)
    return JSONResponse({"marks": [m.to_json() for m in marks]})
