"""Turn an assembled ``Document`` into a full HTML page, or into a bare fragment of blocks.

In: a ``Document`` (blocks of trusted, already-escaped XHTML) and a ``RenderEnvironment``.
Out: ``text/html`` bytes. The page shell is the theme's ``page.html`` (Jinja2, autoescaped);
themes are looked up in the library's ``renderers/`` first, then in the engine's, and a file a
theme lacks comes from ``default``.

Two kinds of theme, two environments. The engine's own ``renderers/`` ship with the engine
and are trusted: a plain Jinja environment that can only load the engine's folder. A page
template from a library's ``renderers/`` is content like a body, written by whoever wrote the
library folder: it is checked like a body (no ``{% autoescape %}``) and renders in the same
sandbox as bodies (``sandbox.BodySandbox``), within its time and size limits, so
``{{ cycler.__init__.__globals__ }}`` is a sandbox violation, not a shell.

The PDF renderer builds its page here too, so both formats share one title page, one table
of contents and one set of block anchors.

A layout is a kind of document: ``default``, ``service-sheet`` (a header, no title page or
table of contents), ``brochure`` (a cover from the first block, no repeated image) and
``manual`` (title page, contents, numbered chapters, running heads). What the page shell does
differently for each comes from the ``options`` of the theme's ``theme.yaml``
(``LayoutOptions``); a library's ``renderers/<layout>/theme.yaml`` overrides them key by key.
"""

from __future__ import annotations

import base64
import hashlib
import html as html_lib
import mimetypes
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote

import jinja2
import yaml
from babel.dates import format_date
from markupsafe import Markup, escape
from pydantic import BaseModel, ConfigDict, ValidationError

from content_engine.core.errors import InputError, InvalidContext, LibraryFormatError, RenderError
from content_engine.core.locales import babel_locale, normalize_tag, text_direction
from content_engine.core.models import Block, Document
from content_engine.core.templates.sandbox import BodySandbox, Limits
from content_engine.rendering import RenderEnvironment, RenderResult, Translations

__all__ = [
    "FragmentRenderer",
    "HtmlRenderer",
    "LayoutOptions",
    "Page",
    "Theme",
    "ThemeFile",
    "block_anchor",
    "block_title",
    "load_theme",
    "render_page",
]

DEFAULT_THEME = "default"
_THEME_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$")
_HEADING = re.compile(r"<h([1-3])(?:\s[^>]*)?>(.*?)</h\1\s*>", re.S | re.I)
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


# --- themes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThemeFile:
    """One stylesheet of a theme and the theme folder it really came from (for its base URL)."""

    text: str
    folder: str
    path: str  # "renderers/<folder>/<name>", for messages and as a cache key

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


# A page holds every block of a publication (each bounded by the body limits) and its inlined
# assets: far more than one body may write, but still a bound. The page's content arrives as one
# value, so one value (and all the theme builds) may be as large as the page.
THEME_LIMITS = Limits(
    max_output_chars=200_000_000,
    max_sequence=200_000_000,
    max_work_chars=400_000_000,
    max_seconds=10.0,
)


class LayoutOptions(BaseModel):
    """What a layout's page shell does: ``theme.yaml``'s ``options``, the engine's defaults
    overridden by a library's theme key by key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: ``title-page`` (a page of its own), ``cover`` (the first block is the cover) or
    #: ``header`` (the title above the first block, on the same page).
    front: Literal["title-page", "cover", "header"] = "title-page"
    #: A table of contents of the blocks that have a title.
    contents: bool = True
    #: False: an image already shown earlier in the document (same ``src``) is left out.
    repeat_images: bool = True


@dataclass(frozen=True)
class Theme:
    name: str
    template: jinja2.Template
    screen: ThemeFile
    print: ThemeFile
    options: LayoutOptions = field(default_factory=LayoutOptions)

    @property
    def sandboxed(self) -> bool:
        """Whether the page template is a library's, rendered in the body sandbox."""
        return isinstance(self.template.environment, BodySandbox)

    def render(self, values: dict[str, object]) -> tuple[str, list[str]]:
        """The page's text and the warnings of its render (undefined names, in the sandbox)."""
        environment = self.template.environment
        if isinstance(environment, BodySandbox):
            return environment.run(self.template, values, f"theme {self.name!r}: page.html")
        return self.template.render(values), []


