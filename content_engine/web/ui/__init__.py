"""The editors' workbench: server-rendered pages at ``/`` over the engine the API uses.

Pages: ``signin`` (the session), ``pages`` (library, component, publication, lint, coverage),
``variants`` (editor, workflow, history, rollback), ``preview`` (as any reader, and PDF) and
``assets`` (list, upload, replace).
Their templates and static files (CSS, a little plain JavaScript) ship in this package; nothing
is fetched from elsewhere and nothing needs building. None of it is in the OpenAPI schema.
"""

from __future__ import annotations

from pathlib import Path

from content_engine.web.ui import assets, pages, preview, signin, variants
from content_engine.web.ui.routing import ui_router
from content_engine.web.ui.templating import STATIC_PATH

STATIC_DIR = Path(__file__).parent / "static"

router = ui_router()
for _module in (signin, pages, variants, preview, assets):
    router.include_router(_module.router)

__all__ = ["STATIC_DIR", "STATIC_PATH", "router"]
