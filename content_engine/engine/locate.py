"""Where a body sits in a library folder: a component and variant in, file and line out.

For lint and import messages that point at the true line of a variant file, front matter
counted (the stored body starts below it).
"""

from __future__ import annotations

from pathlib import Path

from content_engine.core.errors import ContentEngineError
from content_engine.core.integrity import Location, Locator, default_locator
from content_engine.core.models import Component, Variant
from content_engine.library import read_library_text


def file_locator(root: Path) -> Locator:
    """Locate bodies in a library folder, counting front-matter lines for true line numbers."""

    def locate(component: Component, variant: Variant) -> Location:
        where = default_locator(component, variant)
        try:
            # The folder's own safe reader: the file may have changed since the import read it.
            text = read_library_text(root, where.file)
        except ContentEngineError:
            return where
        head = text[: len(text) - len(variant.body)] if text.endswith(variant.body) else ""
        return Location(where.file, head.count("\n"))

    return locate
