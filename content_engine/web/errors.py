"""One error shape for every 4xx and 5xx, and the one place domain errors become statuses.

In: an exception a route raised. Out: its HTTP status (``status_of``, one lookup by class that
the API and the workbench both use, as Starlette's ``_exception_handler`` does) and, for the
API, ``{"error": {"code": "...", "message": "...", "details": ..., "request_id": "..."}}``.
A fault of the database or the disk (the engine's ``domain_error_of``: unreachable, dropped,
full, read-only, deleted) is a 503 with ``Retry-After``, never a 500: the request did nothing,
and may work later.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from content_engine.core.errors import (
    ConflictError,
    ContentEngineError,
    FeedbackRefused,
    InvalidContext,
    InvalidToken,
    LibraryFormatError,
    LibraryIntegrityError,
    NotFound,
    ReceiptPurged,
    RenderError,
    RepositoryBusy,
    TooManyAnswers,
    Unavailable,
    UnstorableText,
    UnsupportedMediaType,
)
from content_engine.engine import REQUEST_ID, domain_error_of

logger = logging.getLogger("content_engine.web")

# The nearest class in an error's MRO decides its status: any other domain error is the
# caller's (400).
STATUS: dict[type, int] = {
    ContentEngineError: 400,
    NotFound: 404,
    ConflictError: 412,
    ReceiptPurged: 410,
    FeedbackRefused: 422,
    InvalidToken: 401,
    TooManyAnswers: 429,
    InvalidContext: 422,
    UnstorableText: 422,
    LibraryFormatError: 422,
    LibraryIntegrityError: 422,
    RenderError: 422,
    UnsupportedMediaType: 415,
    RepositoryBusy: 503,
    Unavailable: 503,
}

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    410: "gone",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    428: "precondition_required",
    429: "too_many_requests",
}
# Seconds a client should wait before retrying a write that met another writer's lock.
RETRY_AFTER_BUSY = "1"
# ... and before asking a database that was unavailable again.
RETRY_AFTER_UNAVAILABLE = "5"


class ApiError(Exception):
    """An HTTP-level refusal raised by the web layer itself (auth, preconditions)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details, self.headers = details, headers


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The one error shape; ``request_id`` is the id of the request being answered (what its
    log lines and its ``X-Request-ID`` header say), so a report can be found in the log."""
    error = {"code": code, "message": message, "details": details, "request_id": REQUEST_ID.get()}
    return {"error": error}


def error_response(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


def status_of(exc: ContentEngineError | ApiError) -> int:
    """The status of a refusal, for the API and the workbench alike."""
    if isinstance(exc, ApiError):
        return exc.status
    return next(STATUS[kind] for kind in type(exc).__mro__ if kind in STATUS)


def _readable(errors: list[dict[str, Any]]) -> str:
    parts = []
    for error in errors[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "request"
        message = "unknown key" if error.get("type") == "extra_forbidden" else error.get("msg", "")
        if error.get("type") == "json_invalid":  # say why: "Expecting ','", "nested deeper ..."
            where, message = "body", f"{message}: {error.get('ctx', {}).get('error', '')}"
        parts.append(f"{where}: {str(message).removeprefix('Value error, ')}")
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "; ".join(parts) + more


def _jsonable(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Validation errors without the raw input (it may be huge, or hold secrets)."""
    return [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in errors[:20]]


def domain_response(exc: ContentEngineError) -> JSONResponse:
    if isinstance(exc, RepositoryBusy):
        headers: dict[str, str] | None = {"Retry-After": RETRY_AFTER_BUSY}
    elif isinstance(exc, Unavailable):
        headers = {"Retry-After": RETRY_AFTER_UNAVAILABLE}
    else:
        headers = None
    return error_response(status_of(exc), exc.code, exc.message, exc.details, headers)


def install(app: FastAPI) -> None:
    async def domain(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ContentEngineError)
        return domain_response(exc)

    async def fault(request: Request, exc: Exception) -> JSONResponse:
        # Driver and OS errors the store did not translate (a path that bypassed it).
        found = domain_error_of(exc)
        if found is None:
            return await unexpected(request, exc)
        logger.warning("%s %s: %s", request.method, request.url.path, found.message)
        return domain_response(found)

    async def api(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return error_response(status_of(exc), exc.code, exc.message, exc.details, exc.headers)

    async def validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = list(exc.errors())
        return error_response(422, "invalid_request", _readable(errors), _jsonable(errors))

    async def http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail), None, exc.headers)

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        found = domain_error_of(exc)
        if found is not None:  # raised outside the routes (a middleware): still a fault
            logger.warning("%s %s: %s", request.method, request.url.path, found.message)
            return domain_response(found)
        logger.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "the server failed; the error was logged")

    async def disconnected(request: Request, exc: Exception) -> JSONResponse:
        # The client left before its request was read (a browser aborting the fetch a newer
        # keystroke replaces): nobody to answer, nothing wrong here, no traceback to log.
        logger.info("%s %s: the client left before it was read", request.method, request.url.path)
        return error_response(499, "client_disconnected", "the client closed the request")

    app.add_exception_handler(ClientDisconnect, disconnected)
    app.add_exception_handler(ContentEngineError, domain)
    app.add_exception_handler(ApiError, api)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(StarletteHTTPException, http)
    for kind in (DBAPIError, sqlite3.Error, OSError):
        app.add_exception_handler(kind, fault)
    app.add_exception_handler(Exception, unexpected)
