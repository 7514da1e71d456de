"""Benchmark 2b: one customer's block, ``POST /v1/blocks``, against a hand-written FastAPI route.

In: a database holding the sample library (``components/``) and a reader key. Out: requests/s,
p50 and p99 of ``content-engine serve`` answering ``POST /v1/blocks`` for
``service.customer-summary`` with a customer and product nobody asked for before on every
request (a service agent's screen: no stored answer, no cached block can serve it), and the same
of ``customer_app.py``, the hand-written route, under the same uvicorn settings and the same wrk
load, in alternating runs; medians over the runs. Both get the same JSON bodies from the same
wrk script; before the load, one body is sent to both and the two HTML answers compared (ours
leaves out the cells the reader's region drops, so only the text shared must match). Ours
runs its default event loop (asyncio's); a third server, ours under ``--loop uvloop``, is
measured in the same rounds, to show the loop's part in the tail (docs/servers.md).
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.http_block import WrkResult, ours_cmd, wait_ready, wrk
from benchmarks.measure import ROOT, free_port, log, process

COMPONENT = "service.customer-summary"
BODY_FILE = ROOT / "components" / "service" / COMPONENT / "default.html"

# A new customer, serial number and price on every request, counted from a start that differs
# between runs (wrk starts each run's counter afresh), so no two requests of a benchmark share
# one: the answer depends on them and neither side can have it stored.
NEW_CUSTOMER_LUA = r"""
counter = (os.time() % 100000) * 100000
-- Headers given to ``wrk.format`` would replace the ones on the command line (the key).
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  local body = string.format(
    '{"components":["COMPONENT"],"context":{"locale":"de-AT","region":"AT",'
    .. '"role":"service-agent","customer":{"id":"C%09d","name":"Kundin %d",'
    .. '"address":"Hauptstra\\u00dfe %d, 1010 Wien"},"product":{"model":"HP200",'
    .. '"serial":"HP200-%09d","installed_on":"2024-03-01","price":%d.5,'
    .. '"warranty_until":"2029-03-01"}}}',
    counter, counter, counter % 300 + 1, counter, 9000 + counter % 5000)
  return wrk.format("POST", "/v1/blocks", nil, body)
end
""".replace("COMPONENT", COMPONENT)


def sample_body(n: int = 7) -> bytes:
    """The JSON the Lua script sends for counter ``n``."""
    return json.dumps(
        {
            "components": [COMPONENT],
            "context": {
                "locale": "de-AT",
                "region": "AT",
                "role": "service-agent",
                "customer": {
                    "id": f"C{n:09d}",
                    "name": f"Kundin {n}",
                    "address": f"Hauptstraße {n % 300 + 1}, 1010 Wien",
                },
                "product": {
                    "model": "HP200",
                    "serial": f"HP200-{n:09d}",
                    "installed_on": "2024-03-01",
                    "price": 9000 + n % 5000 + 0.5,
                    "warranty_until": "2029-03-01",
                },
            },
        }
    ).encode()


@dataclass
class CustomerComparison:
    ours: list[WrkResult] = field(default_factory=list)
    bare: list[WrkResult] = field(default_factory=list)
    # Ours under ``serve --loop uvloop``: the event loop's part in the tail, in the same run.
    uvloop: list[WrkResult] = field(default_factory=list)

    def median(self, side: str, attribute: str) -> float:
        return statistics.median(getattr(r, attribute) for r in getattr(self, side))

    def bad(self) -> int:
        return sum(r.bad for r in self.ours + self.bare + self.uvloop)


def post(url: str, key: str, body: bytes) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url,
        data=body,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.read()


def bare_cmd(port: int) -> list[str]:
    # As a developer runs uvicorn: loop and http "auto" (uvloop, httptools), no access log.
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "benchmarks.customer_app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "info",
        "--no-access-log",
    ]


def _text(html: str) -> list[str]:
    """The words of an answer's HTML, tags left out: what both sides must show alike."""
    return re.sub(r"<[^>]+>", " ", html).split()


def check_same(ours: bytes, bare: bytes) -> None:
    """Our block and the hand-written one show the same text for the same customer (ours drops
    the price cells for other regions, so the bare one's words must include ours in order)."""
    mine = _text(json.loads(ours)[0]["html"])
    theirs = iter(_text(json.loads(bare)[0]["html"]))
    if not all(word in theirs for word in mine):
        raise RuntimeError(f"the hand-written route renders other text:\n{ours!r}\n{bare!r}")


def compare(
    db_url: str,
    key: str,
    work: Path,
    *,
    runs: int,
    seconds: float,
    warmup: float,
    connections: int,
) -> CustomerComparison:
    """The servers up at once (idle while another is loaded), wrk runs alternating: ours (its
    default event loop), the hand-written route and ours under ``--loop uvloop``."""
    result = CustomerComparison()
    script = work / "new-customer.lua"
    script.write_text(NEW_CUSTOMER_LUA, encoding="utf-8")
    with ExitStack() as stack:
        ports = {side: free_port() for side in ("ours", "bare", "uvloop")}
        urls = {side: f"http://127.0.0.1:{port}" for side, port in ports.items()}
        env = {"CE_BENCH_CUSTOMER_BODY": str(BODY_FILE), "CE_BENCH_LOCALES": str(ROOT / "locales")}
        uvloop = [*ours_cmd(ports["uvloop"], 1, db_url), "--loop", "uvloop"]
        commands = {
            "ours": (ours_cmd(ports["ours"], 1, db_url), "/healthz", None),
            "bare": (bare_cmd(ports["bare"]), "/docs", env),
            "uvloop": (uvloop, "/healthz", None),
        }
        for side, (command, ready, extra) in commands.items():
            logfile = work / f"serve-customer-{side}.log"
            server = stack.enter_context(process(command, log=logfile, env=extra))
            wait_ready(urls[side] + ready, key, server, logfile)
        answers = {}
        for side, url in urls.items():
            status, answers[side] = post(url + "/v1/blocks", key, sample_body())
            if status != 200:
                raise RuntimeError(f"{side}: POST /v1/blocks answered {status}")
        check_same(answers["ours"], answers["bare"])
        check_same(answers["uvloop"], answers["bare"])
        if warmup > 0:
            for url in urls.values():
                wrk(url + "/v1/blocks", key, warmup, connections, script)
        for n in range(runs):
            order = list(urls.items())
            for side, url in order if n % 2 == 0 else order[::-1]:
                measured = wrk(url + "/v1/blocks", key, seconds, connections, script)
                getattr(result, side).append(measured)
                log(
                    f"customer {side}: {measured.rps:,.0f} req/s "
                    f"p50 {measured.p50 * 1e3:.2f} ms p99 {measured.p99 * 1e3:.2f} ms"
                )
    return result


__all__ = ["COMPONENT", "CustomerComparison", "compare", "sample_body"]
