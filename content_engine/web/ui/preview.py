"""Preview as any reader: a block or a whole publication, drafts included, with the reasons.

In: a component or publication and the preview form (locale, segments, role, region, channel,
customer and product JSON, time, lookup keys for the data sources). Out: the assembled HTML
shown in ``<iframe srcdoc sandbox>`` (the previewed markup runs no script and gets an origin of
its own, not the workbench's), next to the explain trace of every component involved (which
variant won and why each other lost) and the provenance of the data the sources gave. And the
publication as a PDF, rendered from the same preview. The agent's console (``console``) shows
live content the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Response
from markupsafe import Markup

from content_engine.core.errors import (
    InvalidContext,
    LookupNotFound,
    NotFound,
    RenderError,
    SourceUnavailable,
)
from content_engine.core.locales import text_direction
from content_engine.core.lookups import Fetched
from content_engine.core.models import Block, Component, Context, Library, Publication
from content_engine.core.selection import Selection
from content_engine.engine import Engine, Provenance, Rendered, provenance
from content_engine.rendering.html import inline_assets, load_theme
from content_engine.web.schemas import ComponentId, PublicationId
from content_engine.web.ui import views
from content_engine.web.ui.forms import ReaderDraft, ReaderQuery, context_of
from content_engine.web.ui.routing import ui_router
from content_engine.web.ui.templating import Page, Translator, WorkbenchPage, environment

router = ui_router()


@dataclass
class Preview:
    """What a preview shows: the document (``srcdoc``), or why there is none, and the traces."""

    srcdoc: str | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    selections: list[Selection] = field(default_factory=list)
    # Every data source asked, and the fields each supplied (empty without lookup keys).
    sources: list[Provenance] = field(default_factory=list)
    # 404 when a required source found nothing, 503 when one failed: the page's status.
    status: int = 200
    receipt: str | None = None  # the render's receipt id (publications)


def looked_up(
    engine: Engine,
    context: Context,
    _: Translator,
    component_ids: list[str],
    *,
    publication_id: str | None = None,
    preview: bool = True,
) -> tuple[Context, Fetched | None, Preview | None]:
    """``context`` filled from the data sources once, for the traces and the render that
    follow; or a ``Preview`` that says, in the visitor's language, which source failed."""
    try:
        filled, fetched = engine.fill(
            context, component_ids, publication_id=publication_id, preview=preview
        )
    except LookupNotFound as exc:
        message = _(
            "Nothing found: data source {source} has no record for this {key}.",
            source=exc.source,
            key=exc.key,
        )
        return context, None, Preview(error=message, status=404)
    except SourceUnavailable as exc:
        message = _(
            "Data source {source} is unavailable ({reason}). Try again in a moment.",
            source=exc.source,
            reason=exc.reason,
        )
        return context, None, Preview(error=message, status=503)
    return filled, fetched, None


def block_document(engine: Engine, block: Block, context: Context) -> str:
    """One block as a page of its own, in the default theme's screen style, assets inline."""
    env = engine.render_environment()
    theme = load_theme(env, "default")
    return (
        environment()
        .get_template("frame.html")
        .render(
            lang=context.locale,
            dir=text_direction(context.locale),
            # The theme's stylesheet and the assembled block are trusted, as in the HTML renderer.
            css=Markup(theme.screen.text.replace("</", "<\\/")),
            block=block,
            html=Markup(inline_assets(block.html, env.library_files)),
        )
    )


def preview_block(engine: Engine, component_id: str, context: Context, _: Translator) -> Preview:
    filled, fetched, failed = looked_up(engine, context, _, [component_id])
    if failed is not None:
        return failed
    preview = Preview(
        selections=[engine.explain(component_id, filled, preview=True, fetched=fetched)],
        sources=provenance(context, fetched),
    )
    try:
        block = engine.block(component_id, filled, preview=True, fetched=fetched)
    except RenderError as exc:
        preview.error = exc.message
        return preview
    preview.srcdoc = block_document(engine, block, context)
    preview.warnings = block.warnings
    return preview


