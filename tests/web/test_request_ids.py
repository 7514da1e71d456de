"""Request ids: a client's safe ``X-Request-ID`` is echoed, any other replaced by ours; every
answer carries it, every error body names it, every log line of the request says it, the ones
logged in the thread pool included; log lines escape what a client sent."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from content_engine.engine import ACCESS_LOGGER
from content_engine.engine.logs import JsonFormatter, RequestIdFilter, TextFormatter
from content_engine.web import create_app
from content_engine.web.observe import SAFE_ID, given_id
from tests.support.apps import Api

BLOCK = "/v1/blocks/snippet.hotline?locale=en"
OURS = re.compile(r"[0-9a-f]{12}-[0-9a-f]+")


@given(st.binary(max_size=100) | st.text(max_size=80).map(str.encode))
def test_a_client_id_is_taken_only_when_short_and_safe(raw: bytes) -> None:
    taken = given_id([(b"x-request-id", raw)])
    safe = 1 <= len(raw) <= 64 and all(chr(b) in SAFE_CHARS for b in raw)
    assert taken == (raw if safe else None)


SAFE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:+=/-")


def test_two_ids_are_none() -> None:
    assert given_id([(b"x-request-id", b"a"), (b"x-request-id", b"a")]) is None
    assert given_id([(b"X-Request-ID", b"upper")]) == b"upper"
    assert SAFE_ID.fullmatch(b"a" * 65) is None


def test_every_answer_names_its_request(api: Api) -> None:
    reader = api.auth("reader")
    ids = set()
    for path in (BLOCK, BLOCK, BLOCK, "/healthz", "/nowhere", "/", "/static/nothing.css"):
        response = api.client.get(path, headers=reader)
        assert OURS.fullmatch(response.headers["x-request-id"]), path
        ids.add(response.headers["x-request-id"])
    assert len(ids) == 7  # the fast path's answers too: each its own


def test_a_safe_client_id_is_echoed_in_the_header_and_the_error(api: Api) -> None:
    sent = "lb-7f3a:2c/9e+1=="
    ok = api.client.get(BLOCK, headers={**api.auth("reader"), "X-Request-ID": sent})
    assert ok.headers["x-request-id"] == sent
    refused = api.client.get(BLOCK, headers={"X-Request-ID": sent})
    assert refused.status_code == 401
    assert refused.headers["x-request-id"] == sent
    assert refused.json()["error"]["request_id"] == sent


def raw_request(
    api: Api, headers: list[tuple[bytes, bytes]]
) -> tuple[int, dict[bytes, bytes], Any]:
    """A GET through the ASGI app with exactly these header bytes (no client library would
    send a CR, LF or NUL in a header)."""
    sent: list[dict[str, Any]] = []

    async def call() -> None:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/v1/blocks/nope",
            "raw_path": b"/v1/blocks/nope",
            "query_string": b"locale=en",
            "root_path": "",
            "headers": [(b"host", b"testserver"), *headers],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "state": {},
        }

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await api.client.app(scope, receive, send)

    portal = api.client.portal
    assert portal is not None
    portal.call(call)
    start = sent[0]
    body = json.loads(b"".join(m.get("body", b"") for m in sent[1:]))
    return start["status"], dict(start["headers"]), body


HOSTILE = [
    b"abc\r\nSet-Cookie: x=1",
    b"abc\nforged log line",
    b"a\x00b",
    b"x" * 10_000,
    b"x" * 65,
    b"",
    b"caf\xc3\xa9",
    b"<script>alert(1)</script>",
    b"\x1b[31mred",
    b"a b",
]


@pytest.mark.parametrize("hostile", HOSTILE, ids=lambda v: repr(v[:20]))
def test_a_hostile_id_is_replaced_never_echoed(api: Api, hostile: bytes) -> None:
    status, headers, body = raw_request(api, [(b"x-request-id", hostile)])
    assert status == 401
    ours = headers[b"x-request-id"]
    assert OURS.fullmatch(ours.decode())
    assert body["error"]["request_id"] == ours.decode()
    assert hostile not in json.dumps(body).encode() or hostile == b""


IDS = (
    st.binary(max_size=200)
    | st.from_regex(rb"[A-Za-z0-9._:+=/-]{1,70}", fullmatch=True)
    | st.text(max_size=70).map(str.encode)
)


def test_any_id_is_echoed_only_when_safe(api: Api) -> None:
    @settings(max_examples=60, deadline=None)
    @given(IDS)
    def check(sent: bytes) -> None:
        status, headers, body = raw_request(api, [(b"x-request-id", sent)])
        answered = headers[b"x-request-id"]
        assert status == 401
        assert body["error"]["request_id"] == answered.decode()
        if SAFE_ID.fullmatch(sent):
            assert answered == sent
        else:
            assert OURS.fullmatch(answered.decode())

    check()


def test_two_copies_of_an_id_are_replaced(api: Api) -> None:
    status, headers, _ = raw_request(api, [(b"x-request-id", b"one"), (b"x-request-id", b"two")])
    assert status == 401
    assert OURS.fullmatch(headers[b"x-request-id"].decode())


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.addFilter(RequestIdFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def records() -> Iterator[Records]:
    handler = Records()
    logger = logging.getLogger("content_engine")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_every_log_line_of_a_request_names_it_threads_included(
    api: Api, records: Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocks = api.engine.blocks

    def logged_blocks(*args: Any, **kwargs: Any) -> Any:  # runs in the thread pool
        logging.getLogger("content_engine.engine").warning("assembling in a thread")
        return blocks(*args, **kwargs)

    monkeypatch.setattr(api.engine, "blocks", logged_blocks)
    settings_ = dataclasses.replace(api.engine.settings, access_log=True)
    with TestClient(create_app(settings_, engine=api.engine)) as client:
        body = {"context": {"locale": "en"}, "components": ["snippet.hotline"]}
        headers = {**api.auth("reader"), "X-Request-ID": "trace-42"}
        assert client.post("/v1/blocks", json=body, headers=headers).status_code == 200
        client.get("/v1/blocks/x%0Ay", headers={"X-Request-ID": "trace-43"})
    warned = [r for r in records.records if r.getMessage() == "assembling in a thread"]
    assert [r.request_id for r in warned] == ["trace-42"]  # type: ignore[attr-defined]
    access = [r for r in records.records if r.name == ACCESS_LOGGER]
    assert [(r.request_id, r.route, r.status) for r in access] == [  # type: ignore[attr-defined]
        ("trace-42", "/v1/blocks", 200),
        ("trace-43", "/v1/blocks/{component}", 401),
    ]
    assert all(r.duration_ms > 0 for r in access)  # type: ignore[attr-defined]
    # A hostile path stays one line in either format.
    hostile = access[1]
    text = TextFormatter().format(hostile)
    assert "\n" not in text and "x\\x0ay" in text and "[trace-43]" in text
    entry = json.loads(JsonFormatter().format(hostile))
    assert entry["path"] == "/v1/blocks/x\ny"
    assert entry["request_id"] == "trace-43"
    assert set(entry) >= {"time", "level", "logger", "message", "route", "status", "duration_ms"}


def test_no_access_lines_unless_asked(api: Api, records: Records) -> None:
    api.client.get(BLOCK, headers=api.auth("reader"))
    assert not [r for r in records.records if r.name == ACCESS_LOGGER]


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=300))
def test_a_text_line_is_one_line_whatever_the_message(message: str) -> None:
    record = logging.LogRecord("content_engine.web", logging.WARNING, "", 0, message, (), None)
    RequestIdFilter().filter(record)
    line = TextFormatter().format(record)
    assert len(line.splitlines()) == 1 or not line.splitlines()
    assert not any(0 < ord(c) < 0x20 for c in line)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == message
    assert entry["request_id"] is None
