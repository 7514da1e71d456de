"""How the workbench's routes answer: HTML pages for errors, security headers on everything.

In: a route's outcome, a response or an exception. Out: the response with the workbench's
headers, or an HTML page for the refusals a browser user must be able to read (the API's
JSON error shape is for programs). A request without a valid session goes to the sign-in page.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from content_engine.core.errors import ContentEngineError
from content_engine.web.errors import ApiError, status_of
from content_engine.web.ui.session import (
    CONSOLE_PATH,
    SESSION_COOKIE,
    CsrfRefused,
    EditorsOnly,
    SignInRequired,
)
from content_engine.web.ui.templating import error_page

# The previewed documents arrive in <iframe srcdoc sandbox>, which inherits this policy: they
# need their inline <style> and data: images, and get no script at all.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # Pages show drafts and carry CSRF tokens: no shared or back-button caches.
    "Cache-Control": "no-store",
}


class UiRoute(APIRoute):
    """An ``APIRoute`` whose refusals are pages a person can read, not JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def ui_handler(request: Request) -> Response:
            try:
                response = await handle(request)
            except SignInRequired as exc:
                response = sign_in_redirect(request, exc)
            except CsrfRefused:
                response = _error(request, 400, "csrf")
            except EditorsOnly:
                response = _editors_only(request)
            except ContentEngineError as exc:
                response = _error(request, status_of(exc), "domain", exc.message)
            except ApiError as exc:
                response = _error(request, exc.status, "domain", exc.message)
            except RequestValidationError as exc:
                response = _error(request, 400, "domain", _readable(exc))
            response.headers.update(HEADERS)
            return response

        return ui_handler


def ui_router() -> APIRouter:
    """A router for workbench pages: HTML errors, and nothing in the OpenAPI schema."""
    return APIRouter(include_in_schema=False, route_class=UiRoute)


def sign_in_redirect(request: Request, exc: SignInRequired) -> Response:
    response = RedirectResponse(f"/sign-in?next={quote(exc.next_url, safe='')}", 303)
    if exc.stale_cookie:
        # Revoked or otherwise dead: the browser need not send it again.
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


def _editors_only(request: Request) -> Response:
    """An agent's home is the console; any other page or form is refused, nothing done."""
    if request.method == "GET" and request.url.path == "/":
        return RedirectResponse(CONSOLE_PATH, 303)
    return _error(request, 403, "editors_only")


def _readable(exc: RequestValidationError) -> str:
    first: dict[str, Any] = next(iter(exc.errors()), {})
    where = " ".join(str(p) for p in first.get("loc", ()))
    return f"{where}: {first.get('msg', 'not valid')}"


def _error(request: Request, status: int, kind: str, message: str = "") -> Response:
    return error_page(request, status, kind, message)
