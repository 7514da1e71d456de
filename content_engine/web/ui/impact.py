"""The impact page: before a working copy goes live, what publishing it would change.

In: a component id and a variant key. Out: a page of the engine's ``variant_impact``: the
publications that reach the component (with the chain of includes they reach it by), the
coverage cells whose variant moves (before and after, by locale, role and region group) and how
many readers get something else; a note when not every reader was asked. Nothing here writes.
"""

from __future__ import annotations

from fastapi import Response

from content_engine.engine import variant_impact
from content_engine.web.schemas import ComponentId, VariantKey
from content_engine.web.ui.routing import ui_router
from content_engine.web.ui.templating import WorkbenchPage

router = ui_router()


@router.get("/components/{component_id}/variants/{key}/impact")
def impact(page: WorkbenchPage, component_id: ComponentId, key: VariantKey) -> Response:
    found = variant_impact(page.engine, component_id, key)
    return page.render(
        "impact.html",
        section="library",
        component=page.engine.editor.get_component(component_id),
        key=key,
        impact=found,
    )
