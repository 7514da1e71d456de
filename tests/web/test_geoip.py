"""web/: region from the network (serve --geoip): the client's country behind trusted proxies,
never another client's answer from the fast path, and explain's ``region_source``."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from content_engine.cli import main
from content_engine.engine import Engine
from content_engine.settings import OPTIONS, Settings
from content_engine.web import create_app
from tests.support.apps import make_keys
from tests.support.engine_factory import ROOT
from tests.support.geoip import DE, DE6, GB, REGISTRY, US, write_mmdb

PROXY = "10.0.0.1"
BLOCK = "/v1/blocks/legal.warranty?locale=en"
JSON = {"Accept": "application/json"}

Client = Callable[..., Any]


@pytest.fixture
def engine(sample_db_url: str, tmp_path: Path) -> Iterator[Engine]:
    settings = Settings(
        db_url=sample_db_url,
        home=ROOT,
        geoip_db=str(write_mmdb(tmp_path / "country.mmdb")),
        trusted_proxies=("10.0.0.0/8",),
    )
    with Engine(settings) as engine:
        yield engine


@contextmanager
def served(engine: Engine, peer: str) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """The app on ``engine``, every request coming from ``peer``; a reader's and an agent's key."""
    keys = make_keys(engine, ("reader", "agent"))
    app = create_app(engine.settings, engine=engine)
    with TestClient(app, client=(peer, 50000), raise_server_exceptions=False) as client:
        yield client, {role: f"Bearer {key}" for role, key in keys.items()}


def variant(client: TestClient, auth: dict[str, str], forwarded: str | None = None) -> str:
    headers = JSON | {"Authorization": auth["reader"]}
    if forwarded is not None:
        headers["X-Forwarded-For"] = forwarded
    answer = client.get(BLOCK, headers=headers)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["variant"])


def test_clients_behind_one_proxy_get_their_own_region_through_the_fast_path(
    engine: Engine,
) -> None:
    expected = {US: "en-region-us", DE: "en-region-eu", GB: "en", DE6: "en-region-eu"}
    with served(engine, PROXY) as (client, auth):
        for _ in range(3):  # the fast path keeps what was asked for twice
            for address, key in expected.items():
                assert variant(client, auth, f"203.0.113.50, {address}") == key, address
        answer = client.get(
            BLOCK, headers=JSON | {"Authorization": auth["reader"], "X-Forwarded-For": US}
        )
        assert answer.headers["cache-control"] == "private, max-age=60"
        assert variant(client, auth, f"{US}, 10.7.7.7") == "en-region-us"  # proxies in a row
        # A region the reader names wins over the network's.
        named = client.get(
            BLOCK + "&region=CH",
            headers=JSON | {"Authorization": auth["reader"], "X-Forwarded-For": US},
        )
        assert named.json()["variant"] == "en-region-eu"
        assert named.headers["cache-control"] == "public, max-age=60"


def test_a_header_from_an_untrusted_peer_changes_nothing(engine: Engine) -> None:
    with served(engine, GB) as (client, auth):
        for _ in range(3):
            assert variant(client, auth, US) == "en"  # GB's answer, whatever the header says
            assert variant(client, auth) == "en"


HOSTILE = [
    "garbage",
    "," * 50_000,
    "1.1.1.1, " * 5_000 + "junk",
    "x" * 60_000,
    "::1",
    f"{US}:notaport",
    "[2001:db8::1",
    REGISTRY,  # a registry's code, no country
    "127.0.0.1",
    "",
]


def test_hostile_headers_from_the_proxy_give_no_region_and_no_error(engine: Engine) -> None:
    with served(engine, PROXY) as (client, auth):
        for forwarded in HOSTILE:
            for _ in range(2):
                assert variant(client, auth, forwarded) == "en", forwarded[:40]
                assert variant(client, auth, US) == "en-region-us"  # the next reader is served


def test_explain_says_where_the_region_came_from(engine: Engine) -> None:
    with served(engine, PROXY) as (client, auth):
        url = "/v1/explain/legal.warranty?locale=en"
        for query, forwarded, source, region in [
            ("", US, "network", "US"),
            ("&region=CH", US, "context", "CH"),
            ("", "garbage", "none", None),
        ]:
            headers = {"Authorization": auth["agent"], "X-Forwarded-For": forwarded}
            trace = client.get(url + query, headers=headers).json()
            assert (trace["region_source"], trace["context"]["region"]) == (source, region)


def test_post_blocks_and_render_take_the_region_when_the_context_has_none(engine: Engine) -> None:
    with served(engine, PROXY) as (client, auth):
        headers = {"Authorization": auth["reader"], "X-Forwarded-For": US}
        body = {"context": {"locale": "en"}, "components": ["legal.warranty"]}
        assert client.post("/v1/blocks", json=body, headers=headers).json()[0]["variant"] == (
            "en-region-us"
        )
        body["context"]["region"] = "AT"
        assert client.post("/v1/blocks", json=body, headers=headers).json()[0]["variant"] == (
            "en-region-eu"
        )
        render = {"publication": "service.sheet", "context": {"locale": "en"}}
        rendered = client.post("/v1/render", json=render, headers=headers)
        assert rendered.status_code == 200, rendered.text
        assert engine.receipt(rendered.headers["x-render-id"]).context.region == "US"


def test_without_geoip_the_network_is_never_asked(sample_db_url: str) -> None:
    settings = Settings(db_url=sample_db_url, home=ROOT, trusted_proxies=("10.0.0.0/8",))
    with Engine(settings) as engine, served(engine, PROXY) as (client, auth):
        assert variant(client, auth, US) == "en"
        trace = client.get(
            "/v1/explain/legal.warranty?locale=en",
            headers={"Authorization": auth["agent"], "X-Forwarded-For": US},
        ).json()
        assert trace["region_source"] == "none"


ENTRIES = st.sampled_from([US, DE, GB, DE6, REGISTRY, "10.1.1.1", "198.51.100.7", "junk", ""])
# What a client may send as a header value: printable ASCII.
TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12)
HEADERS = st.lists(ENTRIES | TEXT, max_size=40).map(", ".join)
VARIANT_OF = {"US": "en-region-us", "DE": "en-region-eu", None: "en", "GB": "en"}


def test_any_forwarded_header_from_the_proxy_gets_the_answer_of_its_client(engine: Engine) -> None:
    """Random chains, interleaved over the fast path: each answer is the one its own client's
    country calls for, as the engine's reading of the same header says."""
    with served(engine, PROXY) as (client, auth):

        @settings(max_examples=60, deadline=None)
        @given(header=HEADERS)
        def check(header: str) -> None:
            region = engine.network.region(PROXY, header)
            assert region in VARIANT_OF
            for _ in range(2):
                assert variant(client, auth, header) == VARIANT_OF[region]

        check()


