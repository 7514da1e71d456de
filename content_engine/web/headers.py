"""The request headers that shape an answer, read once from the ASGI scope for every reader.

In: an ASGI scope's raw header list. Out: ``RequestHeaders``, the one reading of ``Accept``,
``Accept-Language``, ``If-None-Match``, ``Authorization``, ``Cookie``, ``X-Forwarded-For`` and the
rest that the fast path (``fastpath``), the key check (``auth``), the routes and the workbench's
session all use; or ``RepeatedHeader`` for a request that says two things at once.

Why one reading: the fast path keyed on the last copy of a repeated header while the routes
read the first, so a client sending two could store an answer under another client's key (a
reader was served an editor's preview). A list-valued header (RFC 9110 section 5.3) repeated
is the same as its copies joined by commas, so that is what everyone reads. A header that can
hold only one value (the credentials, the cookies, the host, the body's length and type)
repeated has no single meaning: such a request is refused with 400, on every path.
"""

from __future__ import annotations

from typing import NamedTuple

from starlette.types import ASGIApp, Receive, Scope, Send

from content_engine.web.errors import error_response

SCOPE_KEY = "content_engine.headers"
# Headers whose copies join into one comma-separated list, as RFC 9110 allows.
LISTS = frozenset({b"accept", b"accept-language", b"if-none-match", b"x-forwarded-for"})
# Headers with one value: two copies are refused (RFC 9110 section 5.3, RFC 6265 section 5.4).
SINGLE = frozenset({b"authorization", b"cookie", b"host", b"content-length", b"content-type"})
_ATTRIBUTES = {name: name.decode().replace("-", "_") for name in LISTS | SINGLE}


class RepeatedHeader(Exception):
    """A header that holds one value came more than once."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class RequestHeaders(NamedTuple):
    """What the headers that matter say; ``None`` where a header is absent.

    A named tuple: immutable, and built in half a frozen dataclass's time (this runs on every
    request, the fast path's included).
    """

    accept: str | None = None
    accept_language: str | None = None
    if_none_match: str | None = None
    authorization: str | None = None
    cookie: str | None = None
    host: str | None = None
    content_length: str | None = None
    content_type: str | None = None
    # Believed only from a trusted proxy (``core.forwarded``), and read only with GeoIP on.
    x_forwarded_for: str | None = None

    @classmethod
    def parse(cls, raw: list[tuple[bytes, bytes]]) -> RequestHeaders:
        """Join list-valued copies; raise ``RepeatedHeader`` for a repeated single one."""
        values: dict[str, str] = {}
        for name, value in raw:
            attribute = _ATTRIBUTES.get(name) or _ATTRIBUTES.get(name.lower())
            if attribute is None:
                continue
            text = value.decode("latin-1")
            if attribute not in values:
                values[attribute] = text
            elif name.lower() in SINGLE:
                raise RepeatedHeader(name.lower().decode())
            else:
                values[attribute] += ", " + text
        return cls(**values)

    @property
    def bearer(self) -> str | None:
        """The key of ``Authorization: Bearer <key>``; ``None`` for no key or another scheme."""
        scheme, _, token = (self.authorization or "").partition(" ")
        token = token.strip()
        return token if scheme.lower() == "bearer" and token else None


def headers_of(scope: Scope) -> RequestHeaders:
    """The scope's reading, made once per request and kept in the scope for the next reader."""
    found = scope.get(SCOPE_KEY)
    if isinstance(found, RequestHeaders):
        return found
    parsed = RequestHeaders.parse(scope["headers"])
    scope[SCOPE_KEY] = parsed
    return parsed


class HeaderCheck:
    """ASGI middleware, outermost: reads the headers once, and refuses a repeated single one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            try:
                headers_of(scope)
            except RepeatedHeader as exc:
                refusal = error_response(
                    400,
                    "repeated_header",
                    f"the {exc.name} header came more than once; send it once",
                    details={"header": exc.name},
                )
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)
