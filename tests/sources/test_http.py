"""``http`` sources against a real service on 127.0.0.1 that misbehaves in every way it can.

Each hostile answer gives ``source_unavailable`` naming the source, with no URL or header in it,
and no request waits past its timeout or deadline.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from content_engine.core.errors import LookupNotFound, SourceUnavailable
from content_engine.sources import SourcesLimits
from content_engine.sources.http import escape, expand
from tests.sources.conftest import MakeSources
from tests.sources.service import CUSTOMERS, Service

SECRET = "s3cr3t-token-value"


def one(service: Service, path: str, **extra: Any) -> str:
    options = {"timeout": 0.5, "required": True, "retries": 0} | extra
    lines = "".join(f"    {k}: {json.dumps(v)}\n" for k, v in options.items())
    return (
        "deadline: 2\n"
        "sources:\n"
        "  customer:\n"
        "    kind: http\n"
        f'    url: "{service.url}/{path}"\n'
        '    headers: {Authorization: "Bearer ${TOKEN}"}\n'
        "    key: customer_id\n" + lines
    )


def ask(make_sources: MakeSources, text: str, value: str = "C-1", **kw: Any) -> Any:
    sources = make_sources(text, {"TOKEN": SECRET}, **kw)
    return sources.fetch({"customer_id": value}, {"customer"})


def unavailable(make_sources: MakeSources, text: str, **kw: Any) -> SourceUnavailable:
    started = time.monotonic()
    with pytest.raises(SourceUnavailable) as caught:
        ask(make_sources, text, **kw)
    assert time.monotonic() - started < 2.5  # the deadline, with a generous margin
    error = caught.value
    assert error.code == "source_unavailable"
    assert error.details["source"] == "customer"
    shown = f"{error} {error.details}"
    assert SECRET not in shown
    assert "127.0.0.1" not in shown
    return error


def test_found_and_the_header_read_from_the_environment(
    make_sources: MakeSources, service: Service
) -> None:
    fetched = ask(make_sources, one(service, "customers/{customer_id}"))
    assert fetched.values == {"customer": CUSTOMERS["C-1"]}
    assert service.headers_seen[-1]["Authorization"] == f"Bearer {SECRET}"
    assert [(a.source, a.key, a.outcome) for a in fetched.asked] == [
        ("customer", "customer_id", "found")
    ]


def test_404_is_found_nothing(make_sources: MakeSources, service: Service) -> None:
    with pytest.raises(LookupNotFound) as caught:
        ask(make_sources, one(service, "customers/{customer_id}"), value="C-404")
    assert caught.value.details == {"source": "customer", "key": "customer_id"}
    assert "C-404" not in str(caught.value)


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("status/500", "HTTP 500"),
        ("status/403", "HTTP 403"),
        ("garbage", "not JSON"),
        ("scalar", "not an object"),
        ("deep", "nested deeper"),
        ("nul", "NUL"),
        ("huge", "over 1,048,576 bytes"),
        ("huge/chunked", "over 1,048,576 bytes"),
        ("gzipbomb", "over 1,048,576 bytes"),
        ("redirect/other", "another host"),
        ("redirect/loop", "redirected too often"),
        ("list/20000", "over 10000 rows"),
    ],
)
def test_a_hostile_answer_is_unavailable_in_plain_words(
    make_sources: MakeSources, service: Service, path: str, reason: str
) -> None:
    error = unavailable(make_sources, one(service, path + "?k={customer_id}"))
    assert reason in error.details["reason"]


def test_a_same_host_redirect_is_followed(make_sources: MakeSources, service: Service) -> None:
    fetched = ask(make_sources, one(service, "redirect/same?k={customer_id}"))
    assert fetched.values["customer"] == CUSTOMERS["C-1"]


@pytest.mark.parametrize("path", ["hang", "drip"])
def test_a_source_that_hangs_or_drips_is_cut_at_its_timeout(
    make_sources: MakeSources, service: Service, path: str
) -> None:
    started = time.monotonic()
    error = unavailable(make_sources, one(service, path + "?k={customer_id}", timeout=0.3))
    assert time.monotonic() - started < 1.2
    assert "timed out" in error.details["reason"] or "past" in error.details["reason"]


def test_the_deadline_binds_before_a_longer_timeout(
    make_sources: MakeSources, service: Service
) -> None:
    text = one(service, "hang?k={customer_id}", timeout=10).replace("deadline: 2", "deadline: 0.4")
    started = time.monotonic()
    unavailable(make_sources, text)
    assert time.monotonic() - started < 1.2


def test_transient_failures_are_retried_with_backoff(
    make_sources: MakeSources, service: Service
) -> None:
    service.failures_left["/flaky/C-1"] = 2
    fetched = ask(make_sources, one(service, "flaky/{customer_id}", retries=2, timeout=1.5))
    assert fetched.values["customer"] == CUSTOMERS["C-1"]
    assert service.count("/flaky/") == 3


def test_retries_stop_at_their_count(make_sources: MakeSources, service: Service) -> None:
    service.failures_left["/flaky/C-1"] = 5
    error = unavailable(make_sources, one(service, "flaky/{customer_id}", retries=1, timeout=1.5))
    assert "HTTP 503" in error.details["reason"]
    assert service.count("/flaky/") == 2


def test_a_500_is_not_retried(make_sources: MakeSources, service: Service) -> None:
    unavailable(make_sources, one(service, "status/500?k={customer_id}", retries=3))
    assert service.count("/status/500") == 1


def test_nothing_listens(make_sources: MakeSources, service: Service) -> None:
    text = one(service, "customers/{customer_id}").replace(str(service.port), "9")
    error = unavailable(make_sources, text)
    assert "cannot connect" in error.details["reason"]


def test_a_small_response_limit_holds(make_sources: MakeSources, service: Service) -> None:
    limits = SourcesLimits(max_response_bytes=10)
    error = unavailable(make_sources, one(service, "customers/{customer_id}"), limits=limits)
    assert "over 10 bytes" in error.details["reason"]


HOSTILE = ["a/b", "..", ".", "../../admin", "%2e%2e", "100%", "x?y=1#z", "a b", "é/ü", "' OR 1"]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_keys_reach_the_service_as_one_escaped_segment(
    make_sources: MakeSources, service: Service, value: str
) -> None:
    fetched = ask(make_sources, one(service, "echo/{customer_id}"), value=value)
    path = fetched.values["customer"]["path"]
    assert path == "/echo/" + escape(value)
    assert path.count("/") == 2 and "?" not in path and "#" not in path


_KEYS = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=_KEYS)
def test_every_key_is_escaped_into_one_segment(value: str) -> None:
    url = expand("http://h/x/{k}/y?q={k}", "k", value)
    head, _, query = url.partition("?")
    assert head.count("/") == 5 and "#" not in url and " " not in url
    assert query.startswith("q=") and "&" not in query
    segment = head.split("/")[4]
    assert segment not in (".", "..")
    from urllib.parse import unquote

    assert unquote(segment) == value


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=_KEYS)
def test_keys_arrive_at_a_real_service_as_sent(
    make_sources: MakeSources, service: Service, value: str
) -> None:
    from urllib.parse import unquote

    fetched = ask(make_sources, one(service, "echo/{customer_id}"), value=value)
    path = fetched.values["customer"]["path"]
    assert path.count("/") == 2
    assert unquote(path.removeprefix("/echo/")) == value
