"""The workbench: server-rendered pages at ``/`` over the engine the API uses.

Pages: ``signin`` (the session), ``console`` (the agent's: a customer's live document from a
lookup key; agents may use nothing else), ``pages`` (library, component, publication, lint,
coverage),
``variants`` (editor, workflow, history, rollback), ``preview`` (as any reader, and PDF),
``creating`` (new components and publications, archiving), ``impact`` (before publishing),
``assets`` (list, upload, replace) and ``feedback`` (the report's charts);
``bodyeditor`` answers the body editor's scripts (completions, the check as one types).
Their templates and static files (CSS, a little plain JavaScript, and the body editor's bundle,
built from ``editor/`` here by ``make editor`` and committed) ship in this package; nothing is
fetched from elsewhere and nothing needs building to run. None of it is in the OpenAPI schema.
"""

from __future__ import annotations

from pathlib import Path

from content_engine.web.ui import (
    assets,
    bodyeditor,
    console,
    creating,
    editorbundle,
    feedback,
    impact,
    pages,
    preview,
    signin,
    variants,
)
from content_engine.web.ui.routing import ui_router
from content_engine.web.ui.templating import STATIC_PATH

STATIC_DIR = Path(__file__).parent / "static"

router = ui_router()
for _module in (
    signin,
    console,
    pages,
    variants,
    preview,
    creating,
    impact,
    assets,
    feedback,
    bodyeditor,
    editorbundle,
):
    router.include_router(_module.router)

__all__ = ["STATIC_DIR", "STATIC_PATH", "router"]
