"""The ``json`` renderer: the assembled document as data, for programs that lay it out.

In: a ``Document``. Out: UTF-8 JSON with the publication, the context, every block (its
component, variant, version, locale, title and HTML) and the warnings.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from content_engine.rendering import RenderResult

if TYPE_CHECKING:
    from content_engine.core.models import Document
    from content_engine.rendering import RenderEnvironment


class JsonRenderer:
    name = "json"
    media_type = "application/json"

    def render(self, doc: Document, env: RenderEnvironment) -> RenderResult:
        data = doc.model_dump(mode="json", exclude={"blocks": {"__all__": {"used"}}})
        data["used"] = [u.model_dump() for u in doc.used()]
        text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
        return RenderResult(text.encode("utf-8"), self.media_type)
