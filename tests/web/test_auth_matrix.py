"""Every route refuses callers without a valid key (401) and callers below its role (403).

The routes are read from the app and each one's role from its dependencies, so a new route or
a changed role is covered without editing a table here; ``test_roles_follow_the_contract``
then holds the derived roles against CONTRACT section 6.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import fastapi.routing
import httpx2
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from content_engine.settings import Settings
from content_engine.web import create_app
from content_engine.web.auth import ROLES, authenticate, require
from content_engine.web.feedback_api import FeedbackIn
from content_engine.web.schemas import (
    BlocksIn,
    ComponentIn,
    PublicationIn,
    PurgeIn,
    RenderIn,
    RollbackIn,
    VariantIn,
)
from tests.support.apps import Api
from tests.web.test_touchpoints import assert_error

# Served by FastAPI itself (not APIRoutes) or public on purpose.
SKIPPED = {
    "/docs",
    "/docs/oauth2-redirect",
    "/openapi.json",
    "/redoc",
    "/healthz",
    "/readyz",  # a load balancer's probe
    "/assets/{hash}/{path}",  # assets for web pages: browsers fetch them without a key
}

# Every closure ``require(role)`` returns shares one code object; ``role`` is its free variable.
_CHECK_CODE = require("reader").dependency.__code__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    role: str | None  # None: no key needed
    path_params: tuple[str, ...]
    query_params: tuple[str, ...]
    header_params: tuple[str, ...]
    body: type | None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def required_role(dependant: Dependant) -> str | None:
    """The lowest role a route lets in, read from its dependency tree; ``None`` if public."""
    roles = [
        inspect.getclosurevars(call).nonlocals["role"]
        for call in _calls(dependant)
        if getattr(call, "__code__", None) is _CHECK_CODE
    ]
    if roles:
        return max(roles, key=ROLES.index)
    if any(call is authenticate for call in _calls(dependant)):
        return ROLES[0]
    return None


def endpoints(app: FastAPI) -> list[Endpoint]:
    """Every (method, path) the app routes to an APIRoute, with its effective dependencies.

    Since FastAPI 0.137 ``app.routes`` holds an opaque ``_IncludedRouter`` per included router
    instead of its routes; ``iter_route_contexts`` resolves them (with prefix and app-level
    dependencies). Older releases list the APIRoutes themselves.
    """
    iterate = getattr(fastapi.routing, "iter_route_contexts", None)
    found = []
    for context in iterate(app.routes) if iterate else app.routes:
        if not isinstance(getattr(context, "original_route", context), APIRoute):
            continue
        # The workbench's pages (web/ui) are not the API: they sign in with a session cookie,
        # and tests/web/ui/test_session.py holds every one of them to it.
        if not context.include_in_schema:
            continue
        dependant: Dependant = context.dependant
        body = context.body_field.field_info.annotation if context.body_field else None
        for method in sorted(context.methods):
            found.append(
                Endpoint(
                    method=method,
                    path=re.sub(r":\w+}", "}", context.path),  # as OpenAPI names it
                    role=required_role(dependant),
                    path_params=tuple(p.name for p in dependant.path_params),
                    query_params=tuple(p.alias for p in dependant.query_params),
                    header_params=tuple(p.alias.lower() for p in dependant.header_params),
                    body=body,
                )
            )
    return found


# Building the app opens nothing: the database is only touched in its lifespan.
ALL = endpoints(create_app(Settings(db_url="sqlite://")))
GUARDED = [e for e in ALL if e.path not in SKIPPED]

# Plausible inputs, from the sample library. A route with a new parameter or body model makes
# ``build`` fail with a KeyError naming it: add a value here.
PATH_VALUES = {
    "component": "snippet.hotline",
    "component_id": "snippet.hotline",
    "key": "default",
    "publication_id": "service.sheet",
    "path": "hp200.svg",
}
QUERY_VALUES = {"locale": "en"}
BODIES: dict[type, dict[str, Any]] = {
    BlocksIn: {"context": {"locale": "en"}, "components": ["snippet.hotline"]},
    RenderIn: {"publication": "service.sheet", "context": {"locale": "en"}},
    ComponentIn: {"type": "snippet", "title": "Hotline", "folder": "snippets"},
    VariantIn: {"body": "<p>Call us.</p>", "status": "published"},
    RollbackIn: {"version": 1},
    PublicationIn: {"title": "Service sheet"},
    PurgeIn: {"customer": "C-0", "dry_run": True},
}


# Codes that would mean ``build`` made an implausible request rather than the route refusing it.
MALFORMED = {"invalid_request", "unknown_parameter", "precondition_required", "bad_if_match"}


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    params: dict[str, str]
    headers: dict[str, str]
    json: dict[str, Any] | None

    def send(self, api: Api, auth: dict[str, str]) -> httpx2.Response:
        return api.client.request(
            self.method,
            self.url,
            params=self.params,
            headers={**self.headers, **auth},
            json=self.json,
        )


def render_id(api: Api) -> str:
    response = api.client.post("/v1/render", json=BODIES[RenderIn], headers=api.auth("reader"))
    assert response.status_code == 200, response.text
    return response.headers["x-render-id"]


def build(api: Api, endpoint: Endpoint) -> Call:
    values = dict(PATH_VALUES)
    if "render_id" in endpoint.path_params:
        values["render_id"] = render_id(api)
    url = endpoint.path.format(**{name: values[name] for name in endpoint.path_params})
    params = {name: QUERY_VALUES[name] for name in endpoint.query_params if name in QUERY_VALUES}
    # Writes name the version they edit; the sample library's are all at version 1.
    headers = {"If-Match": '"1"'} if "if-match" in endpoint.header_params else {}
    body = BODIES[endpoint.body] if endpoint.body not in (None, FeedbackIn) else None
    if endpoint.body is FeedbackIn:  # a token of a block really sent, not a made-up one
        shown = api.client.get(
            "/v1/blocks/snippet.hotline", params={"locale": "en"}, headers=api.auth("reader")
        )
        body = {"token": shown.headers["X-Feedback-Token"], "metric": "nps", "score": 9}
    return Call(endpoint.method, url, params, headers, body)


def bad_credentials(api: Api) -> dict[str, dict[str, str]]:
    """Headers that must all get 401, whatever the route."""
    admin = api.keys["admin"]
    revoked_info, revoked = api.engine.repository.create_key("admin", "revoked admin")
    api.engine.repository.revoke_key(revoked_info.id)
    # Same id and length as a real key, one character of the secret changed.
    forged = admin[:-1] + ("A" if admin[-1] != "A" else "B")
    return {
        "no key": {},
        "empty bearer": {"Authorization": "Bearer "},
        "other scheme": {"Authorization": f"Basic {admin}"},
        "unknown key": {"Authorization": "Bearer ce_nothing_here"},
        "forged secret": {"Authorization": f"Bearer {forged}"},
        "revoked key": {"Authorization": f"Bearer {revoked}"},
    }


def secrets_of(api: Api) -> list[str]:
    """Every key the tests used, and the secret part of each (``ce_<id>_<secret>``)."""
    keys = list(api.keys.values())
    return keys + [key.split("_", 2)[2] for key in keys]


def test_routes_are_found_and_match_the_openapi_schema() -> None:
    """Guards the enumeration itself: an empty or partial list would make the matrix vacuous."""
    app = create_app(Settings(db_url="sqlite://"))
    documented = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    assert {(e.method, e.path) for e in ALL} == documented
    assert len(GUARDED) >= 20
    assert len({(e.method, e.path) for e in GUARDED}) == len(GUARDED)


def test_only_the_health_checks_are_public() -> None:
    public = [str(e) for e in ALL if e.role is None]
    assert public == ["GET /healthz", "GET /readyz", "GET /assets/{hash}/{path}"]
    assert all(e.role in ROLES for e in GUARDED)


def contract_role(endpoint: Endpoint) -> str:
    """CONTRACT section 6 in words: reader (published blocks and renders), agent (reader +
    receipts), editor (drafts, preview, writes, publish; the editors' routes), admin (purging
    receipts' personal data: an operator's act, for every customer at once); the metrics say
    how the server is used: admin, unless the deployment makes them public."""
    if endpoint.path == "/metrics":
        return "admin"
    editors = ("/v1/components", "/v1/publications", "/v1/lint", "/v1/coverage", "/v1/assets")
    editors += ("/v1/xliff", "/v1/translations")  # CONTRACT 10: translation exchange
    if endpoint.path == "/v1/receipts/purge":
        return "admin"
    # CONTRACT 9: readers answer feedback; the report over every reader's answers is editors'.
    if endpoint.path.startswith(editors) or endpoint.path == "/v1/feedback/report":
        return "editor"
    # The selection trace names every variant, its conditions and drafts' keys: not for readers.
    if endpoint.path.startswith(("/v1/renders/", "/v1/explain/")):
        return "agent"
    return "reader"


def test_roles_follow_the_contract() -> None:
    derived = {str(e): e.role for e in GUARDED}
    assert derived == {str(e): contract_role(e) for e in GUARDED}


@pytest.mark.parametrize("endpoint", GUARDED, ids=str)
def test_route_refuses_missing_bad_and_lesser_keys(
    api: Api, endpoint: Endpoint, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert endpoint.role is not None
    call = build(api, endpoint)
    revision = api.engine.repository.revision()

    for what, headers in bad_credentials(api).items():
        response = call.send(api, headers)
        assert response.status_code == 401, f"{what}: {response.text}"
        assert_error(response, 401, "unauthorized")
        assert response.headers["www-authenticate"] == "Bearer"

    lesser = ROLES[: ROLES.index(endpoint.role)]
    for role in lesser:
        error = assert_error(call.send(api, api.auth(role)), 403, "forbidden")
        assert error["details"] == {"required": endpoint.role, "role": role}
    assert api.engine.repository.revision() == revision, "a refused request changed the library"

    # The control: the same request with the route's own role gets past the checks, and is
    # well-formed (a domain refusal such as "still included" is fine).
    allowed = call.send(api, api.auth(endpoint.role))
    assert allowed.status_code not in (401, 403), allowed.text
    if allowed.status_code >= 400:
        assert allowed.json()["error"]["code"] not in MALFORMED, allowed.text

    assert caplog.records, "nothing was logged: is the capture at DEBUG working?"
    for secret in secrets_of(api):
        assert secret not in caplog.text


def test_receipt_names_the_key_but_never_holds_it(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    rendered = api.client.post(
        "/v1/render",
        json={"publication": "service.sheet", "context": {"locale": "de", "region": "AT"}},
        headers=api.auth("reader"),
    )
    assert rendered.status_code == 200, rendered.text
    receipt = api.client.get(
        f"/v1/renders/{rendered.headers['x-render-id']}", headers=api.auth("agent")
    )
    assert receipt.status_code == 200
    # Whose render it was is recorded by the key's public id, not by the key.
    key_id = re.fullmatch(r"ce_([0-9a-f]+)_.+", api.keys["reader"])
    assert key_id is not None
    assert receipt.json()["key_id"] == key_id.group(1)
    for secret in secrets_of(api):
        assert secret not in receipt.text
        assert secret not in caplog.text


RECEIPT_ROUTES = [e for e in GUARDED if "render_id" in e.path_params]


def preview_receipt(api: Api) -> tuple[str, bytes]:
    """An editor's preview render that shows a draft, and its HTML."""
    draft = {
        "body": "<p>Draft terms, not for readers</p>",
        "status": "draft",
        "priority": 1000,
        "conditions": {"locale": "en"},
    }
    saved = api.client.put(
        "/v1/components/legal.privacy/variants/draft-terms",
        json=draft,
        headers={**api.auth("editor"), "If-None-Match": "*"},
    )
    assert saved.status_code in (200, 201), saved.text
    body = {**BODIES[RenderIn], "preview": True}
    rendered = api.client.post("/v1/render", json=body, headers=api.auth("editor"))
    assert rendered.status_code == 200, rendered.text
    assert b"Draft terms" in rendered.content
    return rendered.headers["x-render-id"], rendered.content


