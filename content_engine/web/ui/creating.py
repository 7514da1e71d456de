"""The workbench creates: components, publications (slots added, removed, reordered, queries),
and archives components.

In: the editor's form and the version it was based on (none to create). Out: the item saved
through ``engine.editor``, the API's writes, and a redirect to it; or the same form again with
each error next to the field it is about, an id already taken included; or, when someone saved
meanwhile, their version next to this edit, and nothing overwritten.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Response

from content_engine.core.errors import ConflictError, LibraryIntegrityError, NotFound
from content_engine.core.models import Publication
from content_engine.web.errors import status_of
from content_engine.web.schemas import ComponentId, PublicationId
from content_engine.web.ui.forms import CheckedForm, Form, checked_form_of
from content_engine.web.ui.pages import component_page
from content_engine.web.ui.plans import (
    PUBLICATION_FIELDS,
    ComponentDraft,
    PublicationDraft,
    component_of,
    known_layouts,
    known_types,
    publication_of,
    version_of,
)
from content_engine.web.ui.routing import ui_router
from content_engine.web.ui.templating import Page, WorkbenchPage

router = ui_router()

PublicationForm = Annotated[Form, Depends(checked_form_of(PUBLICATION_FIELDS))]


# --- components ------------------------------------------------------------------------------


def component_form(
    page: Page,
    draft: ComponentDraft,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
) -> Response:
    return page.render(
        "component_form.html",
        status_code,
        section="library",
        draft=draft,
        errors=errors or {},
        types=known_types(page.engine.library()),
    )


@router.get("/new-component")
def new_component(page: WorkbenchPage) -> Response:
    return component_form(page, ComponentDraft())


@router.post("/components")
def create_component(page: WorkbenchPage, form: CheckedForm) -> Response:
    draft = ComponentDraft.of_form(form)
    component, errors = component_of(draft, page._)
    if component is None:
        return component_form(page, draft, status_code=422, errors=errors)
    try:
        saved = page.engine.editor.save_component(component, expected_version=None)
    except ConflictError as exc:
        errors = {"id": page._("A component with this id exists already.")}
        return component_form(page, draft, status_code=status_of(exc), errors=errors)
    return page.redirect(f"/components/{saved.id}?created=1")


@router.post("/components/{component_id}/archive")
def archive_component(
    page: WorkbenchPage, form: CheckedForm, component_id: ComponentId
) -> Response:
    """Take the component out of the library (its history stays); refused while included."""
    expected = version_of(form.get("version"))
    try:
        if expected is None:
            raise ConflictError("the version the archive is based on is missing")
        page.engine.editor.archive_component(component_id, expected_version=expected)
    except LibraryIntegrityError as exc:
        users = ", ".join((exc.details or {}).get("included_by", [])) or exc.message
        reason = page._("Not archived: still included by {users}.", users=users)
        current = page.engine.editor.get_component(component_id)
        return component_page(page, current, status_code=status_of(exc), archive_error=reason)
    except ConflictError as exc:
        current = page.engine.editor.get_component(component_id)
        notice = page._(
            "Not done: someone saved version {n} meanwhile. Here it is; decide again.",
            n=current.version,
        )
        return component_page(page, current, status_code=status_of(exc), archive_error=notice)
    return page.redirect(f"/?archived={component_id}")


# --- publications ----------------------------------------------------------------------------


def publication_form(
    page: Page,
    draft: PublicationDraft,
    *,
    stored: Publication | None,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    theirs: Publication | None = None,
) -> Response:
    library = page.engine.library()
    return page.render(
        "publication_form.html",
        status_code,
        section="library",
        draft=draft.with_blank_rows(),
        stored=stored,
        errors=errors or {},
        theirs=theirs,
        library=library,
        component_ids=sorted(library.components),
        types=known_types(library),
        layouts=known_layouts(library),
    )


@router.get("/new-publication")
def new_publication(page: WorkbenchPage) -> Response:
    return publication_form(page, PublicationDraft(), stored=None)


@router.get("/publications/{publication_id}/edit")
def edit_publication(page: WorkbenchPage, publication_id: PublicationId) -> Response:
    stored = page.engine.editor.get_publication(publication_id)
    return publication_form(page, PublicationDraft.of_publication(stored), stored=stored)


@router.post("/publications")
def create_publication(page: WorkbenchPage, form: PublicationForm) -> Response:
    return _save_publication(page, PublicationDraft.of_form(form, expected_version=""), None)


@router.post("/publications/{publication_id}")
def save_publication(
    page: WorkbenchPage, form: PublicationForm, publication_id: PublicationId
) -> Response:
    stored = _stored(page, publication_id)
    if stored is None:
        raise NotFound(f"unknown publication {publication_id!r}")
    return _save_publication(page, PublicationDraft.of_form(form, id=publication_id), stored)


def _stored(page: Page, publication_id: str) -> Publication | None:
    try:
        return page.engine.editor.get_publication(publication_id)
    except NotFound:
        return None


def _save_publication(page: Page, draft: PublicationDraft, stored: Publication | None) -> Response:
    publication, errors = publication_of(draft, page.engine.library(), stored, page._)
    if publication is None:
        return publication_form(page, draft, stored=stored, status_code=422, errors=errors)
    expected = version_of(draft.expected_version)
    try:
        saved = page.engine.editor.save_publication(publication, expected_version=expected)
    except ConflictError as exc:
        theirs = _stored(page, publication.id)
        if stored is None or theirs is None:  # a create: the id is taken
            errors = {"id": page._("A publication with this id exists already.")}
            return publication_form(
                page, draft, stored=None, status_code=status_of(exc), errors=errors
            )
        # Saving again is a decision taken with theirs in view: it is based on theirs.
        draft.expected_version = str(theirs.version)
        return publication_form(
            page, draft, stored=theirs, status_code=status_of(exc), theirs=theirs
        )
    return page.redirect(f"/publications/{saved.id}?saved={saved.version}")
