"""``POST /v1/blocks`` answered before FastAPI routes it, when nothing about the request is unusual.

A service agent's screen asks for one customer's blocks: no stored answer can serve it, so every
request pays FastAPI's routing, its dependency solving (six dependencies), a hop to the thread
pool and a second and third walk over the body for storable text. Those cost more than the
engine's assembly (``benchmarks/RESULTS.md``, the per-customer row). This middleware, inside
``BodyLimit`` (the body is bounded before it is read here), does the route's work itself when
all of these hold:

- no query string (the route would check it: unknown, repeated or unstorable parameters);
- ``Content-Type: application/json``; the body parses with ``storable.load_json`` (depth, NUL,
  lone surrogates, NaN: the route's ``CheckedRoute`` reading) and validates as ``BlocksIn``
  once, the storable walk not repeated by the models (``storable.CHECKED``);
- the bearer key is verified in memory (``VerifiedKeys.cached``), or access is open; a
  preview needs the editor role as on the route (``require_for_preview``'s rule).

Anything else (first sight of a key, an invalid body, a preview without the role) goes to
FastAPI with the body replayed unchanged, which answers it as it always did, its errors
included. The engine's refusals (unknown component, strict vocabulary, database away) are
answered here in the route's error shape (``domain_response``). The answer is the route's
(``touchpoints.blocks_response``).

Where the assembly runs: in the event loop only when it is short and does no I/O: the library
is in memory (``Engine.is_fresh``), the context has no lookup keys (data sources are I/O), the
body is small and its texts short (a segment rule's pattern costs in proportion to the text),
and every component asked was assembled here before in under ``SHORT_SECONDS``
(``ShortWork``, by the CPU time of the thread that ran it). Otherwise in the thread pool, as the
route does, so that a body taking its whole
time limit never stalls the other requests; each run there is timed and teaches ``ShortWork``.
"""

from __future__ import annotations

from time import thread_time

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from content_engine.core.errors import ContentEngineError, UnstorableText
from content_engine.core.models import Block
from content_engine.core.storable import CHECKED, load_json
from content_engine.engine import Engine
from content_engine.web.auth import ANONYMOUS_ADMIN, Principal, VerifiedKeys
from content_engine.web.errors import domain_response
from content_engine.web.headers import headers_of
from content_engine.web.region import reader_context
from content_engine.web.schemas import BlocksIn
from content_engine.web.touchpoints import blocks_response

PATH = "/v1/blocks"
# Assemblies at most this long may run in the event loop (the route's would hop to a thread).
SHORT_SECONDS = 0.005
# Larger bodies (a customer's whole history) go to the thread pool: their cost grows with them.
SHORT_BODY_BYTES = 4 * 1024
# So do bodies with longer texts: a segment rule's pattern may take up to 0.2 s over 10,000
# characters (docs/security.md); over 64, as a GET's names are, it takes about a millisecond.
SHORT_TEXT = 64
MAX_KNOWN = 10_000


class ShortWork:
    """Which components were last assembled here in under ``SHORT_SECONDS``: a bounded record."""

    def __init__(self, limit: int = MAX_KNOWN) -> None:
        self.limit = limit
        self._short: dict[str, bool] = {}

    def all_short(self, component_ids: list[str]) -> bool:
        return all(self._short.get(c, False) for c in component_ids)

    def learn(self, component_ids: list[str], seconds: float) -> None:
        """A request's assembly took ``seconds``: short for each of its ids, or not for any."""
        short = seconds < SHORT_SECONDS
        new = sum(1 for c in component_ids if c not in self._short)
        if len(self._short) + new > self.limit:
            self._short.clear()  # rare: as many components asked as the bound
        self._short.update(dict.fromkeys(component_ids, short))


class BlocksFastPath:
    """ASGI middleware: ``POST /v1/blocks`` answered here when nothing about it is unusual."""

    def __init__(self, app: ASGIApp, state: State) -> None:
        self.app = app
        self.state = state  # the FastAPI app's: its engine, keys and open_access
        self.short = ShortWork()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] != PATH
            or scope["query_string"]
        ):
            await self.app(scope, receive, send)
            return
        headers = headers_of(scope)
        principal = self._principal(headers.bearer)
        media = (headers.content_type or "").partition(";")[0].strip().lower()
        if principal is None or media != "application/json":
            await self.app(scope, receive, send)
            return
        body, messages = await _read_body(receive)
        wanted = _parsed(body)
        if wanted is None or (wanted.preview and not principal.can("editor")):
            await self.app(scope, _replaying(messages, receive), send)
            return
        if principal.key_id is not None:
            self.state.keys.note_use(principal.key_id)
        context = reader_context(scope, self.state.engine, wanted.context)  # as the route
        wanted = wanted.model_copy(update={"context": context})
        try:
            found = await self._blocks(wanted, len(body))
            response = blocks_response(
                self.state.engine, context, wanted.preview, wanted.components, found
            )
        except ContentEngineError as exc:
            response = domain_response(exc)
        await response(scope, receive, send)

    def _principal(self, bearer: str | None) -> Principal | None:
        """The caller if known without I/O (as ``auth.authenticate`` would find it), else None."""
        if self.state.open_access:
            return ANONYMOUS_ADMIN
        keys: VerifiedKeys = self.state.keys
        info = keys.cached(bearer) if bearer is not None else None
        if info is None:
            return None
        principal = Principal(key_id=info.id, role=info.role)
        return principal if principal.can("reader") else None

    async def _blocks(self, wanted: BlocksIn, size: int) -> list[Block | ContentEngineError]:
        engine: Engine = self.state.engine
        ids, context = wanted.components, wanted.context
        inline = (
            size <= SHORT_BODY_BYTES
            and not context.lookup
            and _short_texts([context.customer, context.product, context.data])
            and engine.is_fresh()
            and self.short.all_short(ids)
        )

        def assemble() -> list[Block | ContentEngineError]:
            start = thread_time()
            try:
                return engine.blocks(ids, context, preview=wanted.preview, strict=wanted.strict)
            finally:
                self.short.learn(ids, thread_time() - start)

        # Timed by the thread's CPU time, here and in a worker thread: the wall clock counts
        # the waits for the GIL, and one wait behind the refresher's thread (a switch interval,
        # 5 ms) marked a short component long, sending every request in flight (all 32 of a
        # loaded server's) to the thread pool at once; a p99 of 3.6x the hand-written route's.
        # ``thread_time`` costs about a microsecond.
        if inline:
            return assemble()
        return await run_in_threadpool(assemble)


def _short_texts(value: object) -> bool:
    """Whether every text in ``value`` (keys too) is at most ``SHORT_TEXT`` characters."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if len(item) > SHORT_TEXT:
                return False
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return True


def _parsed(body: bytes) -> BlocksIn | None:
    """The body as the route would read it, or ``None`` where the route must answer."""
    try:
        return BlocksIn.model_validate(load_json(body), context={CHECKED: True})
    except (UnstorableText, ValidationError, ValueError):  # ValueError: not JSON at all
        return None


async def _read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    """The whole body (``BodyLimit``, outside, bounds it) and the messages it came in."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break  # a disconnect: the route meets it as it would have
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks), messages


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that hands out what was read already, then goes on with the client's."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
