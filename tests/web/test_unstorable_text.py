"""Text the databases cannot store is a 422 at the edge, on SQLite and PostgreSQL alike.

Lone surrogates (``"x\\ud800y"`` is valid JSON), NUL at any depth (a NUL 65 levels down once
passed the check and crashed PostgreSQL), NaN, and nesting past any limit, planted by hypothesis
in customer data, products, segments, tags, titles, bodies, keys and query parameters. Nothing
is stored, and the server goes on serving.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from content_engine.core.storable import MAX_DEPTH
from tests.support.apps import Api

BAD = ["\x00", "\ud800", "\udbff", "\udc00", "\udfff"]
CREATE = {"If-None-Match": "*"}
NEW_COMPONENT = "/v1/components/unstorable.probe"
NEW_VARIANT = "/v1/components/snippet.hotline/variants/probe"
NEW_PUBLICATION = "/v1/publications/unstorable.probe"
FIXTURE_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def nest(value: Any, levels: int) -> Any:
    for i in range(levels):
        value = {"k": value} if i % 2 else [value]
    return value


@st.composite
def poisoned_text(draw: st.DrawFn) -> str:
    text = draw(st.text(max_size=8))
    cut = draw(st.integers(0, len(text)))
    return text[:cut] + draw(st.sampled_from(BAD)) + text[cut:]


@st.composite
def poisoned_data(draw: st.DrawFn) -> dict[str, Any]:
    """A customer (or product) object with a bad text at some depth, in a value or a key."""
    bad = draw(poisoned_text())
    inner: Any = bad if draw(st.booleans()) else {bad: "value"}
    return {"name": "Anna", "x": nest(inner, draw(st.integers(0, MAX_DEPTH + 20)))}


def render(field: str) -> Callable[[Any], tuple[str, str, dict[str, Any]]]:
    def build(value: Any) -> tuple[str, str, dict[str, Any]]:
        body = {"publication": "manual.hp200", "context": {"locale": "de", field: value}}
        return "POST", "/v1/render", body

    return build


def blocks(value: Any) -> tuple[str, str, dict[str, Any]]:
    body = {"context": {"locale": "de", "customer": value}, "components": ["snippet.hotline"]}
    return "POST", "/v1/blocks", body


def send(api: Api, method: str, url: str, body: Any, role: str = "reader") -> Any:
    headers = {**api.auth(role), "Content-Type": "application/json"}
    if method == "PUT":
        headers |= CREATE
    # json.dumps writes a lone surrogate as the escape \ud800, as a hostile client would.
    text = body if isinstance(body, str) else json.dumps(body)
    return api.client.request(method, url, content=text.encode(), headers=headers)


def assert_refused(response: Any) -> None:
    assert response.status_code == 422, (response.status_code, response.text[:500])
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details", "request_id"}
    assert any(word in error["message"] for word in ("NUL", "surrogate", "deeper")), error
    assert len(response.content) < 20_000


@FIXTURE_SETTINGS
@given(data=poisoned_data(), where=st.sampled_from(["customer", "product", "blocks"]))
def test_reader_data_with_unstorable_text_is_a_422(api: Api, data: Any, where: str) -> None:
    method, url, body = blocks(data) if where == "blocks" else render(where)(data)
    assert_refused(send(api, method, url, body))


@FIXTURE_SETTINGS
@given(text=poisoned_text(), where=st.sampled_from(["segments", "role", "region", "locale"]))
def test_reader_names_with_unstorable_text_are_a_422(api: Api, text: str, where: str) -> None:
    value: Any = [text] if where == "segments" else text
    body = {"publication": "manual.hp200", "context": {"locale": "de", where: value}}
    response = send(api, "POST", "/v1/render", body)
    assert response.status_code == 422, (response.status_code, response.text[:500])


EDITOR_WRITES: dict[str, Callable[[str], tuple[str, dict[str, Any]]]] = {
    "component tag": lambda t: (NEW_COMPONENT, {"type": "snippet", "tags": ["ok", t]}),
    "component title": lambda t: (NEW_COMPONENT, {"type": "snippet", "title": t}),
    "component type": lambda t: (NEW_COMPONENT, {"type": t}),
    "variant body": lambda t: (NEW_VARIANT, {"body": f"<p>{t}</p>"}),
    "variant segments": lambda t: (NEW_VARIANT, {"body": "<p/>", "conditions": {"segments": [t]}}),
    "publication title": lambda t: (NEW_PUBLICATION, {"title": t}),
    "publication titles key": lambda t: (NEW_PUBLICATION, {"title": "x", "titles": {t: "y"}}),
    "slot title": lambda t: (
        NEW_PUBLICATION,
        {"title": "x", "slots": [{"component": "snippet.hotline", "title": t}]},
    ),
}


@FIXTURE_SETTINGS
@given(text=poisoned_text(), write=st.sampled_from(sorted(EDITOR_WRITES)))
def test_editor_writes_with_unstorable_text_are_a_422(api: Api, text: str, write: str) -> None:
    url, body = EDITOR_WRITES[write](text)
    response = send(api, "PUT", url, body, role="editor")
    assert response.status_code == 422, (write, response.status_code, response.text[:500])
    for created in (NEW_COMPONENT, NEW_VARIANT, NEW_PUBLICATION):
        assert api.client.get(created, headers=api.auth("editor")).status_code == 404


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 500, 5_000, 100_000])
@pytest.mark.parametrize("opener", ["[", '{"a": '])
def test_deep_bodies_are_a_422_with_a_nul_at_the_bottom(api: Api, levels: int, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    customer = '{"deep": ' + opener * levels + '"\\u0000"' + closer * levels + "}"
    body = '{"publication": "manual.hp200", "context": {"locale": "de", "customer": %s}}'
    response = send(api, "POST", "/v1/render", body % customer)
    assert_refused(response)
    assert f"deeper than {MAX_DEPTH}" in response.json()["error"]["message"]
    assert api.client.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        '{"publication": "manual.hp200", "context": {"locale": "de", "customer": {"x": NaN}}}',
        '{"publication": "manual.hp200", "context": {"locale": "de", "customer": [Infinity]}}',
    ],
)
def test_numbers_json_has_not_are_a_422(api: Api, body: str) -> None:
    response = send(api, "POST", "/v1/render", body)
    assert response.status_code == 422, response.text
    assert "not a number" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "query",
    [
        "locale=de&region=A%00T",
        "locale=de%00",
        "locale=de&segment=resi%00dential",
        "locale=de&role=%00",
        "locale=de&at=2026-01-01%00",
    ],
)
def test_query_parameters_with_nul_are_a_422(api: Api, query: str) -> None:
    for url in ("/v1/blocks/snippet.hotline", "/v1/explain/snippet.hotline"):
        response = api.client.get(f"{url}?{query}", headers=api.auth("agent"))
        assert response.status_code == 422, (url, query, response.text)
        assert response.json()["error"]["message"]


def test_real_text_at_the_depth_limit_is_stored_and_read_back(api: Api) -> None:
    """The check refuses only what the store cannot keep: this must pass on both databases."""
    customer = {"name": "Zoë Łukasz 山田 \U0001f600", "line": "a\u2028b", "x": nest("ok", 60)}
    body = {"publication": "manual.hp200", "context": {"locale": "de", "customer": customer}}
    response = send(api, "POST", "/v1/render", body)
    assert response.status_code == 200, response.text
    receipt = api.client.get(
        f"/v1/renders/{response.headers['x-render-id']}", headers=api.auth("agent")
    )
    assert receipt.json()["context"]["customer"] == customer
    url, tags = NEW_COMPONENT, {"type": "snippet", "tags": ["Ünïcödé", "\U0001f600"]}
    created = send(api, "PUT", url, tags, role="editor")
    assert created.status_code == 201, created.text
    assert created.json()["tags"] == ["Ünïcödé", "\U0001f600"]
