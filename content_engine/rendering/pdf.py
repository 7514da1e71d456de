"""Turn an assembled ``Document`` into a PDF with WeasyPrint.

In: the same page the HTML renderer builds (without inlined CSS), the theme's screen and print
stylesheets and a small generated page setup (paper size for the reader's region, the "Page X
of Y" footer in the reader's language). Out: ``application/pdf`` bytes whose title is the
publication's and whose language is the reader's locale (WeasyPrint takes both from the page's
``<title>`` and ``<html lang>``), with a table of contents that shows page numbers and one
outline entry per block.

Every PDF is tagged for assistive technology: ``pdf`` is PDF/UA-1 (a structure tree of
headings, lists, tables with their header cells, figures with their alt text and links, in
document order; ``/Lang``, and the title shown as the window title), ``pdf-a`` is PDF/A-3b
for archived copies, tagged the same way. The variant is the format's, so a receipt that
names its format replays the same variant.

Resources are fetched only from the library (``assets/...``) and from themes
(``renderers/...``); everything else is refused and reported as a warning of the render.

``import weasyprint`` costs about half a second, so it happens on the first PDF render, not
when the package is imported. Parsed stylesheets and one ``FontConfiguration`` are kept per
process: a new ``FontConfiguration`` per render leaks memory, and re-parsing a large
stylesheet costs far more than the render itself (see NOTES.md).
"""

from __future__ import annotations

import atexit
import ctypes
import logging
import mimetypes
import os
import posixpath
import re
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import unquote, urlsplit

from content_engine.core.errors import RenderError
from content_engine.core.models import Document
from content_engine.rendering import RenderEnvironment, RenderResult
from content_engine.rendering.html import ThemeFile, render_page

__all__ = [
    "BASE_URL",
    "PDF_VARIANTS",
    "LibraryResolver",
    "PdfRenderer",
    "footer_content",
    "harfbuzz_subset_available",
    "page_size",
]

logger = logging.getLogger("content_engine")

#: Synthetic base every relative URL of a rendered page resolves against. A hierarchical
#: scheme is needed for ``urljoin`` (used inside WeasyPrint) to resolve ``assets/x.png`` and
#: remove ``../`` segments, and ``.invalid`` (RFC 2606) can never reach a real host.
BASE_URL = "https://ce-library.invalid/"

FOOTER_MSGID = "Page {page} of {pages}"
#: Format name -> WeasyPrint's ``pdf_variant``: the formats the PDF renderer registers.
PDF_VARIANTS = {"pdf": "pdf/ua-1", "pdf-a": "pdf/a-3b"}
LETTER_REGIONS = frozenset({"US", "CA"})


# --- HarfBuzz subsetting ---------------------------------------------------------------------

# The names WeasyPrint 70 tries in ``weasyprint.text.ffi`` (it needs HarfBuzz >= 4.1.0).
_SUBSET_LIBRARIES = (
    "libharfbuzz-subset.so.0",
    "libharfbuzz-subset.0.dylib",
    "libharfbuzz-subset-0.dll",
    "libharfbuzz-subset-0",
    "harfbuzz-subset",
)
_HARFBUZZ_LIBRARIES = (
    "libharfbuzz.so.0",
    "libharfbuzz.0.dylib",
    "libharfbuzz-0.dll",
    "libharfbuzz-0",
    "harfbuzz",
)


def _load_first(names: tuple[str, ...]) -> ctypes.CDLL | None:
    for name in names:
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    return None


def _harfbuzz_subsets() -> bool:
    if _load_first(_SUBSET_LIBRARIES) is None:
        return False
    harfbuzz = _load_first(_HARFBUZZ_LIBRARIES)
    if harfbuzz is None:
        return False
    check = harfbuzz.hb_version_atleast
    check.argtypes = [ctypes.c_uint, ctypes.c_uint, ctypes.c_uint]
    check.restype = ctypes.c_int
    return bool(check(4, 1, 0))


