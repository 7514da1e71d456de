"""The variant editor: edit and create variants, move them along the workflow, unpublish,
roll back; the live version readers get shown beside the working copy being edited.

In: the editor's form (body, conditions, the version it was based on). Out: a new version
saved through ``engine.editor`` and a redirect to it; or the same form again with the error
next to the field it is about (a malformed body with its line and column); or, when someone
saved meanwhile, both versions side by side with their differences, and nothing overwritten.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import Query, Response

from content_engine.core.errors import (
    ConflictError,
    ContentEngineError,
    InputError,
    LibraryFormatError,
    LibraryIntegrityError,
    NotFound,
)
from content_engine.core.models import KEY_PATTERN, STATUSES, Component, TranslatedFrom, Variant
from content_engine.web.errors import status_of
from content_engine.web.schemas import ComponentId, VariantKey
from content_engine.web.ui.diffs import Diff, DiffBudget, diff_rows, variant_diff, variant_text
from content_engine.web.ui.forms import (
    CheckedForm,
    Form,
    VariantDraft,
    source_text,
    variant_of,
)
from content_engine.web.ui.routing import ui_router
from content_engine.web.ui.templating import Page, WorkbenchPage

router = ui_router()

Saved = Annotated[int | None, Query(ge=1, le=2**31 - 1, description="The version just saved.")]
Start = Annotated[
    str | None, Query(max_length=200, pattern=KEY_PATTERN, description="The variant to start from.")
]


@dataclass(frozen=True)
class BodyError:
    """A body the engine refused: the message, and where in the textarea (1-based)."""

    message: str
    line: int | None = None
    column: int | None = None


@dataclass(frozen=True)
class Live:
    """What readers get of a variant: its live version (``None``: offline), and where a working
    copy stands over it, what publishing would change."""

    version: int | None
    variant: Variant | None = None
    diff: Diff | None = None


def live_of(page: Page, component_id: str, key: str, current: Variant | None) -> Live | None:
    """The live side of ``current`` (the newest version), read for the variant page."""
    if current is None:
        return None
    roles = page.engine.editor.version_roles(component_id, key)
    if roles.live is None or roles.live == current.version:
        return Live(roles.live)
    live = page.engine.editor.get_variant(component_id, key, roles.live)
    return Live(roles.live, live, variant_diff(live, current))


@dataclass(frozen=True)
class Conflict:
    """Someone saved meanwhile: their stored version (none if deleted) and this edit."""

    theirs: Variant | None
    theirs_text: str
    yours_text: str
    diff: Diff


def _url(component_id: str, key: str, suffix: str = "") -> str:
    return f"/components/{component_id}/variants/{key}{suffix}"


def variant_form(
    page: Page,
    component: Component,
    draft: VariantDraft,
    *,
    current: Variant | None,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    body_error: BodyError | None = None,
    conflict: Conflict | None = None,
    notice: str | None = None,
) -> Response:
    library = page.engine.library()
    return page.render(
        "variant.html",
        status_code,
        section="library",
        component=component,
        current=current,
        live=live_of(page, component.id, current.key, current) if current else None,
        draft=draft,
        errors=errors or {},
        body_error=body_error,
        conflict=conflict,
        notice=notice,
        settings=library.settings,
    )


@router.get("/components/{component_id}/variants/{key}")
def edit(
    page: WorkbenchPage, component_id: ComponentId, key: VariantKey, saved: Saved = None
) -> Response:
    component = page.engine.editor.get_component(component_id)
    current = page.engine.editor.get_variant(component_id, key)
    notice = page._("Saved as version {n}.", n=saved) if saved else None
    draft = VariantDraft.of_variant(current)
    return variant_form(page, component, draft, current=current, notice=notice)


@router.get("/components/{component_id}/new-variant")
def new(page: WorkbenchPage, component_id: ComponentId, start: Start = None) -> Response:
    """An empty editor, or one starting from another variant's body and conditions (to
    translate it, say); the new variant records that variant and version as
    ``translated_from``, so that a later change of the source shows as drift."""
    component = page.engine.editor.get_component(component_id)
    if start is None:
        return variant_form(page, component, VariantDraft(), current=None)
    source = page.engine.editor.get_variant(component_id, start)
    draft = replace(
        VariantDraft.of_variant(source),
        key="",
        expected_version="",
        translated_from=source_text(TranslatedFrom(variant=source.key, version=source.version)),
    )
    notice = page._(
        "Starting from {key} (version {n}): its body and conditions are copied.",
        key=source.key,
        n=source.version,
    )
    return variant_form(page, component, draft, current=None, notice=notice)


@router.post("/components/{component_id}/variants")
def create(page: WorkbenchPage, form: CheckedForm, component_id: ComponentId) -> Response:
    return _save(page, component_id, VariantDraft.of_form(form, expected_version=""), None)


@router.post("/components/{component_id}/variants/{key}")
def save(
    page: WorkbenchPage, form: CheckedForm, component_id: ComponentId, key: VariantKey
) -> Response:
    draft = VariantDraft.of_form(form, key=key)
    return _save(page, component_id, draft, _current(page, component_id, key))


def _current(page: Page, component_id: str, key: str) -> Variant | None:
    try:
        return page.engine.editor.get_variant(component_id, key)
    except NotFound:
        return None


def _save(page: Page, component_id: str, draft: VariantDraft, current: Variant | None) -> Response:
    """Save the draft as a new version; on refusal, the form again with the reason."""
    component = page.engine.editor.get_component(component_id)
    variant, errors = variant_of(draft, page._)
    if variant is None:
        return variant_form(page, component, draft, current=current, status_code=422, errors=errors)
    try:
        saved = page.engine.editor.save_variant(
            component_id, variant, expected_version=draft.expected()
        )
    except LibraryFormatError as exc:
        error = BodyError(_without_location(exc), exc.line, exc.column)
        return _refused(page, component, draft, current, exc, error)
    except LibraryIntegrityError as exc:
        return _refused(page, component, draft, current, exc, BodyError(exc.message))
    except ConflictError as exc:
        return _conflict(page, component, draft, variant, exc)
    return page.redirect(_url(component_id, saved.key, f"?saved={saved.version}"))


def _refused(
    page: Page,
    component: Component,
    draft: VariantDraft,
    current: Variant | None,
    exc: ContentEngineError,
    error: BodyError,
) -> Response:
    """The form again, with the body's error next to it, at the refusal's status."""
    return variant_form(
        page, component, draft, current=current, status_code=status_of(exc), body_error=error
    )


def _without_location(exc: LibraryFormatError) -> str:
    """The message without its ``file:line:col:`` prefix (the page says where, in words)."""
    where = ":".join(str(p) for p in (exc.file, exc.line, exc.column) if p is not None)
    return exc.message.removeprefix(f"{where}: ") if where else exc.message


def _conflict(
    page: Page, component: Component, draft: VariantDraft, yours: Variant, exc: ConflictError
) -> Response:
    """Both versions side by side; the form keeps this edit, now based on theirs (at the
    conflict's status, the API's)."""
    theirs = _current(page, component.id, yours.key)
    theirs_text = variant_text(theirs)
    yours_text = variant_text(yours)
    conflict = Conflict(theirs, theirs_text, yours_text, diff_rows(theirs_text, yours_text))
    # Saving again is a decision taken with both versions in view: it is based on theirs.
    rebased = VariantDraft(
        **{**draft.to_dict(), "expected_version": str(theirs.version) if theirs else ""}
    )
    return variant_form(
        page, component, rebased, current=theirs, status_code=status_of(exc), conflict=conflict
    )


# --- workflow and history ------------------------------------------------------------------


def _version(form: Form, name: str = "version") -> int:
    text = form.get(name).strip()
    if not (text.isascii() and text.isdigit()) or int(text) > 2**31 - 1:
        raise InputError(f"{name} must be a version number, not {text!r}")
    return int(text)


@router.post("/components/{component_id}/variants/{key}/status")
def set_status(
    page: WorkbenchPage, form: CheckedForm, component_id: ComponentId, key: VariantKey
) -> Response:
    """draft → review → published (or back): a new version with the new status."""
    status = form.get("status")
    if status not in STATUSES:
        raise InputError(f"unknown status {status!r}; known: {', '.join(STATUSES)}")
    editor = page.engine.editor
    return _written(
        page,
        component_id,
        key,
        lambda: editor.set_status(component_id, key, status, expected_version=_version(form)),
    )


@router.post("/components/{component_id}/variants/{key}/sync")
def mark_in_sync(
    page: WorkbenchPage, form: CheckedForm, component_id: ComponentId, key: VariantKey
) -> Response:
    """The translation is in sync with its source's live version: a change that needed no
    new translation (CONTRACT 10). Conflict-checked like every write."""
    translations = page.engine.translations
    return _written(
        page,
        component_id,
        key,
        lambda: translations.mark_in_sync(component_id, key, expected_version=_version(form)),
    )


@router.post("/components/{component_id}/variants/{key}/unpublish")
def unpublish(
    page: WorkbenchPage, form: CheckedForm, component_id: ComponentId, key: VariantKey
) -> Response:
    """Take the variant offline (a new archived version); a working copy stays as it is."""
    editor = page.engine.editor
    return _written(
        page,
        component_id,
        key,
        lambda: editor.unpublish(component_id, key, expected_version=_version(form)),
    )


@router.post("/components/{component_id}/variants/{key}/rollback")
def rollback(
    page: WorkbenchPage, form: CheckedForm, component_id: ComponentId, key: VariantKey
) -> Response:
    """Make an earlier version current again, as a new version."""
    editor = page.engine.editor
    to_version = _version(form, "to_version")
    return _written(
        page,
        component_id,
        key,
        lambda: editor.rollback_variant(
            component_id, key, to_version, expected_version=_version(form)
        ),
    )


def _written(page: Page, component_id: str, key: str, write: Callable[[], Variant]) -> Response:
    """Run one conflict-checked write of the variant: to its page on success, to the stale
    page (what was saved meanwhile) on a conflict."""
    try:
        saved = write()
    except ConflictError as exc:
        return _stale(page, component_id, key, exc)
    return page.redirect(_url(component_id, key, f"?saved={saved.version}"))


def _stale(page: Page, component_id: str, key: str, exc: ConflictError) -> Response:
    component = page.engine.editor.get_component(component_id)
    current = page.engine.editor.get_variant(component_id, key)
    notice = page._(
        "Not done: someone saved version {n} meanwhile. Here it is; decide again.",
        n=current.version,
    )
    draft = VariantDraft.of_variant(current)
    return variant_form(
        page, component, draft, current=current, status_code=status_of(exc), notice=notice
    )


@router.get("/components/{component_id}/variants/{key}/history")
def history(page: WorkbenchPage, component_id: ComponentId, key: VariantKey) -> Response:
    """Every version, newest first, each with what changed since the one before."""
    versions = page.engine.editor.variant_history(component_id, key)
    current = _current(page, component_id, key)
    # Newest first, so the page's budget of line-by-line diffing goes to the recent changes.
    budget = DiffBudget()
    entries: list[dict[str, Any]] = []
    for index in range(len(versions) - 1, -1, -1):
        variant, previous = versions[index], versions[index - 1] if index else None
        diff = variant_diff(previous, variant, budget)
        entries.append({"variant": variant, "before": previous, "diff": diff})
    return page.render(
        "history.html",
        section="library",
        component=page.engine.editor.get_component(component_id),
        key=key,
        current=current,
        roles=page.engine.editor.version_roles(component_id, key),
        entries=entries,
    )
