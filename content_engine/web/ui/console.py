"""The agent's console: a customer's document from a serial number or a customer id.

In: the console form (the publication, one lookup key's name and value, locale, role), posted
with the session's CSRF token, so that the customer's identifier stays out of URLs, access
logs and the browser's history. Out: the publication as readers get it (live versions, never
working copies), filled from the data sources and shown in ``<iframe srcdoc sandbox>`` as the
preview shows it, with the provenance of its data (every source asked: key, outcome, time,
cache; the fields each supplied), the warnings and the explain trace of each component; or the
same context rendered as a PDF download. Below, the follow-up list: readers' low scores with a
comment, newest first, with the document or block each was about (``followups``). Each answer
is a render with a receipt under the signed-in key, like any other. A source that finds
nothing or fails is a message on the page. Agents, editors and admins may use it.
"""

from __future__ import annotations

from fastapi import Response

from content_engine.web.ui import followups
from content_engine.web.ui.forms import CheckedForm, ConsoleDraft, console_context
from content_engine.web.ui.preview import Preview, looked_up, pdf_response, preview_publication
from content_engine.web.ui.routing import ui_router
from content_engine.web.ui.session import CONSOLE_PATH
from content_engine.web.ui.templating import ConsolePage, Page

router = ui_router()


@router.get(CONSOLE_PATH)
def console_form(page: ConsolePage) -> Response:
    library = page.engine.library()
    draft = ConsoleDraft.default(library, page.engine.lookup_keys())
    return _console_page(page, draft, {}, None)


@router.post(CONSOLE_PATH)
def console(page: ConsolePage, form: CheckedForm) -> Response:
    """Look the customer up and show the document: a query, not a write (its receipt aside)."""
    library = page.engine.library()
    keys = page.engine.lookup_keys()
    draft = ConsoleDraft.of_form(form)
    context, errors = console_context(draft, library, keys, page._)
    shown = None
    if context is not None:
        key_id = page.principal.key_id
        shown = preview_publication(
            page.engine, library, draft.publication, context, key_id, page._, preview=False
        )
    return _console_page(page, draft, errors, shown)


@router.post(f"{CONSOLE_PATH}/pdf")
def console_pdf(page: ConsolePage, form: CheckedForm) -> Response:
    """The same context as a PDF download (receipt kept); a failure is the console page."""
    library = page.engine.library()
    draft = ConsoleDraft.of_form(form)
    context, errors = console_context(draft, library, page.engine.lookup_keys(), page._)
    if context is None:
        return _console_page(page, draft, errors, None)
    filled, fetched, failed = looked_up(
        page.engine, context, page._, [], publication_id=draft.publication, preview=False
    )
    if failed is not None:
        return _console_page(page, draft, {}, failed)
    rendered = page.engine.render(
        draft.publication, filled, format="pdf", key_id=page.principal.key_id, fetched=fetched
    )
    return pdf_response(rendered, f"{draft.publication}-{context.locale}.pdf")


def _console_page(
    page: Page, draft: ConsoleDraft, errors: dict[str, str], shown: Preview | None
) -> Response:
    library = page.engine.library()
    status = 422 if errors else (shown.status if shown else 200)
    return page.render(
        "console.html",
        status,
        section="console",
        draft=draft.shown(),
        errors=errors,
        preview=shown,
        keys=page.engine.lookup_keys(),
        publications=sorted(library.publications.values(), key=lambda p: p.id),
        settings=library.settings,
        follow_ups=followups.newest(page.engine.feedback.follow_ups(followups.SHOWN)),
        cut=followups.cut,
    )
