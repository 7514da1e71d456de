"""Repeat ``GET /v1/blocks/{component}`` requests, answered before FastAPI routes them.

FastAPI's routing, dependency solving and parameter validation cost several times what the
engine spends on a cached block (``benchmarks/profiles/block_http.txt``). So the full route,
having answered, leaves its ``BlockAnswer`` and the reader it parsed in the request's scope;
this middleware keeps them by everything that shaped the answer: the path, the query string
and the ``Accept``, ``Authorization`` and (unless the query names the locale)
``Accept-Language`` headers, as ``headers.headers_of`` reads them for the route too (a
repeated header must not mean one thing here and another there), and with ``serve --geoip``
the client's region (``region.client_region``, as the route reads it). A ``strict`` parameter does
not split the key: it changes no answer, it only refuses one for a reader outside the library's
vocabulary, which the engine is asked again on every strict request. Only what was asked for
twice is kept: one-off requests would fill the store with answers nobody asks for again, and
their churn made Python's collector walk the whole heap every few hundred requests (pauses of
100-200 ms, the p99 of the route).
The next request with the same key is answered here when all of these hold:

- the bearer key is still verified in memory (``VerifiedKeys.cached``), or access is open;
- asked for that reader, at this moment unless the query fixed ``at``, the engine's memory
  (``Engine.cached_block``: no database check due, no assembly) holds the very ``Block`` object
  the answer was made from. Blocks are cached per library state and reader (``blockcache``),
  so the same object means the same state, variants and schedule window, and the stored
  bytes, ETag, headers and warnings are what the route would send;
- a strict request's reader names only values the library knows (else the route refuses it).

A query no stored answer matches (a reader never seen, an ``at`` never asked) is answered here
too when the engine holds its block in memory and the query is plain (``plain_reader_query``:
only the reader's parameters, each once, none empty, long or unstorable; a preview only for an
editor's key): the route's answer made the route's way (``region.reader_context``, ``prefers_json``,
``BlockAnswer.of``), without FastAPI's dependency solving, which cost three times the rest of
such a request. Such answers are kept by everything that shaped them but ``at`` (``_built``):
the same reader at another moment gets the same bytes, ETag and headers whenever the engine,
asked for that moment, holds the very same ``Block`` (no schedule boundary between), so a new
moment costs a copy of the context and the engine's lookup, not a validation, a reader and an
ETag made anew. Anything else (first sight of a key or a block, an error, an expired key, a
reload under way, a new revision or a schedule boundary crossed) goes to FastAPI unchanged,
which validates, answers and stores anew.
A query that names ``lookup`` at all (``lookup.serial=...``: a customer's data from the data
sources) is never looked up nor kept here; the route does not leave such an answer either.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from threading import Lock
from typing import Any

from fastapi.responses import JSONResponse
from starlette.datastructures import QueryParams, State
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from content_engine.core.errors import ContentEngineError
from content_engine.core.instants import parse_instant
from content_engine.core.locales import negotiate
from content_engine.core.models import Block, Context
from content_engine.core.storable import text_problem
from content_engine.engine import ROLES, Engine, Issued
from content_engine.web.headers import RequestHeaders, headers_of
from content_engine.web.observe import FAST_PATH_KEY
from content_engine.web.region import ReaderQuery, client_region, reader_context, region_source
from content_engine.web.schemas import BlockOut

CACHEABLE = "public, max-age=60"
# An answer chosen by the client's address (``region``): a browser may keep it, a shared cache
# in front must not hand it to a reader elsewhere.
BY_ADDRESS = "private, max-age=60"
PRIVATE = "private, no-store"
VARY = "Accept, Accept-Language, Authorization"
PATH_PREFIX = "/v1/blocks/"
FEEDBACK_HEADER = "X-Feedback-Token"
SCOPE_KEY = "content_engine.block_answer"
MAX_ENTRIES = 10_000
MAX_SEEN = 50_000
# How pydantic reads a query bool; any other spelling of ``strict`` is left to the route.
_TRUE = frozenset({b"1", b"on", b"t", b"true", b"y", b"yes"})
_FALSE = frozenset({b"0", b"off", b"f", b"false", b"n", b"no"})


@dataclass(frozen=True)
class BlockAnswer:
    """The route's answer for one block and reader: both of its possible responses, built once."""

    block: Block
    context: Context
    preview: bool
    fixed_at: bool  # the query gave ``at``; otherwise every request reads at its own moment
    etag: str
    ok: Response
    not_modified: Response
    # The feedback token sent and the exposure every sending of this answer counts once.
    issued: Issued | None
    exposed: Callable[[tuple[str, Any]], None]

    @classmethod
    def of(
        cls,
        engine: Engine,
        block: Block,
        context: Context,
        *,
        preview: bool,
        fixed_at: bool,
        as_json: bool,
        by_address: bool = False,
    ) -> BlockAnswer:
        """HTML or, with ``as_json``, its JSON description; cacheable unless a preview, and
        by the reader's own cache only when the region came from the client's address.

        The feedback token (header, and JSON field) is the same for every request this answer
        is kept for: it names the block, arm and dimensions (the key of this answer) and the
        reader id of the query, so a shared cache that keeps the answer by its URL hands it
        only to readers it was made for (``core.feedback``)."""
        media = "application/json" if as_json else "text/html; charset=utf-8"
        etag = etag_of(block, context, media)
        issued = engine.block_feedback(block, context, preview=preview)
        headers = {
            "ETag": etag,
            "Vary": VARY,
            "Cache-Control": PRIVATE if preview else BY_ADDRESS if by_address else CACHEABLE,
            "Content-Language": block.locale,
        }
        if issued is not None:
            headers[FEEDBACK_HEADER] = issued.token
        if as_json:
            body = BlockOut.json_of(block, issued.token if issued else None)
            ok: Response = JSONResponse(body, headers=headers)
        else:
            ok = Response(block.html, media_type=media, headers=headers)
        not_modified = Response(status_code=304, headers=headers)
        return cls(
            block,
            context,
            preview,
            fixed_at,
            etag,
            ok,
            not_modified,
            issued,
            engine.feedback.exposed,
        )

    def response(self, if_none_match: str | None) -> Response:
        """The answer to send (a 304 for a matching tag), counted as one exposure."""
        if self.issued is not None:
            self.exposed(self.issued.group)
        return self.not_modified if etag_matches(if_none_match, self.etag) else self.ok

    def remember(self, request: Request) -> None:
        """Leave this answer where the middleware finds it once the route has returned."""
        request.scope[SCOPE_KEY] = self


