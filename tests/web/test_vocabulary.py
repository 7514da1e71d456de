"""Values outside the library's vocabulary over HTTP: ``warnings`` in every answer that has
them, 422 ``unknown_value`` when the request is strict, and a fast path that neither serves a
strict request what the route would refuse nor keeps two entries for one answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from content_engine.web.fastpath import without_strict
from tests.support.apps import Api
from tests.support.engine_factory import SAMPLE
from tests.support.servers import cli, serve

BLOCK = "/v1/blocks/product.hp200.overview"
ROLE = "role 'astronaut' is not one of the library's roles: buyer, technician, service-agent"
JSON = {"Accept": "application/json"}


def refused(response: Any, dimension: str, value: str) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == "unknown_value"
    assert (error["details"]["dimension"], error["details"]["value"]) == (dimension, value)
    assert error["details"]["known"]
    return error


def test_get_block_warns_in_json_and_refuses_when_strict(api: Api) -> None:
    headers = {**api.auth("reader"), **JSON}
    params = {"locale": "en", "role": "astronaut"}
    warned = api.client.get(BLOCK, params=params, headers=headers)
    assert warned.status_code == 200 and warned.json()["warnings"] == [ROLE]
    for strict in ("true", "1", "yes", "TRUE"):
        response = api.client.get(BLOCK, params={**params, "strict": strict}, headers=headers)
        error = refused(response, "role", "astronaut")
        assert error["message"] == ROLE
        assert error["details"]["known"] == ["buyer", "technician", "service-agent"]
    lenient = api.client.get(BLOCK, params={**params, "strict": "false"}, headers=headers)
    assert lenient.status_code == 200 and lenient.json()["warnings"] == [ROLE]
    bad = api.client.get(BLOCK, params={**params, "strict": "maybe"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"
    known = {"locale": "en", "role": "buyer", "region": "JP", "strict": "true"}
    fine = api.client.get(BLOCK, params=known, headers=headers)
    assert fine.status_code == 200 and fine.json()["warnings"] == []


@pytest.mark.parametrize(
    ("params", "dimension", "value"),
    [
        ({"region": "ZZ"}, "region", "ZZ"),
        ({"region": "xx"}, "region", "XX"),
        ({"segment": ["residential", "astronauts"]}, "segment", "astronauts"),
        ({"channel": "pigeon"}, "channel", "pigeon"),
    ],
)
def test_every_dimension_is_checked(
    api: Api, params: dict[str, Any], dimension: str, value: str
) -> None:
    query = {"locale": "en", **params}
    response = api.client.get(BLOCK, params={**query, "strict": "true"}, headers=api.auth("reader"))
    refused(response, dimension, value)
    explained = api.client.get(
        "/v1/explain/product.hp200.overview", params=query, headers=api.auth("agent")
    )
    assert explained.status_code == 200
    [warning] = explained.json()["warnings"]
    assert repr(value) in warning
    strict_explain = api.client.get(
        "/v1/explain/product.hp200.overview",
        params={**query, "strict": "true"},
        headers=api.auth("agent"),
    )
    refused(strict_explain, dimension, value)


def test_the_fast_path_never_serves_a_strict_request_the_route_would_refuse(
    api: Api, routed: list[str]
) -> None:
    headers = {**api.auth("reader"), **JSON}
    params = {"locale": "en", "role": "astronaut"}
    for _ in range(3):  # assembled, then served from the fast path, warning and all
        response = api.client.get(BLOCK, params=params, headers=headers)
        assert response.json()["warnings"] == [ROLE]
    assert len(routed) == 1
    for _ in range(2):
        refused(
            api.client.get(BLOCK, params={**params, "strict": "true"}, headers=headers),
            "role",
            "astronaut",
        )
    assert api.client.get(BLOCK, params=params, headers=headers).json()["warnings"] == [ROLE]
    assert len(routed) == 1, "the lenient answer is still kept and served"


def test_strict_does_not_split_the_fast_path_s_key(api: Api, routed: list[str]) -> None:
    params = {"locale": "de-AT", "region": "AT", "role": "buyer"}
    for _ in range(2):
        plain = api.client.get(BLOCK, params=params, headers=api.auth("reader"))
    routed.clear()
    for strict in ("true", "false", "1", "0"):
        response = api.client.get(
            BLOCK, params={**params, "strict": strict}, headers=api.auth("reader")
        )
        assert (response.status_code, response.content) == (200, plain.content)
        assert response.headers["etag"] == plain.headers["etag"]
    assert routed == [], "one stored answer served them all"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (b"", (b"", False)),
        (b"locale=en&strict=true", (b"locale=en", True)),
        (b"strict=False&locale=en", (b"locale=en", False)),
        (b"locale=en&strict=1&strict=0", (b"locale=en", True)),
        (b"locale=en&strict=maybe", (b"locale=en&strict=maybe", True)),  # the route's 422
        (b"strictly=1&strict", (b"strictly=1&strict", True)),
        (b"segment=strict", (b"segment=strict", False)),
    ],
)
def test_the_fast_path_key_leaves_strict_out(query: bytes, expected: tuple[bytes, bool]) -> None:
    assert without_strict(query) == expected


PARTS = st.lists(
    st.tuples(
        st.sampled_from([b"locale", b"role", b"strict", b"strictx", b"segment"]),
        st.sampled_from([b"true", b"0", b"YES", b"off", b"x", b"strict", b""]),
    ),
    max_size=6,
)


@given(PARTS)
def test_property_only_a_readable_strict_leaves_the_key(parts: list[tuple[bytes, bytes]]) -> None:
    query = b"&".join(name + b"=" + value for name, value in parts)
    kept, strict = without_strict(query)
    readable = {b"true", b"0", b"yes", b"off"}
    others = [
        name + b"=" + value
        for name, value in parts
        if name != b"strict" or value.lower() not in readable
    ]
    assert kept == b"&".join(others)
    assert strict == any(
        name == b"strict" and value.lower() not in {b"0", b"off"} for name, value in parts
    )


def test_post_blocks_warns_per_block_and_refuses_the_whole_request_when_strict(
    api: Api,
) -> None:
    body: dict[str, Any] = {
        "context": {"locale": "en", "channel": "pigeon"},
        "components": ["product.hp200.overview", "snippet.hotline"],
    }
    ok = api.client.post("/v1/blocks", json=body, headers=api.auth("reader"))
    assert ok.status_code == 200
    for item in ok.json():
        assert item["warnings"][0].startswith("channel 'pigeon' is not one of")
    refused(
        api.client.post("/v1/blocks", json={**body, "strict": True}, headers=api.auth("reader")),
        "channel",
        "pigeon",
    )


def test_post_render_warns_in_json_and_the_header_and_refuses_when_strict(api: Api) -> None:
    body: dict[str, Any] = {
        "publication": "brochure.hp200",
        "context": {"locale": "en", "region": "ZZ"},
        "format": "json",
    }
    ok = api.client.post("/v1/render", json=body, headers=api.auth("reader"))
    assert ok.status_code == 200
    assert ok.json()["warnings"][0].startswith("region 'ZZ' is neither an ISO 3166-1")
    as_html = api.client.post(
        "/v1/render", json={**body, "format": "html"}, headers=api.auth("reader")
    )
    assert as_html.headers["x-render-warnings"] == "1"
    response = api.client.post(
        "/v1/render", json={**body, "strict": True}, headers=api.auth("reader")
    )
    refused(response, "region", "ZZ")
    assert "x-render-id" not in response.headers, "nothing rendered, no receipt"


@pytest.mark.slow
def test_a_real_server_refuses_a_strict_reader_after_serving_a_lenient_one(
    tmp_path: Path,
) -> None:
    db_url = f"sqlite:///{tmp_path / 'x.db'}"
    cli("import", str(SAMPLE), "--db", db_url, cwd=tmp_path)
    params = {"locale": "en", "role": "astronaut"}
    with serve(db_url, tmp_path, "--open") as server, httpx2.Client(base_url=server.url) as http:
        for _ in range(3):
            warned = http.get(BLOCK, params=params, headers=JSON)
            assert warned.json()["warnings"] == [ROLE]
        refused(http.get(BLOCK, params={**params, "strict": "true"}), "role", "astronaut")
        assert http.get(BLOCK, params={**params, "role": "buyer", "strict": "1"}).status_code == 200
