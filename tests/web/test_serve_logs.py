"""A real ``serve`` process's log on stderr: with ``--log-format json`` every line is one JSON
object (uvicorn's own lines and ours), access lines carry the route, status, duration and the
request id the client sent or got; text lines name the request id too. Also ``/readyz`` and
``/metrics`` over a socket, as a load balancer and a scraper reach them."""

from __future__ import annotations

import json
from pathlib import Path

import httpx2
import pytest

from tests.support.engine_factory import SAMPLE
from tests.support.servers import cli, serve

pytestmark = pytest.mark.slow

BLOCK = "/v1/blocks/snippet.hotline"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    cli("import", str(SAMPLE), "--db", url, cwd=tmp_path)
    return url


def test_json_log_lines_parse_and_name_their_request(db_url: str, tmp_path: Path) -> None:
    extra = ("--log-format", "json", "--access-log", "--metrics-public")
    with serve(db_url, tmp_path, *extra) as server, httpx2.Client(base_url=server.url) as http:
        assert http.get("/readyz").json() == {"ready": True}
        refused = http.get(BLOCK, params={"locale": "en"}, headers={"X-Request-ID": "lb-1"})
        assert refused.status_code == 401
        assert refused.headers["x-request-id"] == "lb-1"
        assert refused.json()["error"]["request_id"] == "lb-1"
        ours = http.get("/nowhere/%0D%0Aforged", headers={"X-Request-ID": "a\tb"})
        metrics = http.get("/metrics")
        assert metrics.status_code == 200
        assert 'route="/v1/blocks/{component}"' in metrics.text
    lines = [line for line in server.log().splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line, or this fails
    assert all({"time", "level", "logger", "message", "request_id"} <= set(e) for e in entries)
    assert any(e["logger"].startswith("uvicorn") for e in entries)  # the server's own lines
    assert any("content-engine on http://" in e["message"] for e in entries)
    access = {e["request_id"]: e for e in entries if e["logger"] == "content_engine.access"}
    line = access["lb-1"]
    assert (line["route"], line["status"], line["method"]) == ("/v1/blocks/{component}", 401, "GET")
    assert line["path"] == BLOCK  # never the query
    assert line["duration_ms"] > 0
    other = access[ours.headers["x-request-id"]]
    assert (other["route"], other["status"]) == ("none", 404)
    assert other["path"] == "/nowhere/\r\nforged"  # escaped by JSON: still one line
    assert "a\tb" not in access


def test_text_log_lines_name_the_request_id(db_url: str, tmp_path: Path) -> None:
    with (
        serve(db_url, tmp_path, "--access-log") as server,
        httpx2.Client(base_url=server.url) as http,
    ):
        http.get(BLOCK, params={"locale": "en"}, headers={"X-Request-ID": "trace-9"})
        http.get("/nowhere/%0Aforged INFO x")
        assert http.get("/metrics").status_code == 401  # an admin key unless public
    log = server.log()
    (line,) = [line for line in log.splitlines() if "[trace-9]" in line]
    assert "content_engine.access" in line and f"GET {BLOCK} 401" in line
    assert not any(line.startswith("forged") for line in log.splitlines())
    assert "/nowhere/\\x0aforged" in log
