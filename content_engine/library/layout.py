"""The names of a library folder's layout (CONTRACT section 2), and the keys each file may hold.

In: nothing. Out: constants shared by the reader and the writer, so the two agree on one layout.
"""

from __future__ import annotations

from content_engine.core.models import DIMENSIONS
from content_engine.core.names import RESERVED_TOP

__all__ = [
    "COMPONENT_FILE",
    "COMPONENT_KEYS",
    "CONDITION_KEYS",
    "FILE_FOLDERS",
    "FRONT_MATTER_KEYS",
    "LIBRARY_FILE",
    "PUBLICATIONS_FOLDER",
    "PUBLICATION_KEYS",
    "RESERVED",
    "THEME_FILE",
    "THEME_FOLDER",
    "VARIANT_FIELDS",
]

LIBRARY_FILE = "library.yaml"
COMPONENT_FILE = "component.yaml"
PUBLICATIONS_FOLDER = "publications"
# Folders whose every file is carried as bytes in ``Library.files``.
# A theme's description and layout options, read at render time (renderers/<theme>/theme.yaml).
THEME_FOLDER = "renderers"
THEME_FILE = "theme.yaml"
FILE_FOLDERS = ("assets", THEME_FOLDER)
# Top-level names that are never component folders (``names`` refuses them as folders).
RESERVED = RESERVED_TOP
assert frozenset({LIBRARY_FILE, PUBLICATIONS_FOLDER, *FILE_FOLDERS}) == RESERVED

CONDITION_KEYS = ("locale", *DIMENSIONS)
VARIANT_FIELDS = (
    "priority",
    "experiment",
    "weight",
    "status",
    "valid_from",
    "valid_until",
    "translated_from",
)
FRONT_MATTER_KEYS = CONDITION_KEYS + VARIANT_FIELDS
COMPONENT_KEYS = ("id", "type", "title", "tags")
PUBLICATION_KEYS = ("id", "title", "titles", "layout", "slots")