def preview_publication(
    engine: Engine,
    library: Library,
    publication_id: str,
    context: Context,
    key_id: str | None,
    _: Translator,
    *,
    preview: bool = True,
) -> Preview:
    """The publication as ``context``'s reader gets it (``preview``: working copies in place
    of live versions), the trace of each component and the data's provenance, from one
    lookup; rendered with a receipt under ``key_id``."""
    publication = library.publications[publication_id]
    ids = views.publication_components(library, publication)
    filled, fetched, failed = looked_up(
        engine, context, _, [], publication_id=publication_id, preview=preview
    )
    if failed is not None:
        return failed
    shown = Preview(
        selections=[
            engine.explain(c, filled, preview=preview, fetched=fetched)
            for c in ids
            if c in library.components
        ],
        sources=provenance(context, fetched),
    )
    try:
        rendered = engine.render(
            publication_id,
            filled,
            format="html",
            preview=preview,
            key_id=key_id,
            fetched=fetched,
        )
    except RenderError as exc:
        shown.error = exc.message
        return shown
    shown.srcdoc = rendered.content.decode("utf-8")
    shown.warnings = rendered.warnings
    shown.receipt = rendered.receipt.id
    return shown


def _reader(
    page: Page, reader: ReaderDraft, library: Library
) -> tuple[Context | None, dict[str, str], ReaderDraft]:
    """The reader the form names; the library's default locale when the form is new."""
    if not any(reader.to_dict().values()):
        reader = ReaderDraft(locale=library.settings.default_locale)
    context, errors = context_of(reader, page._)
    return context, errors, reader


@router.get("/components/{component_id}/preview")
def component_preview(
    page: WorkbenchPage, component_id: ComponentId, reader: ReaderQuery
) -> Response:
    library = page.engine.working_library()
    component = library.components.get(component_id)
    if component is None:
        raise NotFound(f"unknown component {component_id!r}")
    context, errors, reader = _reader(page, reader, library)
    preview = preview_block(page.engine, component_id, context, page._) if context else None
    return _preview_page(
        page,
        library,
        reader,
        errors,
        preview,
        f"/components/{component_id}/preview",
        component=component,
    )


@router.get("/publications/{publication_id}/preview")
def publication_preview(
    page: WorkbenchPage, publication_id: PublicationId, reader: ReaderQuery
) -> Response:
    library = page.engine.working_library()
    publication = library.publications.get(publication_id)
    if publication is None:
        raise NotFound(f"unknown publication {publication_id!r}")
    context, errors, reader = _reader(page, reader, library)
    preview = (
        preview_publication(
            page.engine, library, publication_id, context, page.principal.key_id, page._
        )
        if context
        else None
    )
    return _preview_page(
        page,
        library,
        reader,
        errors,
        preview,
        f"/publications/{publication_id}/preview",
        publication=publication,
    )


def _preview_page(
    page: Page,
    library: Library,
    reader: ReaderDraft,
    errors: dict[str, str],
    preview: Preview | None,
    action: str,
    *,
    component: Component | None = None,
    publication: Publication | None = None,
) -> Response:
    """The preview page of a component or a publication: the reader form, then the preview."""
    return page.render(
        "preview.html",
        422 if errors else (preview.status if preview else 200),
        section="library",
        component=component,
        publication=publication,
        reader=reader,
        errors=errors,
        preview=preview,
        settings=library.settings,
        action=action,
        lookup_keys=page.engine.lookup_keys(),
    )


@router.get("/publications/{publication_id}/pdf")
def publication_pdf(
    page: WorkbenchPage, publication_id: PublicationId, reader: ReaderQuery
) -> Response:
    """The previewed publication as a PDF download (drafts included, receipt kept)."""
    library = page.engine.working_library()
    context, errors, reader = _reader(page, reader, library)
    if context is None:
        message = "; ".join(f"{k}: {v}" for k, v in errors.items())
        raise InvalidContext(message)
    rendered = page.engine.render(
        publication_id, context, format="pdf", preview=True, key_id=page.principal.key_id
    )
    return pdf_response(rendered, f"{publication_id}-{context.locale}-preview.pdf")


def pdf_response(rendered: Rendered, filename: str) -> Response:
    """A rendered PDF as a download, naming its receipt."""
    return Response(
        rendered.content,
        media_type=rendered.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Render-Id": rendered.receipt.id,
        },
    )