@lru_cache(maxsize=1)
def harfbuzz_subset_available() -> bool:
    """Whether WeasyPrint will subset fonts with HarfBuzz rather than fall back to fontTools.

    The fallback is silent apart from a log line per font and makes small PDFs ~5x slower, so
    its absence is logged, once, when first asked: at the first PDF render, not at import
    (loading shared libraries is no business of a process that never renders a PDF).
    """
    available = _harfbuzz_subsets()
    if not available:
        logger.warning(
            "HarfBuzz subsetting (libharfbuzz-subset0, HarfBuzz >= 4.1.0) is not available: "
            "WeasyPrint falls back to fontTools and PDF rendering will be several times slower"
        )
    return available


def _weasyprint() -> Any:
    """Import WeasyPrint on first use, saying first if it will subset fonts slowly."""
    harfbuzz_subset_available()
    with warnings.catch_warnings():
        # Emitted once at import when HarfBuzz-Subset is missing; logged above instead, and a
        # warning must not turn into an error where warnings are errors (our test suite).
        warnings.filterwarnings("ignore", message="HarfBuzz-Subset", category=DeprecationWarning)
        import weasyprint
        import weasyprint.text.fonts
    return weasyprint


# --- fetching --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fetched:
    data: bytes
    media_type: str


class LibraryResolver:
    """Decides what a page may load: library assets and theme files, nothing else.

    Pure apart from reading the engine's theme folder, so the policy is testable without
    WeasyPrint. ``data:`` URLs are left to WeasyPrint (``None``); a refusal raises ``Refused``.
    """

    class Refused(Exception):
        """A URL the page may not load; the message is ready for the render's warnings."""

    def __init__(self, env: RenderEnvironment) -> None:
        self._files = env.library_files
        self._engine_dir = env.engine_renderers_dir

    def resolve(self, url: str) -> Fetched | None:
        if url[:5].lower() == "data:":
            return None
        shown = url.removeprefix(BASE_URL) if url.startswith(BASE_URL) else url
        if not url.startswith(BASE_URL):
            raise self.Refused(f"refused to fetch {shown!r}: outside the library's assets")
        path = unquote(urlsplit(url).path).lstrip("/")
        # urljoin has removed plain "../" segments already; anything left (say "%2e%2e/") is an
        # attempt to step out of the library.
        if not path or posixpath.normpath(path) != path or path.startswith(".."):
            raise self.Refused(f"refused to fetch {shown!r}: outside the library's assets")
        if path.startswith(("assets/", "renderers/")):
            data = self._files.get(path)
            if data is None and path.startswith("renderers/"):
                data = self._engine_file(path.removeprefix("renderers/"))
            if data is None:
                raise self.Refused(f"could not fetch {shown!r}: no such file in the library")
            media_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
            return Fetched(data, media_type)
        raise self.Refused(f"refused to fetch {shown!r}: outside the library's assets")

    def _engine_file(self, relative: str) -> bytes | None:
        root = self._engine_dir.resolve()
        path = (root / relative).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return None
        return path.read_bytes()


@lru_cache(maxsize=1)
def _fetcher_class() -> type:
    """The ``URLFetcher`` subclass, built on first use because its base lives in WeasyPrint.

    WeasyPrint 70 needs a subclass: a plain function crashes on the first failed fetch.
    """
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LibraryFetcher(URLFetcher):  # type: ignore[misc]
        def __init__(self, resolver: LibraryResolver, warnings: list[str]) -> None:
            super().__init__(allow_redirects=False)
            self.resolver = resolver
            self.warnings = warnings

        def fetch(self, url: str, headers: Any = None) -> Any:
            try:
                fetched = self.resolver.resolve(url)
            except LibraryResolver.Refused as refused:
                message = str(refused)
                if message not in self.warnings:
                    self.warnings.append(message)
                # WeasyPrint catches this, logs it and renders without the resource.
                raise ValueError(message) from None
            if fetched is None:
                return super().fetch(url, headers)
            return URLFetcherResponse(
                url, fetched.data, headers={"Content-Type": fetched.media_type}
            )

    return LibraryFetcher