def etag_of(block: Block, context: Context, media: str) -> str:
    """Strong: the same versions, reader and bytes give the same tag, anything else not."""
    used = [(u.component, u.variant, u.version) for u in block.used]
    reader = context.model_dump(mode="json", exclude={"at"})
    raw = json.dumps([used, reader, media, block.html], sort_keys=True, ensure_ascii=False)
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:40] + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


class BlockFastPath:
    """ASGI middleware: stored ``BlockAnswer``s sent again while they still hold."""

    def __init__(self, app: ASGIApp, state: State, max_entries: int = MAX_ENTRIES) -> None:
        self.app = app
        self.state = state  # the FastAPI app's: its engine, keys and open_access
        self.max_entries = max_entries
        self._answers: dict[tuple[Any, ...], BlockAnswer] = {}
        self._seen: dict[int, None] = {}  # hashes of keys answered once, oldest first
        # Answers made by ``_from_memory``, by all that shaped them but ``at``.
        self._built: dict[tuple[Any, ...], BlockAnswer] = {}
        self._lock = Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or not scope["path"].startswith(PATH_PREFIX)
        ):
            await self.app(scope, receive, send)
            return
        if b"lookup" in scope["query_string"].lower():
            # Lookup keys (``lookup.serial``, however escaped) bring a customer's own data:
            # answered by the route every time, never kept here.
            await self.app(scope, receive, send)
            return
        headers = headers_of(scope)  # the routes' own reading (``HeaderCheck`` made it)
        query, strict = without_strict(scope["query_string"])
        names_locale = query.startswith(b"locale=") or b"&locale=" in query
        key = (
            scope["path"],
            query,
            headers.accept,
            headers.authorization,
            None if names_locale else headers.accept_language,
            # With GeoIP on, whatever the query says: the route fills in the client's region
            # when the query names none, and ``region=`` (empty) names none.
            client_region(scope, self.state.engine),
        )
        stored = self._answers.get(key)
        if stored is not None and self._holds(stored, headers.bearer, strict):
            scope[FAST_PATH_KEY] = True
            await stored.response(headers.if_none_match)(scope, receive, send)
            return
        fresh = self._from_memory(scope, headers, query, strict)
        if fresh is not None:
            scope[FAST_PATH_KEY] = True
            self._store(key, fresh)
            await fresh.response(headers.if_none_match)(scope, receive, send)
            return
        scope[FAST_PATH_KEY] = False
        await self.app(scope, receive, send)
        answer = scope.get(SCOPE_KEY)
        if isinstance(answer, BlockAnswer):
            self._store(key, answer)

    def _holds(self, answer: BlockAnswer, bearer: str | None, strict: bool) -> bool:
        state = self.state
        if not state.open_access and (bearer is None or state.keys.cached(bearer) is None):
            return False
        engine: Engine = state.engine
        context = answer.context
        if not answer.fixed_at:
            context = context.model_copy(update={"at": datetime.now(UTC)})
        try:
            block = engine.cached_block(
                answer.block.component, context, preview=answer.preview, strict=strict
            )
        except ContentEngineError:
            return False  # the route refuses it, with the error's body
        return block is answer.block

    def _from_memory(
        self, scope: Scope, headers: RequestHeaders, query: bytes, strict: bool
    ) -> BlockAnswer | None:
        """The route's answer made here, for a query no stored answer matches, when the engine
        holds the block in memory and the query is plain: only the reader's parameters, each
        once (segments up to 64), none empty, over 64 characters or unstorable, a preview
        only for an editor's key. ``None`` for anything else: the route answers it."""
        state = self.state
        key_id, role = None, "admin"
        if not state.open_access:
            info = state.keys.cached(headers.bearer) if headers.bearer is not None else None
            if info is None:
                return None
            key_id, role = info.id, info.role
        params = plain_reader_query(query)
        engine: Engine = state.engine
        if params is None or not engine.is_fresh():
            return None
        locale, segments, optional, preview = params
        if preview and ROLES.index(role) < ROLES.index("editor"):
            return None  # the route refuses it
        if locale is None:
            settings = engine.library().settings  # fresh: in memory
            locale = negotiate(headers.accept_language, settings.locales, settings.default_locale)
        component = scope["path"][len(PATH_PREFIX) :]
        as_json = prefers_json(headers.accept)
        at = optional["at"]
        # Everything an answer is made of but the moment: the same reader at another ``at``
        # gets the same block while no schedule boundary lies between, and the same bytes,
        # ETag and headers (the ETag leaves ``at`` out).
        shape = (
            component,
            locale,
            tuple(segments),
            *(optional[name] for name in READER_OPTIONS if name != "at"),
            preview,
            as_json,
            client_region(scope, engine),
        )
        built = self._built.get(shape)
        try:
            if built is not None:
                context = _at(built.context, at)
            else:
                context = reader_context(scope, engine, ReaderQuery(locale, segments, optional))
            block = engine.cached_block(component, context, preview=preview, strict=strict)
        except (ContentEngineError, ValueError):  # ValueError: an ``at`` that is no instant
            return None  # the route refuses it, with the error's body
        if block is None:
            return None
        if key_id is not None:
            state.keys.note_use(key_id)
        if built is not None and built.block is block:
            return replace(built, context=context, fixed_at=at is not None)
        answer = BlockAnswer.of(
            engine,
            block,
            context,
            preview=preview,
            fixed_at=at is not None,
            as_json=as_json,
            by_address=region_source(scope) == "network",
        )
        with self._lock:
            _admit(self._built, shape, self.max_entries, answer)
        return answer

    def _store(self, key: tuple[Any, ...], answer: BlockAnswer) -> None:
        with self._lock:
            if not _admit(self._seen, hash(key), MAX_SEEN):
                return
            _admit(self._answers, key, self.max_entries, answer)


