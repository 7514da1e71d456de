"""Data sources over HTTP (CONTRACT 8): ``lookup.<name>`` query parameters, the error shapes of
``lookup_not_found`` and ``source_unavailable``, and no cache ever serving one customer another's
block, through the app and through a real ``serve --sources`` process."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from content_engine.engine.facade import Engine
from content_engine.settings import Settings
from tests.sources.service import Service, running
from tests.support.apps import Api, app_client
from tests.support.engine_factory import ROOT
from tests.support.lookups import write_library, write_sources
from tests.support.servers import serve

ANNA = "<p>Dear Anna Huber (gold), your HP200 Pro.</p>"
BEN = "<p>Hello Ben Ort, your HP200 Eco.</p>"


@pytest.fixture
def service() -> Iterator[Service]:
    with running() as started:
        yield started


@pytest.fixture
def sources(tmp_path: Path, service: Service) -> Path:
    return write_sources(tmp_path / "deploy", service.url)


@pytest.fixture
def api(db_url: str, tmp_path: Path, sources: Path) -> Iterator[Api]:
    with Engine(Settings(db_url=db_url, home=ROOT, sources=str(sources))) as engine:
        engine.import_library(write_library(tmp_path / "lib"))
        with app_client(engine) as client:
            yield client


def get(api: Api, component: str, query: str) -> httpx2.Response:
    return api.client.get(f"/v1/blocks/{component}?{query}", headers=api.auth("reader"))


def test_two_customers_in_a_row_each_get_their_own_block(
    api: Api, routed: list[str], service: Service
) -> None:
    for _ in range(3):  # the fast path keeps what is asked twice: ask each many times
        for serial, html in (("HP200-0042", ANNA), ("HP200-0077", BEN)):
            response = get(api, "greeting", f"locale=en&lookup.serial={serial}")
            assert response.status_code == 200, response.text
            assert response.text.strip() == html
            assert response.headers["cache-control"] == "private, no-store"
    # However the name is escaped, the route answers (the fast path never does).
    response = get(api, "greeting", "locale=en&%6Cookup.serial=HP200-0077")
    assert response.text.strip() == BEN
    assert len(routed) == 7
    assert service.count("/customers/C-1") == 3 and service.count("/customers/C-2") == 4


def test_a_block_without_lookup_is_still_cached(api: Api, routed: list[str]) -> None:
    for _ in range(3):
        assert get(api, "plain", "locale=en").status_code == 200
    assert len(routed) < 3


def test_lookup_not_found_is_404_naming_the_source(api: Api) -> None:
    response = get(api, "greeting", "locale=en&lookup.serial=NOPE-1")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "lookup_not_found"
    assert error["details"] == {"source": "installation", "key": "serial"}
    assert "NOPE-1" not in response.text


@pytest.mark.parametrize(
    "query",
    [
        "lookup.serial=a&lookup.serial=b",
        "lookup.serial=",
        "lookup.bad-name=x",
        "lookup.serial=" + "x" * 300,
        "lookup.serial=%00",
        "&".join(f"lookup.k{i}=v" for i in range(17)),
    ],
)
def test_bad_lookup_parameters_are_invalid_context(api: Api, query: str) -> None:
    response = get(api, "greeting", f"locale=en&{query}")
    assert response.status_code == 422, response.text
    # NUL is refused by the check every query meets, before the context is read.
    assert response.json()["error"]["code"] in ("invalid_context", "unstorable_text")


def test_explain_over_http_lists_the_sources(api: Api) -> None:
    response = api.client.get(
        "/v1/explain/greeting?locale=en&lookup.serial=HP200-0077", headers=api.auth("agent")
    )
    assert response.status_code == 200, response.text
    assert [s["source"] for s in response.json()["sources"]] == ["installation", "customer"]


def test_render_with_a_lookup_in_the_body_replays_without_sources(
    api: Api, service: Service
) -> None:
    body = {
        "publication": "letter",
        "context": {"locale": "en", "lookup": {"serial": "HP200-0042"}},
    }
    rendered = api.client.post("/v1/render", json=body, headers=api.auth("agent"))
    assert rendered.status_code == 200, rendered.text
    asked = service.count("/")
    replayed = api.client.post(
        f"/v1/renders/{rendered.headers['x-render-id']}/replay", headers=api.auth("agent")
    )
    assert replayed.content == rendered.content
    assert service.count("/") == asked


@pytest.mark.slow
def test_serve_a_hanging_source_is_503_in_time_while_another_request_is_answered(
    tmp_path: Path, service: Service
) -> None:
    # The hanging source waits 2 s: a request served after it would take that long, one
    # served beside it a fraction, however loaded the machine running the tests is.
    sources = write_sources(tmp_path / "slow", service.url, deadline=3, hang_timeout=2)
    db_url = f"sqlite:///{tmp_path / 'served.db'}"
    with Engine(Settings(db_url=db_url, home=ROOT)) as engine:
        engine.import_library(write_library(tmp_path / "lib"))
    with serve(db_url, tmp_path, "--open", "--sources", str(sources)) as server:
        stuck: list[tuple[int, str, float]] = []

        def ask_stuck() -> None:
            started = time.monotonic()
            r = httpx2.get(
                f"{server.url}/v1/blocks/stuck?locale=en&lookup.serial=HP200-0042", timeout=10
            )
            stuck.append((r.status_code, r.json()["error"]["code"], time.monotonic() - started))

        thread = threading.Thread(target=ask_stuck)
        thread.start()
        time.sleep(0.1)
        started = time.monotonic()
        other = httpx2.get(f"{server.url}/v1/blocks/greeting?locale=en&lookup.serial=HP200-0077")
        assert other.status_code == 200 and other.text.strip() == BEN
        answered = time.monotonic()
        assert answered - started < 1.0
        thread.join(10)
        assert stuck and stuck[0][:2] == (503, "source_unavailable")
        assert 1.9 < stuck[0][2] < 3.0  # the source's timeout is 2 s, the deadline 3 s


def test_serve_refuses_a_bad_sources_file_before_binding(tmp_path: Path) -> None:
    from tests.support.servers import run_cli

    bad = tmp_path / "bad.yaml"
    bad.write_text("deadline: soon\n", encoding="utf-8")
    db_url = f"sqlite:///{tmp_path / 'x.db'}"
    result = run_cli("serve", "--port", "0", "--db", db_url, "--sources", str(bad), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {bad}:1:") and result.stderr.count("\n") == 1
