"""Output renderers: an assembled ``Document`` in, the bytes of one format out.

A renderer is any object with a ``name``, a ``media_type`` and ``render(doc, env)``. The
built-in ``html``, ``fragment`` and ``pdf`` renderers register through the same
``register_renderer`` a third-party renderer uses, so neither has a private path into the
engine. ``RenderEnvironment`` carries everything a renderer may read besides the document:
the engine's themes, the library's own files, translations and the library's default locale.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from gettext import NullTranslations
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from content_engine.core.errors import InputError

if TYPE_CHECKING:
    from content_engine.core.models import Document

__all__ = [
    "GettextFor",
    "RenderEnvironment",
    "RenderResult",
    "Renderer",
    "Translations",
    "get_renderer",
    "null_translations",
    "register_renderer",
    "renderer_names",
]


class Translations(Protocol):
    """What a renderer needs of a catalogue: ``gettext.GNUTranslations`` and Babel's
    ``support.Translations`` both fit."""

    def gettext(self, message: str, /) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int, /) -> str: ...


#: Returns the engine's translations for a locale tag (``"de-AT"``); called once per render.
GettextFor = Callable[[str], Translations]

_NULL_TRANSLATIONS = NullTranslations()


def null_translations(locale: str) -> Translations:
    """Identity translations: the engine's English message ids are shown as they are."""
    return _NULL_TRANSLATIONS


@dataclass(frozen=True)
class RenderEnvironment:
    """Everything a renderer reads besides the document; built once at the edge, passed down.

    ``library_files`` holds the library's extra files keyed by relative path
    (``assets/logo.svg``, ``renderers/<theme>/print.css``); a library's
    ``renderers/<name>/`` wins over the engine's folder of the same name. ``asset_urls``
    maps asset paths to the URLs screen HTML names them by (``/assets/<hash>/<path>``); without
    it a full page inlines its images and a fragment keeps ``assets/...`` as written.
    """

    engine_renderers_dir: Path
    library_files: Mapping[str, bytes] = field(default_factory=dict)
    gettext_for: GettextFor = null_translations
    default_locale: str = "en"
    asset_urls: Mapping[str, str] | None = None


@dataclass
class RenderResult:
    """The rendered bytes and the renderer's own warnings (the document's are not repeated)."""

    content: bytes
    media_type: str
    warnings: list[str] = field(default_factory=list)


class Renderer(Protocol):
    """A named output format."""

    name: str
    media_type: str

    def render(self, doc: Document, env: RenderEnvironment) -> RenderResult: ...


_RENDERERS: dict[str, Renderer] = {}
# Reentrant: the built-ins register through register_renderer while _load_builtins holds it.
_LOCK = threading.RLock()
_builtins_state = "absent"  # -> "loading" -> "loaded"


def _load_builtins() -> None:
    """Register the built-in renderers on first use.

    Deferred so that importing the package stays cheap and ``html``/``pdf`` can import this
    module without a cycle; they register through the public function like anyone else.
    """
    global _builtins_state
    if _builtins_state == "loaded":
        return
    with _LOCK:
        if _builtins_state != "absent":  # loaded meanwhile, or this thread is loading them
            return
        _builtins_state = "loading"
        before = set(_RENDERERS)
        try:
            from content_engine.rendering import html, jsondoc, pdf

            builtins: tuple[Renderer, ...] = (
                html.HtmlRenderer(),
                html.FragmentRenderer(),
                *(pdf.PdfRenderer(name) for name in pdf.PDF_VARIANTS),
                jsondoc.JsonRenderer(),
            )
            for renderer in builtins:
                register_renderer(renderer)
        except BaseException:
            for name in set(_RENDERERS) - before:  # leave nothing half-registered
                del _RENDERERS[name]
            _builtins_state = "absent"
            raise
        _builtins_state = "loaded"


def register_renderer(renderer: Renderer, *, replace: bool = False) -> None:
    """Make ``renderer`` available under its ``name``.

    Registering a taken name is a programming error unless ``replace`` is true, so that two
    plugins cannot silently shadow each other.
    """
    _load_builtins()
    name = getattr(renderer, "name", None)
    if not isinstance(name, str) or not name:
        raise ValueError(f"renderer {renderer!r} has no name")
    if not callable(getattr(renderer, "render", None)):
        raise ValueError(f"renderer {name!r} has no render() method")
    with _LOCK:
        if name in _RENDERERS and not replace:
            raise ValueError(f"a renderer named {name!r} is already registered")
        _RENDERERS[name] = renderer


def get_renderer(name: str) -> Renderer:
    """The renderer registered as ``name``; an unknown format is bad input (exit 2, 4xx)."""
    _load_builtins()
    try:
        return _RENDERERS[name]
    except KeyError:
        known = renderer_names()
        raise InputError(
            f"unknown format {name!r}; known formats: {', '.join(known)}",
            code="unknown_format",
            details={"format": name, "known": known},
        ) from None


def renderer_names() -> list[str]:
    """The registered format names, sorted."""
    _load_builtins()
    return sorted(_RENDERERS)
