"""Translation routes (the editor role, CONTRACT 10): XLIFF out and in, drift, "mark in sync".

``GET /v1/xliff?locale=fr`` answers the XLIFF of what is missing or stale for a locale;
``POST /v1/xliff`` takes a translated file (the raw XLIFF as the body) and stores review
working copies; ``GET /v1/translations/stale`` lists stale translations;
``POST .../variants/{key}/sync`` (``If-Match``) records the source's current version.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from content_engine.core.errors import UnsupportedMediaType
from content_engine.web.auth import EditorKey
from content_engine.web.dependencies import EngineDep
from content_engine.web.headers import headers_of
from content_engine.web.library_api import NO_STORE, IfMatch, edited_version, versioned
from content_engine.web.schemas import ComponentId, VariantKey, VariantOut

router = APIRouter(tags=["translations"])

XLIFF_TYPE = "application/xliff+xml"
# What translation tools send an XLIFF file as.
XLIFF_TYPES = frozenset({XLIFF_TYPE, "application/x-xliff+xml", "application/xml", "text/xml"})
LocaleQuery = Annotated[str, Query(min_length=1, max_length=100, description="e.g. fr, de-AT")]


@router.get("/v1/xliff", response_class=Response)
def get_xliff(
    engine: EngineDep,
    principal: EditorKey,
    locale: LocaleQuery,
    publication: Annotated[str | None, Query(max_length=200)] = None,
    stale_only: bool = False,
    version: Literal["2.1", "1.2"] = "2.1",
    pseudo: bool = False,
) -> Response:
    """XLIFF of every variant missing or stale for ``locale`` (``pseudo``: targets filled with
    pseudo-localised text)."""
    data, count = engine.translations.export(
        locale, publication=publication, stale_only=stale_only, version=version, pseudo=pseudo
    )
    headers = {**NO_STORE, "X-Units": str(count)}
    return Response(data, media_type=XLIFF_TYPE, headers=headers)


@router.post(
    "/v1/xliff",
    openapi_extra={"requestBody": {"required": True, "content": {XLIFF_TYPE: {}}}},
)
async def post_xliff(
    engine: EngineDep,
    principal: EditorKey,
    request: Request,
    locale: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
) -> JSONResponse:
    """Store each translated unit as a ``review`` working copy; a broken unit refuses the
    file (422 ``invalid_xliff`` naming unit ids and lines) and nothing is written."""
    media_type = headers_of(request.scope).content_type
    if media_type not in XLIFF_TYPES:
        raise UnsupportedMediaType(
            f"send the XLIFF file as {XLIFF_TYPE}, not {media_type or 'no Content-Type'}"
        )
    data = await request.body()
    result = await run_in_threadpool(engine.translations.import_xliff, data, locale=locale)
    body = {"saved": result.saved, "untranslated": result.untranslated}
    return JSONResponse(body, headers=NO_STORE)


@router.get("/v1/translations/stale")
def stale_translations(
    engine: EngineDep,
    principal: EditorKey,
    locale: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
) -> JSONResponse:
    """Translations whose source has a newer live version than the one they record."""
    found = engine.translations.stale(locale)
    return JSONResponse({"stale": [s.__dict__ for s in found]}, headers=NO_STORE)


@router.post("/v1/components/{component_id}/variants/{key}/sync", response_model=VariantOut)
def mark_in_sync(
    engine: EngineDep,
    principal: EditorKey,
    component_id: ComponentId,
    key: VariantKey,
    if_match: IfMatch = None,
) -> JSONResponse:
    """Record the source's live version on this translation (``If-Match``: its version)."""
    saved = engine.translations.mark_in_sync(
        component_id, key, expected_version=edited_version(if_match)
    )
    return versioned(VariantOut.of(component_id, saved).model_dump(mode="json"), saved.version)
