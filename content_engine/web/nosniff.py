"""``X-Content-Type-Options: nosniff`` on every answer: API, workbench, static files, errors.

A browser that sniffs may run as a script or a page what was sent as something else (a
stylesheet, a JSON error holding text a client sent). The workbench's pages set it already;
this outermost middleware adds it wherever a route, the static files or an error left it out.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

NAME = b"x-content-type-options"
HEADER = (NAME, b"nosniff")


class NoSniff:
    """ASGI middleware: the header on every HTTP response start that lacks it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                if not any(name.lower() == NAME for name, _ in headers):
                    # A new message: the one sent may be a stored response's, sent again later.
                    message = {**message, "headers": [*headers, HEADER]}
            await send(message)

        await self.app(scope, receive, send_with_header)
