"""Bad requests from the open web (issue 5): each is a 4xx in the error shape, never a 500,
and the server keeps serving."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.apps import Api

RENDER = "/v1/render"
BLOCK = "/v1/blocks/product.hp200.overview"


def deep(n: int) -> str:
    """JSON nested ``n`` objects deep (built as text: ``json.dumps`` would recurse)."""
    return '{"a": ' * n + '"x"' + "}" * n


JSON_BODIES: list[tuple[str, bytes]] = [
    ("truncated", b'{"publication": "manual.hp200", "context": {"locale": "de"'),
    ("not json", b"publication=manual.hp200"),
    ("array", b"[1, 2, 3]"),
    ("null", b"null"),
    ("number", b"42"),
    ("wrong types", json.dumps({"publication": 7, "context": "de"}).encode()),
    (
        "unknown key",
        json.dumps({"publication": "manual.hp200", "context": {"locale": "de"}, "x": 1}).encode(),
    ),
    (
        "unknown context key",
        json.dumps(
            {"publication": "manual.hp200", "context": {"locale": "de", "shoe": 1}}
        ).encode(),
    ),
    (
        "segments as number",
        json.dumps(
            {"publication": "manual.hp200", "context": {"locale": "de", "segments": 3}}
        ).encode(),
    ),
    (
        "absurd locale",
        json.dumps({"publication": "manual.hp200", "context": {"locale": "xx-ZZZZ"}}).encode(),
    ),
    (
        "10 kB locale",
        json.dumps(
            {"publication": "manual.hp200", "context": {"locale": "de-" + "a" * 10_000}}
        ).encode(),
    ),
    (
        "bad time",
        json.dumps(
            {"publication": "manual.hp200", "context": {"locale": "de", "at": "yesterday"}}
        ).encode(),
    ),
    (
        "year 10000",
        json.dumps(
            {
                "publication": "manual.hp200",
                "context": {"locale": "de", "at": "9999-12-31T23:59:59-05:00"},
            }
        ).encode(),
    ),
    (
        "deep customer",
        json.dumps(
            {"publication": "manual.hp200", "context": {"locale": "de", "customer": deep(5_000)}}
        ).encode(),
    ),
    (
        "unknown publication",
        json.dumps({"publication": "nope", "context": {"locale": "de"}}).encode(),
    ),
    (
        "bad publication id",
        json.dumps({"publication": "../../etc", "context": {"locale": "de"}}).encode(),
    ),
    (
        "unknown format",
        json.dumps(
            {"publication": "manual.hp200", "context": {"locale": "de"}, "format": "docx"}
        ).encode(),
    ),
    ("invalid utf-8", b'{"publication": "manual.hp200", "context": {"locale": "\xff\xfe"}}'),
    (
        "NUL",
        json.dumps({"publication": "manual.hp200", "context": {"locale": "de\u0000"}}).encode(),
    ),
]


@pytest.mark.parametrize(("name", "body"), JSON_BODIES, ids=[n for n, _ in JSON_BODIES])
def test_bad_render_bodies(api: Api, name: str, body: bytes) -> None:
    response = api.client.post(
        RENDER, content=body, headers={**api.auth("reader"), "Content-Type": "application/json"}
    )
    assert 400 <= response.status_code < 500, (name, response.status_code, response.text[:300])
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details", "request_id"}
    assert len(response.content) < 20_000  # the input is not echoed back wholesale
    assert api.client.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"locale": "xx-ZZZZ"},
        {"locale": "a" * 10_000},
        {"locale": "de", "segment": ["x" * 100] * 100},
        {"locale": "de", "region": "\u202eAT"},
        {"locale": "de", "at": "0000-00-00"},
        {"locale": "de", "unknown": "1"},
        {"locale": "de", "preview": "yes please"},
    ],
)
def test_bad_block_queries(api: Api, params: dict[str, Any]) -> None:
    response = api.client.get(BLOCK, params=params, headers=api.auth("reader"))
    assert 400 <= response.status_code < 500, (params, response.text[:300])
    assert set(response.json()["error"]) == {"code", "message", "details", "request_id"}


def test_unknown_component_and_huge_path(api: Api) -> None:
    for path in ("/v1/blocks/nope", "/v1/blocks/" + "a" * 5_000, "/v1/explain/%00"):
        response = api.client.get(path, params={"locale": "de"}, headers=api.auth("agent"))
        assert response.status_code in (404, 422), (path, response.text[:200])
        assert "error" in response.json()


def test_wrong_content_type_and_empty_body(api: Api) -> None:
    for headers, content in (
        ({"Content-Type": "text/plain"}, b"hello"),
        ({"Content-Type": "application/json"}, b""),
        ({}, b'{"publication": "manual.hp200"}'),
    ):
        response = api.client.post(
            RENDER, content=content, headers={**api.auth("reader"), **headers}
        )
        assert 400 <= response.status_code < 500, (headers, content, response.text[:200])
        assert "error" in response.json()
