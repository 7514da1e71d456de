"""Data sources through a real ``content-engine serve --sources`` (CONTRACT 8), the failures the
issue lists: a source that answers 50 MB, garbage, a 500 or a redirect to another host is one
clear 503; a source that hangs holds only the requests that wait on it, to their deadline, while
the server answers everyone else; 100 concurrent identical lookups are one call at the source;
lookup keys with quotes, ``../``, ``?``, ``#``, CRLF, NUL or 10 kB reach neither SQL nor a URL
unescaped. One server and one hostile service (``tests/sources/service.py``) for the module.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx2
import pytest
from markupsafe import escape

from content_engine.engine.facade import Engine
from content_engine.settings import Settings
from tests.sources.service import Service, running
from tests.support.engine_factory import ROOT, write_files
from tests.support.servers import Server, serve

pytestmark = pytest.mark.slow

HOSTILE = {  # source name -> the service's path: each misbehaves as its name says
    "huge": "huge/{serial}",  # 50 MB, its length declared
    "chunked": "huge/chunked?k={serial}",  # 50 MB without a length
    "garbage": "garbage/{serial}",
    "broken": "status/500?k={serial}",
    "elsewhere": "redirect/{serial}",  # to localhost: another host than 127.0.0.1
}
HANG_TIMEOUT = 2.0
DEADLINE = 4.0
CRM_ROWS = [("HP200-0042", "HP200 Pro"), ("HP200-0077", "HP200 Eco")]


def write_library(root: Path) -> Path:
    files = {
        "library.yaml": "default_locale: en\nlocales: [en]\n",
        "c/plain/component.yaml": "id: plain\ntype: snippet\n",
        "c/plain/en.html": "<p>No data here.</p>\n",
        "c/greeting/component.yaml": "id: greeting\ntype: snippet\n",
        "c/greeting/en.html": "<p>Hello {{ customer.name }}, your {{ installation.model }}.</p>\n",
        "c/stuck/component.yaml": "id: stuck\ntype: snippet\n",
        "c/stuck/en.html": "<p>{{ hanging.name }}</p>\n",
        "c/gated/component.yaml": "id: gated\ntype: snippet\n",
        "c/gated/en.html": "<p>{{ gated.name }}</p>\n",
        "c/echoes/component.yaml": "id: echoes\ntype: snippet\n",
        "c/echoes/en.html": "<p>{{ urlecho.path }}|{{ sqlecho.echoed }}</p>\n",
        "c/installed/component.yaml": "id: installed\ntype: snippet\n",
        "c/installed/en.html": "<p>{{ installed.model }}</p>\n",
    }
    for name in HOSTILE:
        files[f"c/{name}/component.yaml"] = f"id: {name}\ntype: snippet\n"
        files[f"c/{name}/en.html"] = f"<p>{{{{ {name}.name }}}}</p>\n"
    return write_files(root, files)


def http(name: str, url: str, key: str = "serial", **extra: str) -> str:
    lines = "".join(f"    {k}: {v}\n" for k, v in extra.items())
    return (
        f"  {name}:\n    kind: http\n    url: {url!r}\n    key: {key}\n"
        f"    required: true\n    retries: 0\n{lines}"
    )


def sql(name: str, crm: Path, query: str) -> str:
    return (
        f"  {name}:\n    kind: sql\n    url: 'sqlite:///{crm}'\n    query: {query!r}\n"
        "    key: serial\n    required: true\n"
    )


def write_sources(folder: Path, service: str, crm: Path) -> Path:
    (folder / "installations.csv").write_text(
        "serial,model,customer_id\nHP200-0042,HP200 Pro,C-1\n", encoding="utf-8"
    )
    parts = [
        f"deadline: {DEADLINE}\nsources:\n",
        "  installation:\n    kind: file\n    path: installations.csv\n    key: serial\n"
        "    required: true\n",
        http(
            "customer",
            f"{service}/customers/{{customer_id}}",
            key="customer_id",
            **{"from": "installation.customer_id"},
        ),
        http("hanging", f"{service}/hang/{{serial}}", timeout=str(HANG_TIMEOUT)),
        http("gated", f"{service}/gate/{{serial}}", timeout="3.5"),
        http("urlecho", f"{service}/echo/{{serial}}"),
        sql("sqlecho", crm, "SELECT CAST(:serial AS TEXT) AS echoed"),
        sql("installed", crm, "SELECT serial, model FROM installations WHERE serial = :serial"),
        *(http(name, f"{service}/{path}") for name, path in HOSTILE.items()),
    ]
    path = folder / "sources.yaml"
    path.write_text("".join(parts), encoding="utf-8")
    return path


@dataclass
class Served:
    server: Server
    service: Service
    crm: Path
    # One client for every thread: a client of its own per request costs each an SSL context.
    client: httpx2.Client

    def get(self, component: str, **params: str) -> httpx2.Response:
        query = {"locale": "en", **{f"lookup.{k}": v for k, v in params.items()}}
        return self.client.get(f"{self.server.url}/v1/blocks/{component}", params=query)

    def crm_rows(self) -> int:
        with sqlite3.connect(self.crm) as db:
            found: int = db.execute("SELECT count(*) FROM installations").fetchone()[0]
        db.close()
        return found


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    where = tmp_path_factory.mktemp("served")
    crm = where / "crm.db"
    with sqlite3.connect(crm) as db:
        db.execute("CREATE TABLE installations (serial TEXT, model TEXT)")
        db.executemany("INSERT INTO installations VALUES (?, ?)", CRM_ROWS)
    db.close()
    db_url = f"sqlite:///{where / 'library.db'}"
    with Engine(Settings(db_url=db_url, home=ROOT)) as engine:
        engine.import_library(write_library(where / "lib"))
    with running() as service:
        sources = write_sources(where, service.url, crm)
        with (
            serve(db_url, where, "--open", "--sources", str(sources)) as server,
            httpx2.Client(timeout=10, limits=httpx2.Limits(max_connections=200)) as client,
        ):
            yield Served(server, service, crm, client)


def assert_unavailable(response: httpx2.Response, source: str, served: Served) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == "source_unavailable"
    assert error["details"]["source"] == source and error["details"]["reason"]
    assert source in error["message"]
    assert str(served.service.port) not in response.text  # no URL of the source


@pytest.mark.parametrize("source", list(HOSTILE))
def test_a_hostile_answer_is_the_same_clear_503(served: Served, source: str) -> None:
    started = time.monotonic()
    response = served.get(source, serial="x")
    assert time.monotonic() - started < 2.0
    assert_unavailable(response, source, served)


def test_a_hung_source_holds_only_its_own_requests_and_only_to_its_timeout(
    served: Served,
) -> None:
    waiting = 50  # more than the thread pool's 40 and the 8 lookups a process once ran at once
    service = served.service

    def stuck(n: int) -> tuple[httpx2.Response, float]:
        started = time.monotonic()
        response = served.get("stuck", serial=f"S-{n}")
        return response, time.monotonic() - started

    with ThreadPoolExecutor(waiting) as pool:
        futures = [pool.submit(stuck, n) for n in range(waiting)]
        end = time.monotonic() + HANG_TIMEOUT
        while service.active < waiting and time.monotonic() < end:
            time.sleep(0.02)
        # Every one is waiting on the source at once, none queued behind another ...
        assert service.active >= waiting
        # ... and the server answers everyone else promptly meanwhile: a block without
        # lookup assembled anew (an ``at`` never asked), and one that asks other sources.
        for component, params, words in (
            ("plain", {}, "No data here."),
            ("greeting", {"serial": "HP200-0042"}, "Hello Anna Huber"),
        ):
            started = time.monotonic()
            query = {"locale": "en", "at": "2031-02-03T04:05:06Z"}
            query |= {f"lookup.{k}": v for k, v in params.items()}
            url = f"{served.server.url}/v1/blocks/{component}"
            response = served.client.get(url, params=query)
            # Well before the hung calls' 2 s timeout, with a margin for a busy machine.
            assert time.monotonic() - started < HANG_TIMEOUT / 2
            assert response.status_code == 200 and words in response.text
        answers = [f.result() for f in futures]
    for response, seconds in answers:
        assert_unavailable(response, "hanging", served)
        assert seconds < DEADLINE  # the timeout is 2 s; the margin is for a busy machine


async def _identical(url: str, n: int) -> list[httpx2.Response]:
    limits = httpx2.Limits(max_connections=n)
    async with httpx2.AsyncClient(limits=limits, timeout=10) as client:
        return list(await asyncio.gather(*(client.get(url) for _ in range(n))))


def test_concurrent_identical_lookups_over_http_are_one_call(served: Served) -> None:
    """``gated`` keeps nothing (``cache_ttl`` 0): only coalescing can make 100 requests one
    call. The service holds that call until all of them have had time to arrive."""
    service = served.service
    url = f"{served.server.url}/v1/blocks/gated?locale=en&lookup.serial=C-1"
    answers: list[httpx2.Response] = []
    burst = threading.Thread(target=lambda: answers.extend(asyncio.run(_identical(url, 100))))
    burst.start()
    end = time.monotonic() + 5
    while service.count("/gate/") == 0 and time.monotonic() < end:
        time.sleep(0.01)
    time.sleep(1.0)  # the other 99 arrive and join the call in flight
    service.gate.set()
    burst.join(10)
    assert len(answers) == 100
    assert {(r.status_code, r.text.strip()) for r in answers} == {(200, "<p>Anna Huber</p>")}
    assert service.count("/gate/") == 1


def escaped_segment(value: str) -> str:
    """What the service must receive: the value as one path segment, every reserved
    character percent-escaped (dots alone too, so ``..`` walks up nothing)."""
    return "%2E" * len(value) if set(value) <= {"."} else quote(value, safe="")


@pytest.mark.parametrize(
    "value",
    [
        "' OR '1'='1",
        "x'; DROP TABLE installations; --",
        '"; SELECT 1; --',
        "../../etc/passwd",
        "..",
        "a?b=c&lookup.serial=d",
        "a#fragment",
        "%2e%2e%2f",
        "a b+c",
        "Grüße/ü",
    ],
)
def test_hostile_keys_are_bound_and_escaped_never_spliced(served: Served, value: str) -> None:
    response = served.get("echoes", serial=value)
    assert response.status_code == 200, response.text
    # The SQL source echoes the value it was bound to; the service, the path it received.
    path = f"/echo/{escaped_segment(value)}"
    assert response.text.strip() == f"<p>{escape(path)}|{escape(value)}</p>"
    assert served.service.count(path) >= 1
    missing = served.get("installed", serial=value)
    assert missing.status_code == 404, missing.text
    assert missing.json()["error"]["code"] == "lookup_not_found"
    assert served.crm_rows() == len(CRM_ROWS)


@pytest.mark.parametrize(
    "value",
    ["a\r\nX-Injected: 1", "a\nb", "a\x00b", "x" * 10_240],
    ids=["crlf", "lf", "nul", "10kB"],
)
def test_keys_no_system_of_record_holds_reach_no_source(served: Served, value: str) -> None:
    asked = served.service.count("/echo/")
    response = served.get("echoes", serial=value)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] in ("invalid_context", "unstorable_text")
    assert "X-Injected" not in response.text and "x" * 300 not in response.text
    assert served.service.count("/echo/") == asked