def _fetcher(env: RenderEnvironment, warnings: list[str]) -> Any:
    return _fetcher_class()(LibraryResolver(env), warnings)


# --- page setup ------------------------------------------------------------------------------


def page_size(region: str | None) -> str:
    """US Letter where it is the norm, A4 elsewhere."""
    return "letter" if region in LETTER_REGIONS else "A4"


def _css_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\a ").replace("\r", "")
    return f'"{escaped}"'


_PAGE_PLACEHOLDER = re.compile(r"\{(page|pages)\}")


def footer_content(message: str) -> str | None:
    """A CSS ``content`` value from a translated "Page {page} of {pages}".

    ``"Seite {page} von {pages}"`` gives ``"Seite " counter(page) " von " counter(pages)``;
    placeholders may come in any order. ``None`` when the translation lost ``{page}``.
    """
    if "{page}" not in message:
        return None
    pieces: list[str] = []
    position = 0
    for match in _PAGE_PLACEHOLDER.finditer(message):
        if match.start() > position:
            pieces.append(_css_string(_unbrace(message[position : match.start()])))
        pieces.append(f"counter({match.group(1)})")
        position = match.end()
    if position < len(message):
        pieces.append(_css_string(_unbrace(message[position:])))
    return " ".join(pieces)


def _unbrace(text: str) -> str:
    # Messages follow str.format, where a literal brace is doubled.
    return text.replace("{{", "{").replace("}}", "}")


def _page_setup_css(size: str, footer: str) -> str:
    return f"@page {{\n  size: {size};\n  @bottom-center {{ content: {footer}; }}\n}}\n"


# --- per-process WeasyPrint state ------------------------------------------------------------


@dataclass
class _ProcessState:
    """What must exist once per process: after a fork the child builds its own."""

    pid: int
    font_config: Any
    # Renders hold this while WeasyPrint lays out: one FontConfiguration shared between
    # threads has corrupted memory (NOTES.md); threads gain nothing for PDFs anyway.
    lock: threading.Lock = field(default_factory=threading.Lock)
    stylesheets: OrderedDict[tuple[str, ...], Any] = field(default_factory=OrderedDict)


_STATE: _ProcessState | None = None
_STATE_LOCK = threading.Lock()
_STYLESHEETS_MAX = 64


def _drop_state() -> None:
    global _STATE
    _STATE = None


def _process_state() -> _ProcessState:
    global _STATE
    state = _STATE
    if state is not None and state.pid == os.getpid():
        return state
    with _STATE_LOCK:
        if _STATE is None or _STATE.pid != os.getpid():
            weasyprint = _weasyprint()
            if _STATE is None:
                # FontConfiguration.__del__ fails once module globals are torn down at exit.
                atexit.register(_drop_state)
            _STATE = _ProcessState(os.getpid(), weasyprint.text.fonts.FontConfiguration())
        return _STATE


def _stylesheet(state: _ProcessState, key: tuple[str, ...], build: Callable[[], Any]) -> Any:
    """A parsed ``weasyprint.CSS`` from the process cache, built on a miss. Caller holds the
    state's lock."""
    css = state.stylesheets.get(key)
    if css is None:
        css = build()
        state.stylesheets[key] = css
        while len(state.stylesheets) > _STYLESHEETS_MAX:
            state.stylesheets.popitem(last=False)
    else:
        state.stylesheets.move_to_end(key)
    return css


