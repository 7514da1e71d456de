"""Fetching for a request: only what is needed, chains, concurrency, one deadline, the cache.

Against the real service of ``service.py`` and real files; server hit counts prove how often a
source was really asked. Timings have generous margins: they prove "never waits past the
deadline", not speed.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from content_engine.core.errors import InvalidContext, LookupNotFound, SourceUnavailable
from content_engine.sources import Fetched, Sources, SourcesLimits
from tests.sources.conftest import MakeSources
from tests.sources.service import CUSTOMERS, SLOW_SECONDS, Service

SECRET = "tok-do-not-show"


def source(name: str, **options: Any) -> str:
    lines = "".join(f"    {k}: {json.dumps(v)}\n" for k, v in options.items())
    return f"  {name}:\n" + lines


def http(service: Service, name: str, path: str, **options: Any) -> str:
    defaults = {
        "kind": "http",
        "url": f"{service.url}/{path}",
        "headers": {"Authorization": "Bearer ${TOKEN}"},
        "key": "customer_id",
        "timeout": 1.0,
        "retries": 0,
    }
    return source(name, **(defaults | options))


def sources_file(*parts: str, deadline: float = 2.0) -> str:
    return f"deadline: {deadline}\nsources:\n" + "".join(parts)


@pytest.fixture
def crm_files(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "installations.csv").write_text(
        "serial,model,customer_id\nHP200-0042,HP200,C-1\nHP900-0001,HP900,C-404\n"
        "HP100-0007,HP100,\n",
        encoding="utf-8",
    )
    (tmp_path / "data" / "contracts.json").write_text(
        json.dumps(
            [
                {"customer_id": "C-1", "contract": "K-1", "level": "full"},
                {"customer_id": "C-1", "contract": "K-2", "level": "parts"},
                {"customer_id": "C-2", "contract": "K-3", "level": "full"},
            ]
        ),
        encoding="utf-8",
    )
    return tmp_path


def chain(service: Service, contracts: dict[str, Any] | None = None, **customer: Any) -> str:
    return sources_file(
        source(
            "installation",
            kind="file",
            path="data/installations.csv",
            key="serial",
            required=True,
        ),
        http(
            service,
            "customer",
            "customers/{customer_id}",
            **({"from": "installation.customer_id"} | customer),
        ),
        source(
            "contracts",
            kind="file",
            path="data/contracts.json",
            key="customer_id",
            many=True,
            **({"from": "customer.id"} | (contracts or {})),
        ),
    )


def load(make_sources: MakeSources, text: str, **limits: Any) -> Sources:
    return make_sources(text, {"TOKEN": SECRET}, SourcesLimits(**limits))


def outcomes(fetched: Fetched) -> list[tuple[str, str]]:
    return [(a.source, a.outcome) for a in fetched.asked]


def test_a_chain_of_sources(make_sources: MakeSources, service: Service, crm_files: Path) -> None:
    sources = load(make_sources, chain(service))
    fetched = sources.fetch({"serial": "HP200-0042"}, {"contracts"})
    assert fetched.values == {
        "installation": {"serial": "HP200-0042", "model": "HP200", "customer_id": "C-1"},
        "customer": CUSTOMERS["C-1"],
        "contracts": [
            {"customer_id": "C-1", "contract": "K-1", "level": "full"},
            {"customer_id": "C-1", "contract": "K-2", "level": "parts"},
        ],
    }
    assert outcomes(fetched) == [
        ("installation", "found"),
        ("customer", "found"),
        ("contracts", "found"),
    ]
    assert [a.key for a in fetched.asked] == ["serial", "customer_id", "customer_id"]
    assert fetched.warnings == []


def test_only_what_is_needed_is_asked(
    make_sources: MakeSources, service: Service, crm_files: Path
) -> None:
    sources = load(make_sources, chain(service))
    fetched = sources.fetch({"serial": "HP200-0042"}, {"installation", "product", "locale"})
    assert outcomes(fetched) == [("installation", "found")]
    assert service.count("/") == 0
    fetched = sources.fetch({"serial": "HP200-0042"}, {"customer"})
    assert set(fetched.values) == {"installation", "customer"}
    assert sources.fetch({"serial": "HP200-0042"}, set()).asked == []


def test_an_optional_source_that_finds_nothing_leaves_it_and_its_readers_undefined(
    make_sources: MakeSources, service: Service, crm_files: Path
) -> None:
    sources = load(make_sources, chain(service))
    fetched = sources.fetch({"serial": "HP900-0001"}, {"contracts"})
    assert set(fetched.values) == {"installation"}
    assert outcomes(fetched) == [
        ("installation", "found"),
        ("customer", "not_found"),
        ("contracts", "skipped"),
    ]
    assert fetched.warnings == [
        "data source 'customer' found nothing; 'customer' is undefined",
        "data source 'contracts' has no key: 'customer' found nothing; 'contracts' is undefined",
    ]


def test_an_empty_field_is_no_key(
    make_sources: MakeSources, service: Service, crm_files: Path
) -> None:
    sources = load(make_sources, chain(service, required=True))
    with pytest.raises(LookupNotFound) as caught:
        sources.fetch({"serial": "HP100-0007"}, {"customer"})
    assert caught.value.details == {"source": "customer", "key": "customer_id"}
    assert service.count("/") == 0


def test_a_required_reader_of_a_failed_source_is_unavailable(
    make_sources: MakeSources, service: Service, crm_files: Path
) -> None:
    failing = f"{service.url}/status/500?k={{customer_id}}"
    text = chain(service, {"required": True}, url=failing)
    sources = load(make_sources, text)
    with pytest.raises(SourceUnavailable) as caught:
        sources.fetch({"serial": "HP200-0042"}, {"contracts"})
    assert caught.value.details == {
        "source": "contracts",
        "reason": "it reads 'customer', which is unavailable",
    }


def test_an_optional_failure_is_a_warning_without_secrets(
    make_sources: MakeSources, service: Service, crm_files: Path
) -> None:
    sources = load(make_sources, chain(service, url=f"{service.url}/garbage?k={{customer_id}}"))
    fetched = sources.fetch({"serial": "HP200-0042"}, {"contracts"})
    assert set(fetched.values) == {"installation"}
    assert outcomes(fetched)[1:] == [("customer", "unavailable"), ("contracts", "skipped")]
    assert fetched.warnings[0] == "data source 'customer' is unavailable: the answer is not JSON"
    assert SECRET not in repr(fetched) and str(service.port) not in repr(fetched)


def test_a_missing_lookup_key(make_sources: MakeSources, service: Service, crm_files: Path) -> None:
    sources = load(make_sources, chain(service))
    with pytest.raises(LookupNotFound, match="has no value for lookup key 'serial'"):
        sources.fetch({"other": "x"}, {"installation"})
    text = sources_file(http(service, "customer", "customers/{customer_id}"))
    optional = load(make_sources, text)
    fetched = optional.fetch({}, {"customer"})
    assert fetched.values == {} and outcomes(fetched) == [("customer", "skipped")]
    assert "has no value for lookup key 'customer_id'" in fetched.warnings[0]


@pytest.mark.parametrize(
    "value", ["a\x00b", "x" * 257, 42, "", "line\nbreak", "\x7f", ["list"], "\ud800"]
)
def test_lookup_values_that_reach_no_source(
    make_sources: MakeSources, service: Service, crm_files: Path, value: Any
) -> None:
    sources = load(make_sources, chain(service))
    with pytest.raises(InvalidContext) as caught:
        sources.fetch({"serial": value}, {"customer"})
    assert caught.value.message.startswith("lookup.serial: ")
    assert str(value)[:20] not in caught.value.message or value == ""
    assert service.count("/") == 0


def test_independent_sources_run_at_once(make_sources: MakeSources, service: Service) -> None:
    text = sources_file(
        http(service, "one", "slow/{customer_id}", required=True),
        http(service, "two", "slow/{other}", required=True, key="other"),
        http(service, "three", "slow/{third}", required=True, key="third"),
    )
    sources = load(make_sources, text)
    started = time.monotonic()
    lookup = {"customer_id": "C-1", "other": "C-2", "third": "C-1"}
    fetched = sources.fetch(lookup, {"one", "two", "three"})
    took = time.monotonic() - started
    assert set(fetched.values) == {"one", "two", "three"}
    assert service.peak == 3  # all three were being answered at the same moment
    assert took < 3 * SLOW_SECONDS


def test_concurrent_identical_lookups_are_one_call(
    make_sources: MakeSources, service: Service
) -> None:
    sources = load(make_sources, sources_file(http(service, "customer", "slow/{customer_id}")))
    results: list[Fetched] = []
    barrier = threading.Barrier(12)

    def ask() -> None:
        barrier.wait()
        results.append(sources.fetch({"customer_id": "C-1"}, {"customer"}))

    threads = [threading.Thread(target=ask) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(results) == 12
    assert all(r.values == {"customer": CUSTOMERS["C-1"]} for r in results)
    assert service.count("/slow/") == 1
    assert sorted(r.asked[0].cache_hit for r in results) == [False] + [True] * 11
    # cache_ttl is 0: once answered, the next request asks again.
    sources.fetch({"customer_id": "C-1"}, {"customer"})
    assert service.count("/slow/") == 2


def test_answers_are_kept_for_their_ttl(make_sources: MakeSources, service: Service) -> None:
    text = sources_file(http(service, "customer", "customers/{customer_id}", cache_ttl=0.6))
    sources = load(make_sources, text)
    first = sources.fetch({"customer_id": "C-1"}, {"customer"})
    second = sources.fetch({"customer_id": "C-1"}, {"customer"})
    assert second.values == first.values
    assert (first.asked[0].cache_hit, second.asked[0].cache_hit) == (False, True)
    assert service.count("/customers/") == 1
    sources.fetch({"customer_id": "C-2"}, {"customer"})  # another key is another lookup
    assert service.count("/customers/") == 2
    time.sleep(0.8)
    sources.fetch({"customer_id": "C-1"}, {"customer"})
    assert service.count("/customers/C-1") == 2


def test_found_nothing_is_kept_briefly_and_failures_not_at_all(
    make_sources: MakeSources, service: Service
) -> None:
    text = sources_file(
        http(service, "customer", "customers/{customer_id}", cache_ttl=60),
        http(service, "broken", "status/500?k={customer_id}", cache_ttl=60),
    )
    sources = load(make_sources, text, negative_ttl=0.4)
    for _ in range(3):
        fetched = sources.fetch({"customer_id": "C-404"}, {"customer", "broken"})
        assert fetched.values == {}
    assert service.count("/customers/") == 1
    assert service.count("/status/") == 3
    time.sleep(0.6)
    sources.fetch({"customer_id": "C-404"}, {"customer"})
    assert service.count("/customers/") == 2


def test_no_request_waits_past_its_deadline(make_sources: MakeSources, service: Service) -> None:
    text = sources_file(
        http(service, "slowpoke", "hang?k={customer_id}", timeout=10, required=True),
        http(service, "quick", "customers/{customer_id}", required=True),
        deadline=0.5,
    )
    sources = load(make_sources, text)
    started = time.monotonic()
    with pytest.raises(SourceUnavailable) as caught:
        sources.fetch({"customer_id": "C-1"}, {"slowpoke", "quick"})
    assert time.monotonic() - started < 1.5
    assert caught.value.details == {"source": "slowpoke", "reason": "ran past the deadline"}
    # The caller's own deadline binds when it is sooner.
    started = time.monotonic()
    with pytest.raises(SourceUnavailable):
        sources.fetch({"customer_id": "C-2"}, {"slowpoke"}, deadline=time.monotonic() + 0.2)
    assert time.monotonic() - started < 1.0


def test_a_full_pool_does_not_hold_a_request_past_its_deadline(
    make_sources: MakeSources, service: Service, crm_files: Path
) -> None:
    """A source whose threads all wait on a hung call: the next lookup of it waits no longer
    than its deadline, and another source, with threads of its own, answers at once."""
    text = sources_file(
        http(service, "slowpoke", "hang?k={customer_id}", timeout=5),
        source(
            "installation",
            kind="file",
            path="data/installations.csv",
            key="serial",
            required=True,
        ),
        deadline=5,
    )
    sources = load(make_sources, text, workers=1)
    hung = threading.Thread(target=sources.fetch, args=({"customer_id": "C-1"}, {"slowpoke"}))
    hung.start()
    time.sleep(0.2)  # slowpoke's one worker is now waiting for the hanging service
    started = time.monotonic()
    fetched = sources.fetch({"customer_id": "C-2"}, {"slowpoke"}, deadline=time.monotonic() + 0.3)
    assert time.monotonic() - started < 1.0
    assert fetched.values == {} and [a.outcome for a in fetched.asked] == ["unavailable"]
    assert "ran past the deadline" in fetched.warnings[0]
    started = time.monotonic()
    fetched = sources.fetch({"serial": "HP200-0042"}, {"installation"})
    assert time.monotonic() - started < 0.5
    assert fetched.values["installation"]["model"] == "HP200"
    assert service.count("/hang") == 1  # C-2 never got a thread: it was given up in the queue
    service.stop.set()
    hung.join(10)


def test_a_timeout_is_named_as_such(make_sources: MakeSources, service: Service) -> None:
    slowpoke = http(service, "slowpoke", "hang?k={customer_id}", timeout=0.2, required=True)
    text = sources_file(slowpoke)
    sources = load(make_sources, text)
    with pytest.raises(SourceUnavailable) as caught:
        sources.fetch({"customer_id": "C-1"}, {"slowpoke"})
    assert caught.value.details["reason"] in ("timed out", "ran past its timeout")


def test_a_field_that_is_no_single_value_is_no_key(
    make_sources: MakeSources, tmp_path: Path, service: Service
) -> None:
    (tmp_path / "a.json").write_text(json.dumps([{"k": "1", "ref": {"id": "C-1"}}]), "utf-8")
    text = sources_file(
        source("a", kind="file", path="a.json", key="k"),
        http(service, "customer", "customers/{customer_id}", **{"from": "a.ref"}),
    )
    fetched = load(make_sources, text).fetch({"k": "1"}, {"customer"})
    assert outcomes(fetched) == [("a", "found"), ("customer", "skipped")]
    assert "found no usable 'ref' in 'a'" in fetched.warnings[0]
    assert service.count("/") == 0