class ThemeLoader(jinja2.BaseLoader):
    """Names are ``<theme>/<file>``: the library's ``renderers/`` wins over the engine's folder.

    Only the sandboxed environment has this loader; a library template is checked as bodies
    are (``BodySandbox.check_syntax``) before it is compiled.
    """

    def __init__(self, library_files: Mapping[str, bytes], engine_dir: Path) -> None:
        self._library = {
            path.removeprefix("renderers/"): data
            for path, data in library_files.items()
            if path.startswith("renderers/")
        }
        self._engine = jinja2.FileSystemLoader(str(engine_dir))

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        data = self._library.get(template)
        if data is None:
            return self._engine.get_source(environment, template)
        source = _decode(data, f"renderers/{template}")
        if isinstance(environment, BodySandbox):
            environment.check_syntax(source, f"renderers/{template}")
        # Library files are keyed into the environment cache by content: never stale.
        return source, None, lambda: True


_JINJA_ENVS: OrderedDict[tuple[str, str], jinja2.Environment] = OrderedDict()
_JINJA_LOCK = threading.Lock()
_JINJA_ENVS_MAX = 32


def _library_themes_fingerprint(library_files: Mapping[str, bytes]) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(p for p in library_files if p.startswith("renderers/")):
        digest.update(path.encode("utf-8") + b"\0")
        digest.update(hashlib.blake2b(library_files[path], digest_size=16).digest())
    return digest.hexdigest()


def _jinja_env(env: RenderEnvironment, *, library: bool) -> jinja2.Environment:
    """The environment for the engine's own themes (``library=False``) or for a library's.

    One per engine folder (and per set of library themes), so compiled page templates survive
    across renders and across ``RenderEnvironment`` instances of the same library.
    """
    fingerprint = _library_themes_fingerprint(env.library_files) if library else ""
    key = (str(env.engine_renderers_dir), fingerprint)
    with _JINJA_LOCK:
        jenv = _JINJA_ENVS.get(key)
        if jenv is not None:
            _JINJA_ENVS.move_to_end(key)
            return jenv
        if library:
            # Untrusted: the same sandbox as bodies, able to extend the engine's themes.
            jenv = BodySandbox(THEME_LIMITS)
            jenv.loader = ThemeLoader(env.library_files, env.engine_renderers_dir)
        else:
            # Trusted: the engine's own files, and nothing else can be loaded into it.
            jenv = jinja2.Environment(
                loader=jinja2.FileSystemLoader(str(env.engine_renderers_dir)),
                autoescape=True,
                auto_reload=True,
                keep_trailing_newline=True,
            )
        _JINJA_ENVS[key] = jenv
        while len(_JINJA_ENVS) > _JINJA_ENVS_MAX:
            _JINJA_ENVS.popitem(last=False)
        return jenv


def _page_template(env: RenderEnvironment, layout: str) -> tuple[str, bool] | None:
    """The page.html a layout uses and whether it is the library's, or ``None``."""
    for name in dict.fromkeys((f"{layout}/page.html", f"{DEFAULT_THEME}/page.html")):
        if f"renderers/{name}" in env.library_files:
            return name, True
        if (env.engine_renderers_dir / name).is_file():
            return name, False
    return None


