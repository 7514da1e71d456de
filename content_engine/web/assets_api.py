"""Assets over HTTP: the public, content-addressed ``/assets/{hash}/{path}`` and the editors'
``/v1/assets`` (list, metadata, upload).

In: a hash and a path from anyone (browsers fetching the images a web page embeds carry no
key); or an editor's raw upload with its ``Content-Type`` and ``If-Match`` /
``If-None-Match: *``. Out: the bytes of that version, immutable and cacheable for a year,
with ``nosniff`` and, for SVG and HTML (which can hold script), a CSP that forbids script and
sandboxes the document; 404 in the error shape for anything else. Editors get the stored
versions as JSON, every write conflict-checked (412 when stale, nothing written).
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from content_engine.core.assettypes import SANDBOXED_TYPES, AssetVersion
from content_engine.web.auth import EditorKey
from content_engine.web.dependencies import EngineDep
from content_engine.web.headers import headers_of
from content_engine.web.library_api import NO_STORE, IfMatch, IfNoneMatch, expected_version

router = APIRouter(tags=["assets"])

IMMUTABLE = "public, max-age=31536000, immutable"
SANDBOX_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


class AssetOut(BaseModel):
    """One stored version of an asset and the URL that serves it."""

    path: str
    version: int
    sha256: str
    hash: str
    size: int
    media_type: str
    created_at: datetime
    deleted: bool
    url: str

    @classmethod
    def of(cls, version: AssetVersion, url: str) -> AssetOut:
        return cls(
            path=version.path,
            version=version.version,
            sha256=version.sha256,
            hash=version.hash,
            size=version.size,
            media_type=version.media_type,
            created_at=version.created_at,
            deleted=version.deleted,
            url=url,
        )


class AssetDetail(AssetOut):
    versions: list[AssetOut]


def _out(engine: EngineDep, version: AssetVersion) -> AssetOut:
    return AssetOut.of(version, engine.assets.url_of(version))


@router.get(
    "/assets/{hash}/{path:path}",
    responses={200: {"content": {"image/svg+xml": {}, "image/png": {}}}},
)
async def get_asset(engine: EngineDep, request: Request, hash: str, path: str) -> Response:
    """One version of a library asset, by the first 16 hex digits of its SHA-256; no key.

    Immutable: any version ever stored answers for good (pages and receipts name them)."""
    found = await run_in_threadpool(engine.assets.fetch, hash, path)
    headers = {
        "Cache-Control": IMMUTABLE,
        "ETag": f'"{found.hash}"',
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if found.media_type in SANDBOXED_TYPES:
        headers["Content-Security-Policy"] = SANDBOX_CSP
    asked = headers_of_none_match(headers_of(request.scope).if_none_match)
    if found.hash in asked or "*" in asked:
        return Response(status_code=304, headers=headers)
    return Response(found.content, media_type=found.media_type, headers=headers)


def headers_of_none_match(value: str | None) -> set[str]:
    """The entity tags an ``If-None-Match`` lists, without quotes or ``W/``."""
    return {t.strip().removeprefix("W/").strip('"') for t in (value or "").split(",") if t.strip()}


@router.get("/v1/assets", response_model=list[AssetOut])
def list_assets(engine: EngineDep, principal: EditorKey) -> JSONResponse:
    """The current version of every asset, with its hash, version and URL."""
    found = [_out(engine, v).model_dump(mode="json") for v in engine.assets.current()]
    return JSONResponse(found, headers=NO_STORE)


@router.get("/v1/assets/{path:path}", response_model=AssetDetail)
def get_asset_versions(engine: EngineDep, principal: EditorKey, path: str) -> JSONResponse:
    """One asset: its newest version (``ETag``: the version to send as ``If-Match``) and every
    version stored, newest first; each old URL still serves."""
    history = engine.assets.history(path)
    versions = [_out(engine, v) for v in history]
    detail = AssetDetail(**versions[0].model_dump(), versions=versions)
    headers = dict(NO_STORE)
    if not history[0].deleted:
        headers["ETag"] = f'"{history[0].version}"'
    return JSONResponse(detail.model_dump(mode="json"), headers=headers)


@router.put(
    "/v1/assets/{path:path}",
    response_model=AssetOut,
    openapi_extra={"requestBody": {"required": True, "content": {"application/octet-stream": {}}}},
)
async def put_asset(
    engine: EngineDep,
    principal: EditorKey,
    request: Request,
    path: str,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> JSONResponse:
    """Create (``If-None-Match: *``) or replace (``If-Match: "<version>"``) an asset: the raw
    bytes as the body, ``Content-Type`` the type its extension allows."""
    expected = expected_version(if_match, if_none_match, create=True)
    content = await request.body()
    media_type = headers_of(request.scope).content_type
    saved = await run_in_threadpool(
        engine.assets.put, path, content, media_type, expected_version=expected
    )
    out = _out(engine, saved).model_dump(mode="json")
    status = 201 if expected is None else 200
    return JSONResponse(out, status_code=status, headers={"ETag": f'"{saved.version}"', **NO_STORE})
