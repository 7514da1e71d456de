"""API routes that read and change the library: components, variants, publications, history,
publish, unpublish, rollback, lint, coverage (the editor role).

Every write names the version it is based on: ``If-Match: "<version>"`` to change,
``If-None-Match: *`` to create. A stale version gets 412 and nothing is written.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import JSONResponse

from content_engine.core.errors import NotFound
from content_engine.core.models import Component, Variant
from content_engine.core.search import find_components
from content_engine.engine import VariantImpact, variant_impact
from content_engine.web.auth import EditorKey
from content_engine.web.bodies import CheckedRoute
from content_engine.web.dependencies import EngineDep
from content_engine.web.errors import ApiError
from content_engine.web.schemas import (
    ComponentId,
    ComponentIn,
    ComponentOut,
    PublicationId,
    PublicationIn,
    RollbackIn,
    VariantCurrent,
    VariantIn,
    VariantKey,
    VariantOut,
    VariantSaved,
    VariantVersion,
)

router = APIRouter(tags=["editors"], route_class=CheckedRoute)

IfMatch = Annotated[str | None, Header(description='The version edited: "3".')]
IfNoneMatch = Annotated[str | None, Header(description="* to create.")]
NO_STORE = {"Cache-Control": "private, no-store"}


def expected_version(
    if_match: str | None, if_none_match: str | None, *, create: bool
) -> int | None:
    """The version a write is based on; ``None`` for a create. 428 if the client named none."""
    if if_none_match is not None and if_none_match.strip() == "*" and create:
        return None
    if if_match is None:
        hint = 'If-Match: "<version>" to change, or If-None-Match: * to create'
        raise ApiError(
            428,
            "precondition_required",
            f"a write needs {hint}"
            if create
            else 'a write needs If-Match: "<version>" with the version you edited',
        )
    value = if_match.strip().removeprefix("W/").strip('"')
    # isdigit() alone lets "²" through (a Latin-1 header byte), which int() then refuses.
    if not (value.isascii() and value.isdigit()):
        raise ApiError(400, "bad_if_match", f"If-Match must be a version number, not {if_match!r}")
    return int(value)


def edited_version(if_match: str | None) -> int:
    """The version a change (not a create) is based on: ``If-Match`` is required."""
    expected = expected_version(if_match, None, create=False)
    assert expected is not None  # create=False never yields None
    return expected


def versioned(data: dict[str, Any], version: int, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers={"ETag": f'"{version}"', **NO_STORE})


# --- components ----------------------------------------------------------------------------


@router.get("/v1/components", response_model=list[ComponentOut])
def list_components(
    engine: EngineDep,
    principal: EditorKey,
    type: Annotated[str | None, Query(max_length=100)] = None,
    tag: Annotated[str | None, Query(max_length=100)] = None,
    q: Annotated[str | None, Query(max_length=200, description="Text in id or title.")] = None,
) -> JSONResponse:
    """Current components, filtered by type, tag and text in id or title."""
    components = find_components(engine.library().components.values(), q or "", type=type, tag=tag)
    found = [ComponentOut.of(c).model_dump(mode="json") for c in components]
    return JSONResponse(found, headers=NO_STORE)


@router.get("/v1/components/{component_id}", response_model=ComponentOut)
def get_component(
    engine: EngineDep, principal: EditorKey, component_id: ComponentId
) -> JSONResponse:
    component = engine.editor.get_component(component_id)
    return versioned(ComponentOut.of(component).model_dump(mode="json"), component.version)


@router.put("/v1/components/{component_id}", response_model=ComponentOut)
def put_component(
    engine: EngineDep,
    principal: EditorKey,
    component_id: ComponentId,
    body: ComponentIn,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> JSONResponse:
    """Create (``If-None-Match: *``) or change a component's type, title, tags and folder."""
    expected = expected_version(if_match, if_none_match, create=True)
    component = Component(id=component_id, **body.model_dump())
    saved = engine.editor.save_component(component, expected_version=expected)
    status = 201 if expected is None else 200
    return versioned(ComponentOut.of(saved).model_dump(mode="json"), saved.version, status)


@router.delete("/v1/components/{component_id}", response_model=ComponentOut)
def delete_component(
    engine: EngineDep, principal: EditorKey, component_id: ComponentId, if_match: IfMatch = None
) -> JSONResponse:
    """Archive a component (its history is kept); refused while others include it."""
    expected = edited_version(if_match)
    archived = engine.editor.archive_component(component_id, expected_version=expected)
    return versioned(ComponentOut.of(archived).model_dump(mode="json"), archived.version)


# --- variants ------------------------------------------------------------------------------


@router.get("/v1/components/{component_id}/variants/{key}", response_model=VariantCurrent)
def get_variant(
    engine: EngineDep, principal: EditorKey, component_id: ComponentId, key: VariantKey
) -> JSONResponse:
    """The newest version (a working copy when draft or in review) and ``live_version``, the
    one readers get."""
    variant, live = engine.editor.variant_with_live(component_id, key)
    return _current(component_id, variant, live)


def _current(component_id: str, variant: Variant, live: int | None) -> JSONResponse:
    out = VariantCurrent.of(component_id, variant, live_version=live)
    return versioned(out.model_dump(mode="json"), variant.version)