def test_every_receipt_route_is_in_the_receipt_checks() -> None:
    assert {str(e) for e in RECEIPT_ROUTES} == {
        "GET /v1/renders/{render_id}",
        "POST /v1/renders/{render_id}/replay",
    }


@pytest.mark.parametrize("endpoint", RECEIPT_ROUTES, ids=str)
def test_a_preview_receipt_needs_the_editor_role(api: Api, endpoint: Endpoint) -> None:
    """A receipt of a preview pins drafts: reading or replaying it is previewing (class 6)."""
    preview_id, html = preview_receipt(api)
    url = endpoint.path.format(render_id=preview_id)
    own_preview = api.client.post(
        "/v1/render", json={**BODIES[RenderIn], "preview": True}, headers=api.auth("agent")
    )
    assert_error(own_preview, 403, "forbidden")
    # The reader is refused by the route (agent); the agent by the receipt (editor).
    for role, required in (("reader", "agent"), ("agent", "editor")):
        response = api.client.request(endpoint.method, url, headers=api.auth(role))
        error = assert_error(response, 403, "forbidden")
        assert error["details"] == {"required": required, "role": role}
        assert b"Draft terms" not in response.content
    for role in ("editor", "admin"):
        response = api.client.request(endpoint.method, url, headers=api.auth(role))
        assert response.status_code == 200, response.text
        if endpoint.method == "POST":
            assert response.content == html, "the replay is the preview, byte for byte"
        else:
            assert response.json()["preview"] is True
    # A receipt of a published render stays the agent's.
    published = endpoint.path.format(render_id=render_id(api))
    response = api.client.request(endpoint.method, published, headers=api.auth("agent"))
    assert response.status_code == 200, response.text
    assert b"Draft terms" not in response.content
