"""GET block queries no stored answer matches, answered from the engine's memory before FastAPI
(``BlockFastPath._from_memory``): the route's very answer, and the route for anything unusual."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from content_engine.web.fastpath import BlockFastPath, plain_reader_query
from tests.support.apps import Api, fast_and_routed

BLOCK = "/v1/blocks/product.hp200.overview"
BASE = "locale=de-AT&region=AT&role=buyer"


@pytest.fixture
def pair(sample_db_url: str) -> Iterator[tuple[Api, Api]]:
    """The app with its fast path and without it, on one engine, with the same keys."""
    with fast_and_routed(sample_db_url, BlockFastPath) as apps:
        yield apps


QUERIES = [
    BASE,
    BASE + "&at=2026-06-01T10:00:00Z",
    BASE + "&segment=residential&segment=installer-partner",
    "region=AT&role=buyer",  # the locale from Accept-Language
    BASE + "&preview=true",
    BASE + "&preview=FALSE",
    BASE + "&preview=maybe",
    BASE + "&role=agent",
    BASE + "&regoin=AT",
    BASE + "&channel=",
    BASE + "&channel=" + "x" * 65,
    BASE + "&channel=a%00b",
    BASE + "&strict=true",
    BASE + "&role=astronaut&strict=true",
    "locale=xx-ZZZZZZZZZZ",
    BASE + "&at=yesterday",
]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("role", ["reader", "editor"])
def test_the_same_answer_as_the_route(pair: tuple[Api, Api], query: str, role: str) -> None:
    fast, routed = pair
    extra = {"Accept-Language": "fr;q=0.5, de", "Accept": "application/json;q=0.9, text/html"}
    extra["X-Request-ID"] = "same-request"  # else each answer names its own
    headers = {**fast.auth(role), **extra}
    for api in (routed, fast):  # the block in the engine's memory, the key verified
        api.client.get(f"{BLOCK}?{BASE}", headers=headers)
        api.client.get(f"{BLOCK}?{query}", headers=headers)
    expected = routed.client.get(f"{BLOCK}?{query}", headers=headers)
    for _ in range(2):
        got = fast.client.get(f"{BLOCK}?{query}", headers=headers)
        assert got.status_code == expected.status_code, got.text
        assert got.content == expected.content
        assert got.headers == expected.headers


def test_only_plain_reader_queries_are_read_here() -> None:
    assert plain_reader_query(b"locale=de&segment=a&segment=b&at=2026-01-01&preview=on") == (
        "de",
        ["a", "b"],
        {"role": None, "region": None, "channel": None, "at": "2026-01-01", "reader_id": None},
        True,
    )
    assert plain_reader_query(b"") == (
        None,
        [],
        dict.fromkeys(("role", "region", "channel", "at", "reader_id")),
        False,
    )
    for query in (
        b"locale=de&locale=fr",
        b"preview=1&preview=0",
        b"preview=maybe",
        b"role=",
        b"role=" + b"x" * 65,
        b"role=a%00",
        b"strict=yes",
        b"lookup.serial=1",
        b"other=1",
        b"&".join([b"segment=s"] * 65),
    ):
        assert plain_reader_query(query) is None, query