def _theme_stylesheet(
    state: _ProcessState, env: RenderEnvironment, file: ThemeFile, warnings: list[str]
) -> Any:
    def build() -> Any:
        parse_warnings: list[str] = []
        css = _weasyprint().CSS(
            string=file.text,
            base_url=f"{BASE_URL}renderers/{file.folder}/",
            url_fetcher=_fetcher(env, parse_warnings),
            font_config=state.font_config,
        )
        for message in parse_warnings:
            logger.warning("%s: %s", file.path, message)
            warnings.append(f"{file.path}: {message}")
        return css

    # Keyed by content: a library that changes its theme gets a fresh parse.
    return _stylesheet(state, ("theme", file.folder, file.sha256), build)


# --- the renderer ----------------------------------------------------------------------------


class PdfRenderer:
    """``pdf`` (PDF/UA-1) or ``pdf-a`` (PDF/A-3b): the page laid out on paper by WeasyPrint,
    tagged either way."""

    media_type = "application/pdf"

    def __init__(self, name: str = "pdf") -> None:
        self.name = name
        self.variant = PDF_VARIANTS[name]

    def render(self, doc: Document, env: RenderEnvironment) -> RenderResult:
        page = render_page(doc, env, inline_css=False)
        warnings = list(page.warnings)
        weasyprint = _weasyprint()
        state = _process_state()

        # Not through translated(): this text goes into CSS, not HTML, so no HTML escaping.
        footer_message = env.gettext_for(doc.context.locale).gettext(FOOTER_MSGID)
        footer = footer_content(footer_message)
        if footer is None:
            warnings.append(
                f"translation {footer_message!r} of {FOOTER_MSGID!r} lacks {{page}}; "
                "used the original"
            )
            footer = footer_content(FOOTER_MSGID) or ""
        setup = _page_setup_css(page_size(doc.context.region), footer)

        fetcher = _fetcher(env, warnings)
        html = weasyprint.HTML(string=page.html, base_url=BASE_URL, url_fetcher=fetcher)
        with state.lock:
            stylesheets = [
                _theme_stylesheet(state, env, page.theme.screen, warnings),
                # Before print.css, so that a theme can restyle or replace the footer.
                _stylesheet(
                    state,
                    ("setup", setup),
                    lambda: weasyprint.CSS(string=setup, font_config=state.font_config),
                ),
                _theme_stylesheet(state, env, page.theme.print, warnings),
            ]
            try:
                with _weasyprint_problems(warnings), _unclosed_profile_ignored():
                    pdf = html.write_pdf(
                        stylesheets=stylesheets,
                        font_config=state.font_config,
                        pdf_variant=self.variant,
                        pdf_tags=True,
                    )
            except Exception as exc:
                raise RenderError(f"PDF rendering failed: {type(exc).__name__}: {exc}") from exc
        return RenderResult(pdf, self.media_type, warnings)


@contextmanager
def _unclosed_profile_ignored() -> Iterator[None]:
    """WeasyPrint 70 opens its sRGB profile for every PDF/A and never closes it; the file is
    closed when the document is freed, at the end of ``write_pdf``, with a ResourceWarning that
    is WeasyPrint's to fix, not this render's problem."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*sRGB2014\.icc", category=ResourceWarning)
        yield


class _Collect(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage().replace(BASE_URL, "").rstrip(": ")
        # Refusals and missing files are reported by the fetcher already, in plainer words.
        if "refused to fetch" in message or "could not fetch" in message:
            return
        error = record.exc_info[1] if record.exc_info else None
        if error is not None:
            message += f" ({type(error).__name__}: {str(error)[:200]})"
        text = f"PDF: {message}"
        if text not in self.sink:
            self.sink.append(text)


@contextmanager
def _weasyprint_problems(sink: list[str]) -> Iterator[None]:
    """What WeasyPrint only logs (an image it could not decode, say) becomes a warning of this
    render. Renders are serialised by the state lock, so the handler sees only this one."""
    handler = _Collect(sink)
    weasy_logger = logging.getLogger("weasyprint")
    weasy_logger.addHandler(handler)
    try:
        yield
    finally:
        weasy_logger.removeHandler(handler)
