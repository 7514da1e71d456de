"""The API's own documentation page: Swagger UI at ``/docs``.

FastAPI's default loads it from a CDN, so a service desk's intranet without internet sees a
blank page. The assets come from the ``fastapi-offline`` package instead (Swagger UI 5, which
reads OpenAPI 3.1), served under ``ASSETS_PATH``; nothing on the page asks a host other than
this server. ReDoc is not offered: its page loads its logo from redocly's CDN whatever it is told.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_PATH = "/docs-assets"
ASSETS_DIR = str(files("fastapi_offline") / "static")

# No validator badge: Swagger UI would send the spec's URL to validator.swagger.io.
SWAGGER_PARAMETERS = {"validatorUrl": None, "tryItOutEnabled": False}


def install(app: FastAPI) -> None:
    """Add ``/docs`` and its assets to ``app`` (built with ``docs_url=None``)."""
    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title}: API",
            swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
            swagger_ui_parameters=SWAGGER_PARAMETERS,
        )