@router.put("/v1/components/{component_id}/variants/{key}", response_model=VariantSaved)
def put_variant(
    engine: EngineDep,
    principal: EditorKey,
    component_id: ComponentId,
    key: VariantKey,
    body: VariantIn,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> JSONResponse:
    """Create or change a variant; the body is checked as on import (422 with line, column).

    The body is stored sanitised to the allow-list; ``removed`` says what was taken out.
    """
    expected = expected_version(if_match, if_none_match, create=True)
    saved = engine.editor.write_variant(
        component_id, body.to_variant(key), expected_version=expected
    )
    out = VariantSaved.of(component_id, saved.variant, removed=saved.removed)
    status = 201 if expected is None else 200
    return versioned(out.model_dump(mode="json"), saved.variant.version, status)


@router.delete("/v1/components/{component_id}/variants/{key}", status_code=204)
def delete_variant(
    engine: EngineDep,
    principal: EditorKey,
    component_id: ComponentId,
    key: VariantKey,
    if_match: IfMatch = None,
) -> Response:
    expected = edited_version(if_match)
    engine.editor.delete_variant(component_id, key, expected_version=expected)
    return Response(status_code=204)


@router.get(
    "/v1/components/{component_id}/variants/{key}/versions", response_model=list[VariantVersion]
)
def variant_versions(
    engine: EngineDep, principal: EditorKey, component_id: ComponentId, key: VariantKey
) -> JSONResponse:
    """Every version of the variant, oldest first, the live one and the working copy marked."""
    history = engine.editor.variant_history(component_id, key)
    if not history:
        raise NotFound(f"unknown variant {component_id}/{key}")
    roles = engine.editor.version_roles(component_id, key)
    data = [
        VariantVersion.of(
            component_id, v, live=v.version == roles.live, working=v.version == roles.working
        ).model_dump(mode="json")
        for v in history
    ]
    return JSONResponse(data, headers=NO_STORE)


@router.post("/v1/components/{component_id}/variants/{key}/publish", response_model=VariantOut)
def publish(
    engine: EngineDep,
    principal: EditorKey,
    component_id: ComponentId,
    key: VariantKey,
    if_match: IfMatch = None,
) -> JSONResponse:
    """Publish the version named by ``If-Match`` (as a new version with status published)."""
    expected = edited_version(if_match)
    saved = engine.editor.set_status(component_id, key, "published", expected_version=expected)
    return versioned(VariantOut.of(component_id, saved).model_dump(mode="json"), saved.version)


@router.get("/v1/components/{component_id}/variants/{key}/impact", response_model=VariantImpact)
def impact(
    engine: EngineDep, principal: EditorKey, component_id: ComponentId, key: VariantKey
) -> JSONResponse:
    """What publishing the variant's working copy would change: the publications that reach
    the component, the coverage cells (locale × role × region group) whose variant moves, and
    how many readers get other content; ``capped`` when not every reader was asked."""
    found = variant_impact(engine, component_id, key)
    return JSONResponse(found.model_dump(mode="json"), headers=NO_STORE)


@router.post(
    "/v1/components/{component_id}/variants/{key}/unpublish", response_model=VariantCurrent
)
def unpublish(
    engine: EngineDep,
    principal: EditorKey,
    component_id: ComponentId,
    key: VariantKey,
    if_match: IfMatch = None,
) -> JSONResponse:
    """Take the variant offline: a new ``archived`` version of the live one; readers fall to
    other variants. A working copy stays the newest version; where nothing is live, nothing
    is written."""
    expected = edited_version(if_match)
    newest = engine.editor.unpublish(component_id, key, expected_version=expected)
    return _current(component_id, newest, None)


@router.post("/v1/components/{component_id}/variants/{key}/rollback", response_model=VariantOut)
def rollback(
    engine: EngineDep,
    principal: EditorKey,
    component_id: ComponentId,
    key: VariantKey,
    body: RollbackIn,
    if_match: IfMatch = None,
) -> JSONResponse:
    """Make an earlier version current again, as a new version."""
    expected = edited_version(if_match)
    saved = engine.editor.rollback_variant(
        component_id, key, body.version, expected_version=expected
    )
    return versioned(VariantOut.of(component_id, saved).model_dump(mode="json"), saved.version)


# --- publications, lint, coverage ----------------------------------------------------------


@router.get("/v1/publications")
def list_publications(engine: EngineDep, principal: EditorKey) -> JSONResponse:
    publications = engine.library().publications
    data = [p.model_dump(mode="json") for _, p in sorted(publications.items())]
    return JSONResponse(data, headers=NO_STORE)


@router.get("/v1/publications/{publication_id}")
def get_publication(
    engine: EngineDep, principal: EditorKey, publication_id: PublicationId
) -> JSONResponse:
    publication = engine.editor.get_publication(publication_id)
    return versioned(publication.model_dump(mode="json"), publication.version)


@router.put("/v1/publications/{publication_id}")
def put_publication(
    engine: EngineDep,
    principal: EditorKey,
    publication_id: PublicationId,
    body: PublicationIn,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> JSONResponse:
    expected = expected_version(if_match, if_none_match, create=True)
    saved = engine.editor.save_publication(
        body.to_publication(publication_id), expected_version=expected
    )
    status = 201 if expected is None else 200
    return versioned(saved.model_dump(mode="json"), saved.version, status)


@router.get("/v1/lint")
def lint(engine: EngineDep, principal: EditorKey) -> JSONResponse:
    """Problems in the library, as ``content-engine lint`` reports them."""
    problems = engine.lint()
    data = [p.model_dump(exclude_none=True) for p in problems]
    return JSONResponse({"problems": data, "errors": sum(p.severity == "error" for p in problems)})


@router.get("/v1/coverage/{publication_id}")
def coverage(
    engine: EngineDep, principal: EditorKey, publication_id: PublicationId
) -> JSONResponse:
    report = engine.coverage(publication_id)
    return JSONResponse(report.model_dump(mode="json"), headers=NO_STORE)
