"""``GET /metrics`` (CONTRACT 12): counters move as requests are made, read back with
Prometheus's own parser; a client's URLs and methods never become label values; who may read.
"""

from __future__ import annotations

import dataclasses
import random
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from content_engine.engine.facade import Engine
from content_engine.settings import Settings
from content_engine.web import create_app
from content_engine.web.metrics import NO_ROUTE
from tests.sources.service import Service, running
from tests.support.apps import Api, app_client
from tests.support.engine_factory import ROOT
from tests.support.lookups import write_library, write_sources

BLOCK = "/v1/blocks/snippet.hotline"
BLOCK_ROUTE = "/v1/blocks/{component}"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(api: Api) -> Samples:
    response = api.client.get("/metrics", headers=api.auth("admin"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    found: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def requests_of(samples: Samples, route: str, status: str, method: str = "GET") -> float:
    return value(
        samples, "content_engine_http_requests_total", route=route, method=method, status=status
    )


def test_requests_are_counted_and_timed_by_route_template(api: Api) -> None:
    before = scrape(api)
    reader = api.auth("reader")
    for locale in ("en", "de", "fr"):
        assert api.client.get(BLOCK, params={"locale": locale}, headers=reader).status_code == 200
    assert api.client.get("/v1/blocks/nope", params={"locale": "en"}, headers=reader).is_error
    assert api.client.get(BLOCK, params={"locale": "en"}).status_code == 401
    after = scrape(api)
    moved = {
        status: requests_of(after, BLOCK_ROUTE, status) - requests_of(before, BLOCK_ROUTE, status)
        for status in ("2xx", "4xx", "5xx")
    }
    assert moved == {"2xx": 3, "4xx": 2, "5xx": 0}
    count = "content_engine_http_request_duration_seconds_count"
    timed = value(after, count, route=BLOCK_ROUTE, method="GET")
    assert timed - value(before, count, route=BLOCK_ROUTE, method="GET") == 5
    total = value(
        after, "content_engine_http_request_duration_seconds_sum", route=BLOCK_ROUTE, method="GET"
    )
    assert 0 < total < 60
    # Every other template is its own series, with its parameters' names, not their values.
    api.client.get("/v1/components/snippet.hotline", headers=api.auth("editor"))
    assert requests_of(scrape(api), "/v1/components/{component_id}", "2xx") == 1


def test_random_paths_and_methods_add_no_series(api: Api) -> None:
    rng = random.Random(15)
    api.engine.library()  # the library's gauges exist once it is loaded
    api.client.get("/no/such/path")  # the "none" route's series exist from here on
    api.client.request("BREW", "/no/such/path")
    scrape(api)  # and /metrics's own

    def series_after(count: int) -> set[tuple[str, frozenset[tuple[str, str]]]]:
        for _ in range(count):
            path = "/" + "".join(rng.choices(string.ascii_letters + "%/._-", k=rng.randint(1, 60)))
            method = rng.choice(["GET", "POST", "BREW", "PROPFIND", "X" + str(rng.random())[2:8]])
            api.client.request(method, path, headers=api.auth("reader"))
        return set(scrape(api))

    first = series_after(30)
    assert series_after(60) == first  # twice as many random requests: not one more series
    routes = {dict(labels).get("route") for name, labels in first if "http_request" in name}
    assert NO_ROUTE in routes
    assert all(r is None or r == NO_ROUTE or (r.startswith("/") and len(r) < 80) for r in routes)
    methods = {dict(labels).get("method") for name, labels in first if "http_request" in name}
    assert methods - {None} <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}
    assert "other" in methods


def test_the_fast_path_and_the_block_cache_are_counted(api: Api) -> None:
    before = scrape(api)
    reader = api.auth("reader")
    # The route; then the fast path: from the engine's memory (now kept), from its own store.
    for _ in range(4):
        assert api.client.get(BLOCK, params={"locale": "it"}, headers=reader).status_code == 200
    after = scrape(api)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("content_engine_fastpath_lookups_total", result="hit") == 3
    assert moved("content_engine_fastpath_lookups_total", result="miss") == 1
    # Assembled once; every later request found it (the fast path checks its answers there).
    assert moved("content_engine_block_cache_lookups_total", result="miss") == 1
    assert moved("content_engine_block_cache_lookups_total", result="hit") == 3
    # The fast path's answers count under the route's own template.
    assert requests_of(after, BLOCK_ROUTE, "2xx") - requests_of(before, BLOCK_ROUTE, "2xx") == 4


def test_renders_are_counted_by_format_with_their_duration(api: Api) -> None:
    body = {"publication": "service.sheet", "context": {"locale": "en"}}
    for _ in range(2):
        response = api.client.post("/v1/render", json=body, headers=api.auth("reader"))
        assert response.status_code == 200, response.text
    render_id = response.headers["x-render-id"]
    replayed = api.client.post(f"/v1/renders/{render_id}/replay", headers=api.auth("agent"))
    assert replayed.status_code == 200
    samples = scrape(api)
    assert value(samples, "content_engine_render_seconds_count", format="html") == 3
    assert 0 < value(samples, "content_engine_render_seconds_sum", format="html") < 60
    assert value(samples, "content_engine_render_seconds_count", format="pdf") == 0


def test_the_refresh_lag_and_revision_are_read_when_scraped(api: Api) -> None:
    api.client.get(BLOCK, params={"locale": "en"}, headers=api.auth("reader"))  # loads it
    samples = scrape(api)
    assert value(samples, "content_engine_library_revision") == api.engine.revision()
    lag = value(samples, "content_engine_library_checked_age_seconds")
    assert 0 <= lag < 5  # refreshed twice per 0.5 s


def test_process_metrics_are_there(api: Api) -> None:
    samples = scrape(api)
    assert value(samples, "process_resident_memory_bytes") > 1_000_000
    assert any(name.startswith("python_gc_") for name, _ in samples)


def test_metrics_need_an_admin_key_unless_public(api: Api) -> None:
    assert api.client.get("/metrics").status_code == 401
    for role in ("reader", "agent", "editor"):
        assert api.client.get("/metrics", headers=api.auth(role)).status_code == 403
    settings = dataclasses.replace(api.engine.settings, metrics_public=True)
    # A second app on the same engine: its own registry, the engine's metrics in both.
    with TestClient(create_app(settings, engine=api.engine)) as public:
        response = public.get("/metrics")
        assert response.status_code == 200
        assert "content_engine_block_cache_lookups_total" in response.text
        assert response.headers["cache-control"] == "no-store"
    assert scrape(api)  # the first app's registry still answers
    with app_client(api.engine, api.keys, open_access=True) as opened:
        assert opened.client.get("/metrics").status_code == 200


def test_openmetrics_when_the_scraper_asks_for_it(api: Api) -> None:
    accept = "application/openmetrics-text; version=1.0.0, text/plain;q=0.5"
    response = api.client.get("/metrics", headers={**api.auth("admin"), "Accept": accept})
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.rstrip().endswith("# EOF")


# --- data sources --------------------------------------------------------------------------


@pytest.fixture
def service() -> Iterator[Service]:
    with running() as started:
        yield started


@pytest.fixture
def sourced(db_url: str, tmp_path: Path, service: Service) -> Iterator[Api]:
    sources = write_sources(tmp_path / "deploy", service.url)
    with Engine(Settings(db_url=db_url, home=ROOT, sources=str(sources))) as engine:
        engine.import_library(write_library(tmp_path / "lib"))
        with app_client(engine) as client:
            yield client


def test_data_source_calls_are_counted_by_source_and_outcome(sourced: Api) -> None:
    def get(component: str, serial: str) -> int:
        url = f"/v1/blocks/{component}?locale=en&lookup.serial={serial}"
        return sourced.client.get(url, headers=sourced.auth("reader")).status_code

    assert get("greeting", "HP200-0042") == 200
    assert get("greeting", "HP200-9999") == 404  # a required source found nothing
    assert get("stuck", "HP200-0042") == 503  # a required source ran past its timeout
    samples = scrape(sourced)
    calls = "content_engine_source_calls_total"

    def n(source: str, outcome: str) -> float:
        return sum(
            value(samples, calls, source=source, outcome=outcome, cache=cache)
            for cache in ("hit", "miss")
        )

    assert n("installation", "found") == 2
    assert n("installation", "not_found") == 1
    assert n("customer", "found") == 2  # stuck reads it too: a segment rule reads customer
    assert n("hanging", "unavailable") == 1  # counted although the request failed
    waited = value(samples, "content_engine_source_seconds_sum", source="hanging")
    assert 0.4 < waited < 5
    assert value(samples, "content_engine_source_seconds_count", source="customer") == 2


def test_only_the_deployments_source_names_are_label_values(sourced: Api) -> None:
    for serial in ("HP200-0042", "x" * 50, "<script>", "HP200-0077"):
        sourced.client.get(
            "/v1/blocks/greeting",
            params={"locale": "en", "lookup.serial": serial},
            headers=sourced.auth("reader"),
        )
    names = {
        dict(labels)["source"]
        for name, labels in scrape(sourced)
        if name.startswith("content_engine_source_")
    }
    assert names == {"installation", "customer"}


def test_a_second_lifespan_of_the_same_app_shares_the_engines_collectors(api: Api) -> None:
    """A fuzzer starts the app's lifespan again beside the test client's: the engine's
    collectors are registered once, and stay until the last lifespan ends."""
    with TestClient(api.client.app) as second:
        second.get(BLOCK, headers=api.auth("reader"))
        during = scrape(api)
        assert value(during, "content_engine_block_cache_lookups_total", result="miss") >= 1
    after = scrape(api)  # the first lifespan still runs: its collectors are still there
    assert any(name == "content_engine_block_cache_lookups_total" for name, _ in after)
