"""Routes for touchpoints: blocks, renders, receipts and explain.

Each route parses, makes one engine call and shapes the response. Responses of GET block are
cacheable by URL; anything a preview or a customer's data went into is ``private, no-store``,
and one whose region came from the client's address (``region``, ``serve --geoip``) is for the
reader's own cache only.

GET block is the hot route: it is ``async`` and answers in the event loop when the engine holds
the block in memory, and hands the call to the thread pool when it would first have to ask the
database or assemble the block.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, ParamSpec, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from content_engine.core.errors import ContentEngineError, InvalidContext
from content_engine.core.locales import negotiate
from content_engine.core.models import Block, Context
from content_engine.core.selection import Selection
from content_engine.engine import Engine, PurgeRequest, Rendered
from content_engine.web.auth import AdminKey, AgentKey, ReaderKey, require_for_preview
from content_engine.web.bodies import CheckedRoute
from content_engine.web.dependencies import EngineDep, engine_of
from content_engine.web.errors import error_body, status_of
from content_engine.web.fastpath import FEEDBACK_HEADER, PRIVATE, BlockAnswer, prefers_json
from content_engine.web.headers import headers_of
from content_engine.web.region import ReaderQuery, reader_context, region_source
from content_engine.web.schemas import (
    BlockError,
    BlockOut,
    BlocksIn,
    ComponentId,
    PurgeIn,
    PurgeOut,
    RenderIn,
)

RenderId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]

router = APIRouter(route_class=CheckedRoute)

Segments = Annotated[
    list[str] | None, Query(description="A segment; repeat for several.", max_length=64)
]
LocaleQ = Annotated[
    str | None,
    Query(description="BCP 47 tag; negotiated from Accept-Language when absent.", max_length=64),
]
Short = Annotated[str | None, Query(max_length=64)]
AtQ = Annotated[
    str | None, Query(description="ISO 8601 time to assemble for (default: now).", max_length=64)
]
StrictQ = Annotated[
    bool,
    Query(
        description="Refuse (422 unknown_value) a role, region, segment or channel the library "
        "does not know, instead of warning that it matched nothing."
    ),
]

ReaderIdQ = Annotated[
    str | None,
    Query(
        description="Who is reading: draws the reader's experiment arms (CONTRACT 9) and "
        "ties feedback to them.",
        max_length=64,
    ),
]

P = ParamSpec("P")
T = TypeVar("T")


async def from_memory(engine: Engine, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``call`` in the event loop when the engine is fresh (no I/O), else in the thread pool."""
    if engine.is_fresh():
        return call(*args, **kwargs)
    return await run_in_threadpool(call, *args, **kwargs)


async def query_context(
    request: Request,
    locale: LocaleQ = None,
    segment: Segments = None,
    role: Short = None,
    region: Short = None,
    channel: Short = None,
    at: AtQ = None,
    reader_id: ReaderIdQ = None,
) -> Context:
    """Who is reading, from the query: the parameters every reader-facing GET shares."""
    if locale is None:
        engine = engine_of(request)  # not a dependency: see ``auth.require``
        settings = (await from_memory(engine, engine.library)).settings
        locale = negotiate(
            headers_of(request.scope).accept_language, settings.locales, settings.default_locale
        )
    optional = {"role": role, "region": region, "channel": channel, "at": at}
    optional["reader_id"] = reader_id
    query = ReaderQuery(locale, segment or [], optional, lookup_params(request))
    return reader_context(request.scope, engine_of(request), query)


LOOKUP_PREFIX = "lookup."


def lookup_params(request: Request) -> dict[str, str]:
    """``lookup.serial=HP200-0042`` query parameters as ``{"serial": "HP200-0042"}``; a name
    given twice is refused (which value would a source be asked with?). ``Context`` checks
    the names, values and how many there are."""
    found: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if not name.startswith(LOOKUP_PREFIX):
            continue
        key = name[len(LOOKUP_PREFIX) :]
        if key in found:
            raise InvalidContext(f"{name[:80]}: given twice", details={"at": name[:80]})
        found[key] = value
    return found


QueryContext = Annotated[Context, Depends(query_context)]


def wants_json(request: Request) -> bool:
    """Content negotiation between the fragment (HTML) and its JSON description."""
    return prefers_json(headers_of(request.scope).accept)


@router.get("/healthz", tags=["service"])
def healthz(engine: EngineDep) -> dict[str, Any]:
    return {"status": "ok", "revision": engine.revision()}


@router.get(
    "/v1/blocks/{component}",
    tags=["touchpoints"],
    responses={200: {"content": {"text/html": {}, "application/json": {}}}, 304: {}},
    response_model=BlockOut,
)
async def get_block(
    request: Request,
    engine: EngineDep,
    principal: ReaderKey,
    component: ComponentId,
    context: QueryContext,
    preview: bool = False,
    strict: StrictQ = False,
) -> Response:
    """The assembled fragment for one reader (HTML, or JSON when the client prefers it)."""
    require_for_preview(principal, preview)
    block = engine.cached_block(component, context, preview=preview, strict=strict)
    if block is None:
        block = await run_in_threadpool(
            engine.block, component, context, preview=preview, strict=strict
        )
    personal = bool(context.lookup)  # a customer's own data: never kept here, never shared
    answer = BlockAnswer.of(
        engine,
        block,
        context,
        preview=preview or personal,
        fixed_at="at" in request.query_params,
        as_json=wants_json(request),
        by_address=region_source(request.scope) == "network",
    )
    if not personal:
        answer.remember(request)  # for the next identical request (``fastpath``)
    return answer.response(headers_of(request.scope).if_none_match)