READER_OPTIONS = ("role", "region", "channel", "at", "reader_id")
MAX_VALUE = 64
MAX_SEGMENTS = 64


def plain_reader_query(
    query: bytes,
) -> tuple[str | None, list[str], dict[str, str | None], bool] | None:
    """A query of reader parameters only, read as the route reads it (``QueryParams``): the
    locale, segments, the other dimensions and ``at``, and ``preview``. ``None`` where only the
    route can say what it means: another parameter, a repeated one, an empty, long or
    unstorable value, a ``preview`` that is not a bool the way pydantic reads one."""
    locale: str | None = None
    segments: list[str] = []
    optional: dict[str, str | None] = dict.fromkeys(READER_OPTIONS)
    preview: bool | None = None
    for name, value in QueryParams(query).multi_items():
        if not value or len(value) > MAX_VALUE or text_problem(value) is not None:
            return None
        if name == "segment":
            segments.append(value)
        elif name == "locale" and locale is None:
            locale = value
        elif name == "preview" and preview is None:
            flag = value.lower().encode()
            if flag not in _TRUE and flag not in _FALSE:
                return None
            preview = flag in _TRUE
        elif name in optional and optional[name] is None:
            optional[name] = value
        else:
            return None
    if len(segments) > MAX_SEGMENTS:
        return None
    return locale, segments, optional, bool(preview)


