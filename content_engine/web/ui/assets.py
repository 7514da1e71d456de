"""The workbench's Assets page: every asset with its hash, version and URL; upload, replace.

In: a signed-in request; an upload form (``multipart/form-data`` with the CSRF token, the
asset's path or the one it replaces and the version that was shown). Out: the page; after an
upload a redirect to it saying which version was stored, or the page again with the error
next to the form that caused it (a stale version says someone replaced it meanwhile, and
nothing is overwritten). The asset's type is the one its extension allows, not the browser's.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query, Request, Response

from content_engine.core.assettypes import ASSET_TYPES, asset_type
from content_engine.core.errors import ConflictError, ContentEngineError
from content_engine.web.errors import status_of
from content_engine.web.ui.multipart import read_multipart
from content_engine.web.ui.routing import ui_router
from content_engine.web.ui.session import CSRF_FIELD
from content_engine.web.ui.templating import Page, WorkbenchPage

router = ui_router()

Saved = Annotated[str | None, Query(max_length=600, description="The asset just stored.")]
Version = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


def assets_page(
    page: Page,
    status_code: int = 200,
    *,
    notice: str | None = None,
    error: str | None = None,
    error_for: str = "",
) -> Response:
    desk = page.engine.assets
    assets = [(a, desk.url_of(a)) for a in desk.current()]
    return page.render(
        "assets.html",
        status_code,
        section="assets",
        assets=assets,
        types=", ".join(sorted(ASSET_TYPES)),
        notice=notice,
        error=error,
        error_for=error_for,
    )


@router.get("/assets")
def assets(page: WorkbenchPage, saved: Saved = None, version: Version = None) -> Response:
    notice = None
    if saved and version:
        notice = page._("Stored {path} as version {n}.", path=saved, n=version)
    return assets_page(page, notice=notice)


@router.post("/assets")
async def upload(page: WorkbenchPage, request: Request) -> Response:
    parts = await read_multipart(request)
    token = parts.get(CSRF_FIELD)
    page.visitor.check_csrf(token.text if token else None)
    file = parts.get("file")
    replaces = parts["replaces"].text if "replaces" in parts else ""
    shown = parts["version"].text if "version" in parts else ""
    path = replaces or (parts["path"].text if "path" in parts else "")
    if not path and file is not None and file.filename:
        path = file.filename.replace("\\", "/").rsplit("/", 1)[-1]
    form = replaces or "new"
    if file is None or not file.data:
        return assets_page(page, 400, error=page._("Choose a file to upload."), error_for=form)
    if replaces and not shown.isdigit():
        return assets_page(
            page, 400, error=page._("Reload the page and try again."), error_for=form
        )
    expected = int(shown) if replaces else None
    try:
        saved = page.engine.assets.put(path, file.data, asset_type(path), expected_version=expected)
    except ConflictError as exc:
        current = (exc.details or {}).get("current_version")
        message = (
            page._("{path} already exists: replace it in its row below.", path=path)
            if expected is None
            else page._(
                "Someone replaced {path} meanwhile (now version {n}); nothing was overwritten.",
                path=path,
                n=current,
            )
        )
        return assets_page(page, 412, error=message, error_for=form)
    except ContentEngineError as exc:
        return assets_page(page, status_of(exc), error=exc.message, error_for=form)
    return page.redirect(f"/assets?{_query(saved.path, saved.version)}")


def _query(path: str, version: int) -> str:
    return urlencode({"saved": path, "version": version})