def _decode(data: bytes, path: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LibraryFormatError(f"not UTF-8: {exc.reason}", file=path) from None


@lru_cache(maxsize=64)
def _read_engine_file(path: str, mtime_ns: int) -> str:
    # Keyed by mtime so that editing a theme shows up without a restart.
    return _decode(Path(path).read_bytes(), path)


def _engine_text(engine_dir: Path, relative: str) -> str | None:
    path = engine_dir / relative
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return None
    return _read_engine_file(str(path), mtime)


def _theme_file(env: RenderEnvironment, theme: str, name: str) -> ThemeFile:
    for folder in dict.fromkeys((theme, DEFAULT_THEME)):
        relative = f"{folder}/{name}"
        data = env.library_files.get(f"renderers/{relative}")
        if data is not None:
            return ThemeFile(
                _decode(data, f"renderers/{relative}"), folder, f"renderers/{relative}"
            )
        text = _engine_text(env.engine_renderers_dir, relative)
        if text is not None:
            return ThemeFile(text, folder, f"renderers/{relative}")
    return ThemeFile("", theme, f"renderers/{theme}/{name}")


# theme.yaml holds a description and a few options: far below this.
MAX_THEME_YAML_CHARS = 65_536
# libyaml's safe loader where PyYAML has it: fast, and it refuses nesting past 1,000 levels
# at once (the pure-Python one takes half a minute to reach the recursion limit).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=64)
def _options_of(text: str, path: str) -> Mapping[str, Any]:
    """The ``options`` mapping of a theme.yaml, parsed once per text (every page render asks).
    A library's was checked at import (no aliases, bounded depth: ``library.read``); this
    bounds it again for one stored before that."""
    if len(text) > MAX_THEME_YAML_CHARS:
        raise LibraryFormatError(f"over {MAX_THEME_YAML_CHARS} characters", file=path)
    try:
        data = yaml.load(text, Loader=_YAML_LOADER)  # a safe loader, C or Python
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise LibraryFormatError(f"not valid YAML: {exc}", file=path, line=line) from None
    except RecursionError:
        raise LibraryFormatError("nested too deeply", file=path) from None
    options = data.get("options", {}) if isinstance(data, dict) else {}
    if not isinstance(options, dict):
        raise LibraryFormatError("'options' must be a mapping", file=path)
    return options


def layout_options(env: RenderEnvironment, layout: str) -> LayoutOptions:
    """The layout's options: ``default``'s, then the layout's own, the engine's theme.yaml
    before the library's, each overriding the one before it key by key."""
    merged: dict[str, Any] = {}
    source = f"renderers/{layout}/theme.yaml"
    for folder in dict.fromkeys((DEFAULT_THEME, layout)):
        relative = f"{folder}/theme.yaml"
        path = f"renderers/{relative}"
        library = env.library_files.get(path)
        texts = [
            _engine_text(env.engine_renderers_dir, relative),
            None if library is None else _decode(library, path),
        ]
        for text in texts:
            if text is not None:
                source = path
                merged.update(_options_of(text, source))
    try:
        return LayoutOptions.model_validate(merged)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"])
        raise LibraryFormatError(f"options.{where}: {problem['msg']}", file=source) from None


def known_layouts(env: RenderEnvironment) -> list[str]:
    """Theme names offered by the library and the engine."""
    names = {
        p.split("/")[1]
        for p in env.library_files
        if p.startswith("renderers/") and p.count("/") >= 2
    }
    if env.engine_renderers_dir.is_dir():
        names.update(p.name for p in env.engine_renderers_dir.iterdir() if p.is_dir())
    return sorted(n for n in names if _THEME_NAME.fullmatch(n))


def load_theme(env: RenderEnvironment, layout: str) -> Theme:
    """The theme a publication's ``layout`` names; an unknown layout is bad input."""
    prefix = f"renderers/{layout}/"
    exists = _THEME_NAME.fullmatch(layout) is not None and (
        any(p.startswith(prefix) for p in env.library_files)
        or (env.engine_renderers_dir / layout).is_dir()
    )
    if not exists:
        known = known_layouts(env)
        raise InputError(
            f"unknown layout {layout!r}; known layouts: {', '.join(known) or 'none'}",
            code="unknown_layout",
            details={"layout": layout, "known": known},
        )
    page = _page_template(env, layout)
    if page is None:
        raise InputError(f"layout {layout!r} has no page.html and no default to fall back on")
    name, from_library = page
    try:
        template = _jinja_env(env, library=from_library).get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        raise LibraryFormatError(
            exc.message or "invalid template", file=f"renderers/{exc.name}", line=exc.lineno
        ) from None
    except jinja2.TemplateNotFound:
        raise InputError(
            f"layout {layout!r} has no page.html and no default to fall back on"
        ) from None
    return Theme(
        name=layout,
        template=template,
        screen=_theme_file(env, layout, "screen.css"),
        print=_theme_file(env, layout, "print.css"),
        options=layout_options(env, layout),
    )


# --- blocks ----------------------------------------------------------------------------------


def block_anchor(index: int, block: Block) -> str:
    """``block-<n>-<component-id>``, n counted from 1: stable across renders of one plan."""
    return f"block-{index}-{block.component}"


def block_title(block: Block) -> str | None:
    """The block's title, else the text of its first h1/h2/h3, else ``None``: a block without
    a heading is left out of the contents rather than listed under its component id."""
    if block.title:
        return block.title
    match = _HEADING.search(block.html)
    if match:
        text = _SPACE.sub(" ", html_lib.unescape(_TAG.sub("", match.group(2)))).strip()
        if text:
            return text
    return None


def _own_locale(block: Block, doc_locale: str) -> tuple[str, str] | None:
    """(lang, dir) for a block that came from another locale than the document's, else None."""
    if not block.locale:
        return None
    try:
        tag = normalize_tag(block.locale)
    except InvalidContext:
        return None
    return None if tag == doc_locale else (tag, text_direction(tag))


@dataclass(frozen=True)
class PageBlock:
    anchor: str
    component: str
    variant: str
    title: str | None
    lang: str | None
    dir: str | None
    html: Markup


# Images only: a data: URL is harmless in <img src> but not as a link a reader may follow. An
# image named by its asset URL (a block assembled for the web) is inlined just the same.
_ASSET_REF = re.compile(
    r'(<img\b[^>]*?\ssrc=")(?:assets/|[^"]*?/assets/([0-9a-f]{16})/)([^"#?]+)(")'
)
# Every src or href that names a library asset, as the sanitizer lets bodies write them.
_ASSET_LINK = re.compile(r'(\s(?:src|href)=")(assets/[^"#?]+)(")')


def inline_assets(html: str, files: Mapping[str, bytes]) -> str:
    """Library assets as ``data:`` URLs, so a saved page shows its images anywhere.

    Only references to files the library holds are rewritten (by an asset URL: only to the
    version of that hash); the rest stay as written.
    """

    def replace(match: re.Match[str]) -> str:
        path = "assets/" + unquote(match.group(3))
        data = files.get(path)
        if data is None:
            return match.group(0)
        wanted = match.group(2)
        if wanted is not None and hashlib.sha256(data).hexdigest()[:16] != wanted:
            return match.group(0)
        media = mimetypes.guess_type(path)[0] or "application/octet-stream"
        encoded = base64.b64encode(data).decode("ascii")
        return f"{match.group(1)}data:{media};base64,{encoded}{match.group(4)}"

    return _ASSET_REF.sub(replace, html)


def asset_links(html: str) -> set[str]:
    """The library paths (``assets/...``) that ``html`` refers to by ``src`` or ``href``."""
    return {match.group(2) for match in _ASSET_LINK.finditer(html)}


def link_assets(html: str, urls: Mapping[str, str]) -> str:
    """Each ``src``/``href`` naming a library asset rewritten to its URL in ``urls`` (by
    library path; an asset URL is ``/assets/<hash>/<path>``, absolute under a public URL),
    so the HTML shows its images wherever it is embedded. Others stay as written."""

    def replace(match: re.Match[str]) -> str:
        url = urls.get(match.group(2))
        return match.group(0) if url is None else f"{match.group(1)}{escape(url)}{match.group(3)}"

    return _ASSET_LINK.sub(replace, html)


def _block_html(html: str, env: RenderEnvironment, *, screen: bool, page: bool) -> str:
    """A block's HTML as shown on screen: assets by their URLs when the environment has them,
    else inlined on a full page, else as written. Not on screen (the PDF, which resolves them
    itself from the library): always as written."""
    if not screen:
        return html
    if env.asset_urls is not None:
        return link_assets(html, env.asset_urls)
    return inline_assets(html, env.library_files) if page and env.library_files else html


# A <figure> (its images and caption together) or a lone <img>, as the sanitizer writes them
# (well-formed, attributes quoted): what ``repeat_images: false`` leaves out once shown.
_FIGURE_OR_IMAGE = re.compile(r"<figure\b[^>]*>.*?</figure\s*>|<img\b[^>]*>", re.S)
_IMAGE_SRC = re.compile(r'<img\b[^>]*?\ssrc="([^"]*)"')


def _once_per_image(html: str, seen: set[str]) -> str:
    """``html`` without the images (with their figure) whose ``src`` was shown before, in
    ``seen``; adds the ones it keeps. A figure goes only when all its images were shown."""

    def replace(match: re.Match[str]) -> str:
        sources = _IMAGE_SRC.findall(match.group(0))
        if sources and all(src in seen for src in sources):
            return ""
        seen.update(sources)
        return match.group(0)

    return _FIGURE_OR_IMAGE.sub(replace, html)


def _page_blocks(
    doc: Document, env: RenderEnvironment, screen: bool, options: LayoutOptions
) -> list[PageBlock]:
    out = []
    seen_images: set[str] = set()
    for index, block in enumerate(doc.blocks, start=1):
        html = block.html
        if not options.repeat_images:
            html = _once_per_image(html, seen_images)
        own = _own_locale(block, doc.context.locale)
        out.append(
            PageBlock(
                anchor=block_anchor(index, block),
                component=block.component,
                variant=block.variant,
                title=block_title(block),
                lang=own[0] if own else None,
                dir=own[1] if own else None,
                # Trusted: the assembly escaped every placeholder value already.
                html=Markup(_block_html(html, env, screen=screen, page=True)),
            )
        )
    return out


# --- the page --------------------------------------------------------------------------------


def translated(
    translations: Translations, msgid: str, warnings: list[str], **values: object
) -> Markup:
    """``msgid`` translated and filled in; the translation and the values are both escaped.

    A translation whose placeholders do not fit is a translator's slip, not a failed render:
    warn and use the English message.
    """
    text = translations.gettext(msgid)
    try:
        return escape(text).format(**values)
    except (KeyError, IndexError, ValueError):
        warnings.append(f"translation {text!r} of {msgid!r} does not fit; used the original")
        return escape(msgid).format(**values)


def isolated(text: str) -> Markup:
    """``text`` escaped in a ``<bdi>``: a date, a number or a name keeps its own direction
    inside a sentence of the other (``Generated on <bdi>1 ديسمبر 2026</bdi>``). Themes'
    print.css turns ``bdi`` into Unicode isolates for the PDF."""
    return Markup("<bdi>{}</bdi>").format(text)


@dataclass(frozen=True)
class Page:
    html: str
    theme: Theme
    warnings: list[str]


def render_page(doc: Document, env: RenderEnvironment, *, inline_css: bool = True) -> Page:
    """The full page of ``doc`` in its theme; without ``inline_css`` for a caller (the PDF
    renderer) that hands the theme's stylesheets over as prebuilt objects instead."""
    warnings: list[str] = []
    theme = load_theme(env, doc.layout)
    ctx = doc.context
    translations = env.gettext_for(ctx.locale)
    name = ctx.customer.get("name")
    prepared_for = (
        translated(translations, "Prepared for {name}", warnings, name=isolated(str(name)))
        if name not in (None, "")
        else None
    )
    when = format_date(ctx.at, format="long", locale=babel_locale(ctx.locale, env.default_locale))
    blocks = _page_blocks(doc, env, inline_css, theme.options)
    cover = blocks[0] if theme.options.front == "cover" and blocks else None
    css = None
    if inline_css:
        # The stylesheet is the theme's own, trusted; only keep it from closing <style>.
        css = Markup(theme.screen.text.replace("</", "<\\/"))
    values: dict[str, object] = {
        "lang": ctx.locale,
        "dir": text_direction(ctx.locale),
        "title": doc.title,
        "layout": doc.layout,
        "css": css,
        "prepared_for": prepared_for,
        "generated_on": translated(
            translations, "Generated on {date}", warnings, date=isolated(when)
        ),
        "contents_label": translated(translations, "Contents", warnings),
        "blocks": blocks,
        "cover": cover,
        "body": blocks[1:] if cover else blocks,
        "contents": [block for block in blocks if block.title] if theme.options.contents else [],
        "options": theme.options,
        "publication": doc.publication,
        "context": ctx,
    }
    try:
        html, theme_warnings = theme.render(values)
    except jinja2.TemplateError as exc:
        raise RenderError(f"theme {theme.name!r}: page.html failed: {exc}") from exc
    warnings += theme_warnings
    return Page(html=html, theme=theme, warnings=warnings)


class HtmlRenderer:
    """``html``: the full page with the theme's screen stylesheet inlined."""

    name = "html"
    media_type = "text/html; charset=utf-8"

    def render(self, doc: Document, env: RenderEnvironment) -> RenderResult:
        page = render_page(doc, env, inline_css=True)
        return RenderResult(page.html.encode("utf-8"), self.media_type, page.warnings)


class FragmentRenderer:
    """``fragment``: just the blocks, each in its ``section``, for embedding in another page."""

    name = "fragment"
    media_type = "text/html; charset=utf-8"

    def render(self, doc: Document, env: RenderEnvironment) -> RenderResult:
        parts = []
        for block in doc.blocks:
            component, variant = escape(block.component), escape(block.variant)
            attrs = f' data-component="{component}" data-variant="{variant}"'
            own = _own_locale(block, doc.context.locale)
            if own:
                attrs += f' lang="{escape(own[0])}" dir="{own[1]}"'
            html = _block_html(block.html, env, screen=True, page=False)
            parts.append(f'<section class="ce-block"{attrs}>\n{html}\n</section>\n')
        return RenderResult("".join(parts).encode("utf-8"), self.media_type, [])
