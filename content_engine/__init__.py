"""content-engine: assemble personalized documents from reusable content components.

The public API: build ``Settings`` at the edge, open an ``Engine`` on them, and call it with
``Context``s. Everything else is reachable from these names.
"""

from __future__ import annotations

from content_engine.core.errors import (
    ConflictError,
    ContentEngineError,
    DatabaseUnavailable,
    InputError,
    InvalidContext,
    LibraryFormatError,
    LibraryIntegrityError,
    NotFound,
    RenderError,
    RepositoryBusy,
    TemplateError,
    Unavailable,
    UnresolvedSlot,
    UnstorableText,
)
from content_engine.core.models import (
    Block,
    Component,
    Context,
    Document,
    Library,
    LibrarySettings,
    Publication,
    Receipt,
    Variant,
    parse_context,
)
from content_engine.core.selection import Selection
from content_engine.engine.facade import Engine, Rendered
from content_engine.rendering import RenderEnvironment, Renderer, get_renderer, register_renderer
from content_engine.settings import Settings

__all__ = [
    "Block",
    "Component",
    "ConflictError",
    "ContentEngineError",
    "Context",
    "DatabaseUnavailable",
    "Document",
    "Engine",
    "InputError",
    "InvalidContext",
    "Library",
    "LibraryFormatError",
    "LibraryIntegrityError",
    "LibrarySettings",
    "NotFound",
    "Publication",
    "Receipt",
    "RenderEnvironment",
    "RenderError",
    "Rendered",
    "Renderer",
    "RepositoryBusy",
    "Selection",
    "Settings",
    "TemplateError",
    "Unavailable",
    "UnresolvedSlot",
    "UnstorableText",
    "Variant",
    "get_renderer",
    "parse_context",
    "register_renderer",
]
