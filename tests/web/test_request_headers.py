"""One reading of the headers for every path: the fast path never answers what the route would not.

A client that sends a header twice, or a query parameter twice, must not store an answer that
another client then gets (another language, HTML for JSON, an editor's draft for a reader).
The property is checked on raw ASGI scopes, so the header lists are exactly what a server
would hand over (repeats, order), against two apps on one engine: the served one, and the
same app without its fast path, which answers every request through the route.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from content_engine.web.fastpath import SCOPE_KEY, BlockFastPath
from content_engine.web.headers import RepeatedHeader, RequestHeaders
from tests.support.apps import Api, app_client
from tests.web.test_touchpoints import assert_error

Raw = list[tuple[bytes, bytes]]

COMPONENTS = ("product.hp200.overview", "snippet.hotline")
QUERY = (
    "locale=de-AT",
    "locale=fr",
    "locale=en",
    "locale=",
    "%6Cocale=de",  # "locale", percent-encoded: parsed as the locale, not seen as one by bytes
    "preview=true",
    "preview=false",
    "preview=1",
    "region=AT",
    "role=buyer",
    "segment=pro",
    "at=2026-01-01",
)
ACCEPT = ("application/json", "text/html", "application/json;q=0.5, text/html", "*/*", "")
LANGUAGES = ("de", "fr", "en", "fr;q=0.1, de", "de-AT", "")
ROLES = ("reader", "agent", "editor", "nobody")


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Raw
    body: bytes
    routed: bool  # the route made it (False: the fast path answered)


async def _send(app: FastAPI, path: str, query: bytes, headers: Raw) -> Answer:
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        # One id for both apps: their answers (error bodies too) then name the same one.
        "headers": [(b"host", b"testserver"), (b"x-request-id", b"compared"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return Answer(start["status"], list(start["headers"]), body, SCOPE_KEY in scope)


@dataclass
class Pair:
    """The served app and the same app without its fast path, on one engine."""

    api: Api
    served: FastAPI
    plain: FastAPI
    plain_client: TestClient

    def send(
        self, app: FastAPI, client: TestClient, path: str, query: bytes, headers: Raw
    ) -> Answer:
        portal = client.portal
        assert portal is not None
        return portal.call(_send, app, path, query, headers)


@pytest.fixture
def pair(api: Api) -> Iterator[Pair]:
    with app_client(api.engine, api.keys, without_middleware=[BlockFastPath]) as plain:
        yield Pair(api, api.client.app, plain.client.app, plain.client)  # type: ignore[arg-type]


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, list[tuple[str, str]]]:
    component = draw(st.sampled_from(COMPONENTS))
    query = "&".join(draw(st.lists(st.sampled_from(QUERY), max_size=4)))
    header = st.one_of(
        st.tuples(st.just("accept"), st.sampled_from(ACCEPT)),
        st.tuples(st.just("accept-language"), st.sampled_from(LANGUAGES)),
        st.tuples(st.just("authorization"), st.sampled_from(ROLES)),
        st.tuples(st.just("if-none-match"), st.sampled_from(("*", '"nope"', "etag"))),
    )
    return component, query, draw(st.lists(header, max_size=5))


def test_any_answer_of_the_fast_path_is_the_routes_answer(pair: Pair) -> None:
    api = pair.api
    seen = {"fast": 0, "etag": '"none yet"'}

    def raw(headers: list[tuple[str, str]]) -> Raw:
        out: Raw = []
        for name, value in headers:
            if name == "authorization":
                key = api.keys.get(value, "ce_nothing_here")
                value = f"Bearer {key}"
            elif name == "if-none-match" and value == "etag":
                value = seen["etag"]
            out.append((name.encode(), value.encode()))
        return out

    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.lists(requests(), min_size=1, max_size=3))
    def check(batch: list[tuple[str, str, list[tuple[str, str]]]]) -> None:
        # Interleaved, as clients are: each request three times (the fast path keeps what was
        # asked for twice), the others in between; the store also lives on across examples.
        for _ in range(3):
            for component, query, headers in batch:
                path, sent = f"/v1/blocks/{component}", raw(headers)
                fast = pair.send(pair.served, api.client, path, query.encode(), sent)
                routed = pair.send(pair.plain, pair.plain_client, path, query.encode(), sent)
                assert routed.routed or routed.status >= 400
                assert (fast.status, fast.headers, fast.body) == (
                    routed.status,
                    routed.headers,
                    routed.body,
                ), (component, query, headers)
                if not fast.routed and fast.status < 400:
                    seen["fast"] += 1
                for name, value in fast.headers:
                    if name == b"etag":
                        seen["etag"] = value.decode()

    check()
    assert seen["fast"] >= 10, "the fast path answered too rarely for the property to say much"


@pytest.mark.parametrize("name", ["Authorization", "Cookie", "Host", "Content-Type"])
def test_a_repeated_single_valued_header_is_refused_on_every_path(api: Api, name: str) -> None:
    value = {"Authorization": f"Bearer {api.keys['editor']}", "Host": "testserver"}.get(name, "a=b")
    for path in ("/v1/blocks/snippet.hotline?locale=en", "/v1/components", "/", "/healthz"):
        # Twice the same value, even: a second copy has no meaning a server may pick for it.
        headers = [(name, value), (name, value)]
        if name != "Authorization":
            headers.append(("Authorization", f"Bearer {api.keys['editor']}"))
        for _ in range(3):
            response = api.client.get(path, headers=headers)
            error = assert_error(response, 400, "repeated_header")
            assert error["details"] == {"header": name.lower()}


def test_a_readers_repeat_never_gets_an_editors_preview(api: Api) -> None:
    """The example of the report: the editor's key first, the reader's last."""
    path = "/v1/blocks/snippet.hotline"
    both = [
        ("Authorization", f"Bearer {api.keys['editor']}"),
        ("Authorization", f"Bearer {api.keys['reader']}"),
    ]
    for _ in range(3):
        assert_error(
            api.client.get(path, params={"preview": "true"}, headers=both), 400, "repeated_header"
        )
        alone = api.client.get(path, params={"preview": "true"}, headers=api.auth("reader"))
        assert_error(alone, 403, "forbidden")


@pytest.mark.parametrize(
    "query",
    ["locale=fr&locale=de", "preview=false&preview=true", "region=AT&region=DE", "at=1&at=2"],
)
def test_a_repeated_single_valued_parameter_is_refused(api: Api, query: str) -> None:
    for _ in range(3):
        response = api.client.get(f"/v1/blocks/snippet.hotline?{query}", headers=api.auth("editor"))
        error = assert_error(response, 400, "repeated_parameter")
        assert error["details"]["repeated"] == [query.partition("=")[0]]


def test_a_list_parameter_may_repeat(api: Api) -> None:
    response = api.client.get(
        "/v1/blocks/snippet.hotline?locale=en&segment=a&segment=b", headers=api.auth("reader")
    )
    assert response.status_code == 200, response.text


@given(
    st.lists(
        st.tuples(
            st.sampled_from([b"accept", b"accept-language", b"if-none-match", b"x-other"]),
            st.binary(max_size=20).map(lambda b: b.replace(b",", b"")),
        ),
        max_size=6,
    )
)
def test_list_valued_headers_read_as_their_copies_joined(raw: Raw) -> None:
    """RFC 9110 section 5.3: the copies of a list-valued field are one list, in order."""
    parsed = RequestHeaders.parse(raw)
    for name, attribute in ((b"accept", "accept"), (b"accept-language", "accept_language")):
        copies = [v.decode("latin-1") for n, v in raw if n == name]
        assert getattr(parsed, attribute) == (", ".join(copies) if copies else None)


@given(st.sampled_from([b"authorization", b"cookie", b"host", b"content-length"]), st.binary())
def test_any_single_valued_header_twice_is_refused(name: bytes, value: bytes) -> None:
    with pytest.raises(RepeatedHeader):
        RequestHeaders.parse([(name, value), (b"accept", b"*/*"), (name.upper(), value)])