def prefers_json(accept: str | None) -> bool:
    """Content negotiation between the fragment (HTML) and its JSON description."""
    best: tuple[float, str] = (0.0, "text/html")
    for item in (accept or "").split(","):
        media, _, params = item.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media.strip() in ("application/json", "text/html") and q > best[0]:
            best = (q, media.strip())
    return best[1] == "application/json"


def without_strict(query: bytes) -> tuple[bytes, bool]:
    """The query without its ``strict`` parameters, and whether any of them asks for it.

    A value pydantic would not read as a bool stays in the query (and counts as strict): the
    route answers it, with its 422.
    """
    if b"strict" not in query:
        return query, False
    kept: list[bytes] = []
    strict = False
    for part in query.split(b"&"):
        name, _, value = part.partition(b"=")
        if name == b"strict" and value.lower() in _TRUE:
            strict = True
        elif name != b"strict" or value.lower() not in _FALSE:
            kept.append(part)
            strict = strict or name == b"strict"
    return b"&".join(kept), strict


def _at(context: Context, at: str | None) -> Context:
    """``context`` at the query's ``at`` (read as the ``Context`` model reads it), or now."""
    if at is None:
        return context.model_copy(update={"at": datetime.now(UTC)})
    moment = parse_instant(at)
    if moment is None:
        raise ValueError(f"not an instant: {at!r}")
    return context.model_copy(update={"at": moment})


def _admit(entries: dict[Any, Any], key: Any, limit: int, value: Any = None) -> bool:
    """Put ``key`` in a bounded dict (oldest out first); whether it was there already."""
    known = key in entries
    while len(entries) >= limit and not known:
        del entries[next(iter(entries))]
    entries[key] = value
    return known