def test_serve_hands_geoip_and_its_proxies_to_the_workers(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import uvicorn

    for option in OPTIONS:  # restored after the test, whatever serve wrote
        monkeypatch.setenv(option.env, "")
    ran: list[str] = []
    monkeypatch.setattr(uvicorn, "run", lambda target, **_: ran.append(target))
    mmdb = write_mmdb(tmp_path / "country.mmdb")
    args = ["serve", "--db", db_url, "--geoip-db", str(mmdb), "--trusted-proxy", "10.0.0.0/8"]
    assert main([*args, "--trusted-proxy", "2001:db8::1"]) == 0
    workers = Settings.from_env(os.environ)
    assert (workers.geoip_source, workers.trusted_proxies) == (
        str(mmdb),
        ("10.0.0.0/8", "2001:db8::1/128"),
    )
    monkeypatch.setenv("CONTENT_ENGINE_GEOIP_DB", "")  # what the first serve left for its workers
    assert main(["serve", "--db", db_url, "--geoip"]) == 0
    assert Settings.from_env(os.environ).geoip_source == "builtin"
    assert len(ran) == 2
    capsys.readouterr()
    # Checked before the port is bound: one line, exit 2, and no server.
    for bad in (["--geoip-db", str(tmp_path / "missing.mmdb")], ["--trusted-proxy", "10.0.0.0/33"]):
        assert main(["serve", "--db", db_url, *bad]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1, err
    assert len(ran) == 2


def test_the_explain_text_says_where_the_region_came_from(
    sample_db: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    db, _ = sample_db
    for region, line in ((["--region", "ch"], "region: CH, from the context"), ([], "region: -")):
        assert main(["explain", "legal.warranty", "--locale", "en", *region, "--db", db]) == 0
        assert line in capsys.readouterr().out.splitlines()