@router.post("/v1/blocks", tags=["touchpoints"], response_model=list[BlockOut | BlockError])
def post_blocks(
    request: Request, engine: EngineDep, principal: ReaderKey, body: BlocksIn
) -> Response:
    """Several blocks for one reader; a block that cannot be assembled carries its error."""
    require_for_preview(principal, body.preview)
    context = reader_context(request.scope, engine, body.context)
    found = engine.blocks(body.components, context, preview=body.preview, strict=body.strict)
    return blocks_response(engine, context, body.preview, body.components, found)


def blocks_response(
    engine: Engine,
    context: Context,
    preview: bool,
    components: list[str],
    found: list[Block | ContentEngineError],
) -> Response:
    """``POST /v1/blocks``' answer, here and on its fast path (``blockspost``): each block
    with its feedback token, each counted as shown."""
    blocks = [block for block in found if not isinstance(block, ContentEngineError)]
    tokens = iter(engine.blocks_feedback(blocks, context, preview=preview))
    out: list[dict[str, Any]] = []
    for component, block in zip(components, found, strict=True):
        if isinstance(block, ContentEngineError):
            error = error_body(block.code, block.message, block.details)["error"]
            out.append({"component": component, "error": error | {"status": status_of(block)}})
            continue
        issued = next(tokens)
        if issued is not None:
            engine.feedback.exposed(issued.group)
        out.append(BlockOut.json_of(block, issued.token if issued else None))
    return JSONResponse(out, headers={"Cache-Control": PRIVATE})


def rendered_response(rendered: Rendered) -> Response:
    receipt = rendered.receipt
    headers = {
        "X-Render-Id": receipt.id,
        "Cache-Control": PRIVATE,
        "Content-Language": receipt.context.locale,
    }
    if rendered.media_type == "application/pdf":
        headers["Content-Disposition"] = f'inline; filename="{receipt.publication}.pdf"'
    if rendered.warnings:
        # Header values must be one line of Latin-1; the full list is in the json format.
        headers["X-Render-Warnings"] = str(len(rendered.warnings))
    if rendered.feedback_token is not None:
        headers[FEEDBACK_HEADER] = rendered.feedback_token
    return Response(rendered.content, media_type=rendered.media_type, headers=headers)


@router.post(
    "/v1/render",
    tags=["touchpoints"],
    responses={
        200: {
            "content": {"text/html": {}, "application/pdf": {}, "application/json": {}},
            "headers": {"X-Render-Id": {"description": "the stored render receipt"}},
        }
    },
)
def post_render(
    request: Request, engine: EngineDep, principal: ReaderKey, body: RenderIn
) -> Response:
    """A publication assembled and rendered; ``X-Render-Id`` names its receipt."""
    require_for_preview(principal, body.preview)
    rendered = engine.render(
        body.publication,
        reader_context(request.scope, engine, body.context),
        format=body.format,
        preview=body.preview,
        strict=body.strict,
        key_id=principal.key_id,
        asset_links=True,
    )
    return rendered_response(rendered)


# A receipt of a preview pins drafts: reading or replaying it would show them to an agent.
PREVIEW_RECEIPT = "this receipt is of a preview, which showed drafts,"


@router.get("/v1/renders/{render_id}", tags=["receipts"])
def get_receipt(engine: EngineDep, principal: AgentKey, render_id: RenderId) -> dict[str, Any]:
    """What a render used: context, publication, every component, variant and version."""
    receipt = engine.receipt(render_id)
    require_for_preview(principal, receipt.preview, PREVIEW_RECEIPT)
    token = None if receipt.preview else engine.feedback.issue_receipt(receipt)
    return receipt.model_dump(mode="json") | {"feedback_token": token}


@router.post("/v1/renders/{render_id}/replay", tags=["receipts"])
def replay(engine: EngineDep, principal: AgentKey, render_id: RenderId) -> Response:
    """The same versions rendered again: byte-identical HTML even after later edits."""
    receipt = engine.receipt(render_id)
    require_for_preview(principal, receipt.preview, PREVIEW_RECEIPT)
    return rendered_response(engine.replay(render_id))


@router.post("/v1/receipts/purge", tags=["receipts"], response_model=PurgeOut)
def purge_receipts(engine: EngineDep, _: AdminKey, body: PurgeIn) -> PurgeOut:
    """Drop the personal data of render receipts: by age, or every one of a customer."""
    request = PurgeRequest(body.older_than_days, body.customer, body.dry_run)
    return PurgeOut(purged=engine.retention.purge(request), dry_run=body.dry_run)


@router.get("/v1/explain/{component}", tags=["touchpoints"], response_model=Selection)
def explain(
    request: Request,
    engine: EngineDep,
    principal: AgentKey,
    component: ComponentId,
    context: QueryContext,
    preview: bool = False,
    strict: StrictQ = False,
) -> dict[str, Any]:
    """Every variant of the component, whether it matched, why not, and the winner."""
    require_for_preview(principal, preview)
    selection = engine.explain(component, context, preview=preview, strict=strict)
    source = region_source(request.scope)
    return selection.model_copy(update={"region_source": source}).model_dump(mode="json")
