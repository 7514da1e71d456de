"""The workbench's reading pages: library, component, publication, lint, coverage and the
stale translations.

In: a signed-in request. Out: an HTML page of what the engine says now. Nothing here writes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response

from content_engine.core.errors import NotFound
from content_engine.core.models import Component
from content_engine.web.schemas import ComponentId, PublicationId
from content_engine.web.ui import views
from content_engine.web.ui.routing import ui_router
from content_engine.web.ui.templating import Page, WorkbenchPage

router = ui_router()

Filter = Annotated[str, Query(max_length=200)]
Saved = Annotated[int | None, Query(ge=1, le=2**31 - 1, description="The version just saved.")]


@router.get("/")
def library(
    page: WorkbenchPage, q: Filter = "", type: Filter = "", tag: Filter = "", archived: Filter = ""
) -> Response:
    """Components by type, filtered by type, tag and text; publications with their slots.
    Variants as editors work on them: each one's newest version (its working copy if any)."""
    lib = page.engine.working_library()
    types, tags = views.types_and_tags(lib)
    found = views.search(lib, q, type, tag)
    return page.render(
        "library.html",
        section="library",
        groups=views.by_type(found),
        found=len(found),
        total=len(lib.components),
        types=types,
        tags=tags,
        q=q,
        type=type,
        tag=tag,
        publications=sorted(lib.publications.values(), key=lambda p: p.id),
        library=lib,
        archived=archived,
    )


@router.get("/components/{component_id}")
def component(page: WorkbenchPage, component_id: ComponentId, created: bool = False) -> Response:
    found = page.engine.editor.get_component(component_id)
    notice = page._("Component created. Now add its first variant.") if created else None
    return component_page(page, found, notice=notice)


def component_page(
    page: Page,
    component: Component,
    *,
    status_code: int = 200,
    notice: str | None = None,
    archive_error: str | None = None,
) -> Response:
    """The component with its variants; the outcome of an archive that was refused."""
    return page.render(
        "component.html",
        status_code,
        section="library",
        component=component,
        variants=[component.variants[k] for k in sorted(component.variants)],
        notice=notice,
        archive_error=archive_error,
    )


@router.get("/publications/{publication_id}")
def publication(
    page: WorkbenchPage, publication_id: PublicationId, saved: Saved = None
) -> Response:
    lib = page.engine.library()
    found = lib.publications.get(publication_id)
    if found is None:
        raise NotFound(f"unknown publication {publication_id!r}")
    return page.render(
        "publication.html",
        section="library",
        publication=found,
        library=lib,
        notice=page._("Saved as version {n}.", n=saved) if saved else None,
    )


@router.get("/lint")
def lint(page: WorkbenchPage) -> Response:
    problems = page.engine.lint()
    return page.render(
        "lint.html",
        section="lint",
        problems=problems,
        errors=sum(p.severity == "error" for p in problems),
        link=views.problem_link,
    )


@router.get("/translations")
def translations(page: WorkbenchPage) -> Response:
    """Stale translations by locale, each with what changed in its source and "mark in sync"."""
    by_locale = page.engine.translations.stale_by_locale()
    return page.render("translations.html", section="translations", by_locale=by_locale)


@router.get("/coverage")
def coverage_index(page: WorkbenchPage) -> Response:
    publications = sorted(page.engine.library().publications.values(), key=lambda p: p.id)
    return page.render("coverage_index.html", section="coverage", publications=publications)


@router.get("/coverage/{publication_id}")
def coverage(page: WorkbenchPage, publication_id: PublicationId) -> Response:
    report = page.engine.coverage(publication_id)
    return page.render(
        "coverage.html",
        section="coverage",
        matrix=views.coverage_matrix(report),
        publication=page.engine.library().publications[publication_id],
    )
