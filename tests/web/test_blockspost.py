"""``POST /v1/blocks``' fast path (``web.blockspost``): the route's answers, without its routing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from content_engine.web import blockspost
from content_engine.web.blockspost import SHORT_SECONDS, BlocksFastPath, ShortWork
from tests.support.apps import Api, fast_and_routed

SUMMARY = "service.customer-summary"


def context(name: str = "Anna Huber", **extra: Any) -> dict[str, Any]:
    return {
        "locale": "de-AT",
        "region": "AT",
        "role": "service-agent",
        "customer": {"name": name, "address": "Ring 1, Wien"},
        "product": {"model": "HP200", "serial": "HP200-0042", "price": 12990.5},
        **extra,
    }


@pytest.fixture
def pair(sample_db_url: str) -> Iterator[tuple[Api, Api]]:
    """The app with its fast path and without it, on one engine, with the same keys."""
    with fast_and_routed(sample_db_url, BlocksFastPath) as apps:
        yield apps


@pytest.fixture
def answered(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per answer the fast path gave itself."""
    seen: list[int] = []
    respond = blockspost.blocks_response

    def spy(*args: Any) -> Any:
        seen.append(1)
        return respond(*args)

    monkeypatch.setattr(blockspost, "blocks_response", spy)
    return seen


def asking(*components: str, ctx: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {"components": list(components or [SUMMARY]), "context": ctx or context(), **extra}


CASES: list[tuple[str, dict[str, Any] | bytes, str, str]] = [
    ("ok", asking(), "reader", ""),
    ("ok, twice", asking(SUMMARY, SUMMARY, ctx=context("B")), "reader", ""),
    ("one error in place", asking(SUMMARY, "service.call-script"), "reader", ""),
    ("unknown component", asking("nope"), "reader", ""),
    ("preview, reader", asking(preview=True), "reader", ""),
    ("preview, editor", asking(preview=True), "editor", ""),
    ("strict, unknown role", asking(ctx=context(role="x"), strict=True), "reader", ""),
    ("invalid context", asking(ctx={"locale": 3}), "reader", ""),
    ("unknown field", asking(extra=1), "reader", ""),
    ("NUL in the customer", asking(ctx=context("a\u0000b")), "reader", ""),
    ("lone surrogate", b'{"components": ["x"], "context": {"locale": "de\\ud800"}}', "reader", ""),
    ("not JSON", b'{"components": [', "reader", ""),
    ("a query string", asking(), "reader", "?locale=de"),
    ("no key", asking(), "", ""),
]


@pytest.mark.parametrize(("case", "body", "role", "query"), CASES, ids=[c[0] for c in CASES])
def test_same_answers_as_the_route(
    pair: tuple[Api, Api], case: str, body: dict[str, Any] | bytes, role: str, query: str
) -> None:
    fast, routed = pair
    answers = []
    for api in (routed, fast, fast):  # the first request verifies the key: it meets the route
        headers = {**(api.auth(role) if role else {}), "Content-Type": "application/json"}
        headers["X-Request-ID"] = "same-request"  # else each answer names its own in errors
        content = body if isinstance(body, bytes) else None
        data = None if isinstance(body, bytes) else body
        answers.append(
            api.client.post(f"/v1/blocks{query}", json=data, content=content, headers=headers)
        )
    for response in answers[1:]:
        assert response.status_code == answers[0].status_code, (case, response.text)
        assert response.json() == answers[0].json()
        for name in ("content-type", "cache-control", "retry-after", "www-authenticate"):
            assert response.headers.get(name) == answers[0].headers.get(name)


def test_answered_here_once_the_key_is_known(pair: tuple[Api, Api], answered: list[int]) -> None:
    fast, _ = pair
    headers = fast.auth("reader")
    names = [f"Kundin {n}" for n in range(4)]
    htmls = []
    for name in names:
        response = fast.client.post(
            "/v1/blocks", json={"components": [SUMMARY], "context": context(name)}, headers=headers
        )
        assert response.status_code == 200
        assert response.headers["cache-control"] == "private, no-store"
        htmls.append(response.json()[0]["html"])
    assert len(answered) == len(names) - 1  # all but the first, which verified the key
    for name, html in zip(names, htmls, strict=True):
        # Each customer sees their own data, never the previous reader's block.
        assert f"<h2>{name}</h2>" in html
        assert sum(f"<h2>{other}</h2>" in html for other in names) == 1
    preview = fast.client.post(
        "/v1/blocks",
        json={"components": [SUMMARY], "context": context(), "preview": True},
        headers=headers,
    )
    assert preview.status_code == 403
    assert len(answered) == len(names) - 1  # the route refused it


def spy_on_the_pool(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The functions the route sends to the thread pool, as it sends them."""
    pooled: list[object] = []
    run_in_threadpool = blockspost.run_in_threadpool

    async def spy(fn: Any, *args: Any, **kwargs: Any) -> Any:
        pooled.append(fn)
        return await run_in_threadpool(fn, *args, **kwargs)

    monkeypatch.setattr(blockspost, "run_in_threadpool", spy)
    return pooled


def test_only_short_known_work_runs_in_the_event_loop(
    pair: tuple[Api, Api], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, _ = pair
    pooled = spy_on_the_pool(monkeypatch)
    headers = fast.auth("reader")
    body = {"components": [SUMMARY], "context": context()}
    for _ in range(3):
        assert fast.client.post("/v1/blocks", json=body, headers=headers).status_code == 200
    # The first met the route (key unknown); the second was a first sight here: the pool.
    assert len(pooled) == 1
    looked_up = {"components": [SUMMARY], "context": context(lookup={"serial": "HP200-0042"})}
    assert fast.client.post("/v1/blocks", json=looked_up, headers=headers).status_code == 200
    assert len(pooled) == 2  # data sources are I/O
    long_text = {"components": [SUMMARY], "context": context("x" * 65)}
    assert fast.client.post("/v1/blocks", json=long_text, headers=headers).status_code == 200
    assert len(pooled) == 3  # a segment rule's pattern costs in proportion to the text
    assert fast.client.post("/v1/blocks", json=body, headers=headers).status_code == 200
    assert len(pooled) == 3


def test_waiting_for_a_thread_does_not_count_as_the_works_time(
    pair: tuple[Api, Api], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under load a hop to the thread pool waits longer than ``SHORT_SECONDS`` (for a thread,
    for the GIL): what is learnt is the assembly's own time, so short work still comes back
    to the event loop."""
    import asyncio

    fast, _ = pair
    pooled: list[object] = []
    run_in_threadpool = blockspost.run_in_threadpool

    async def busy_pool(fn: Any, *args: Any, **kwargs: Any) -> Any:
        pooled.append(fn)
        await asyncio.sleep(SHORT_SECONDS * 4)  # a busy machine's wait for a thread
        return await run_in_threadpool(fn, *args, **kwargs)

    monkeypatch.setattr(blockspost, "run_in_threadpool", busy_pool)
    headers = fast.auth("reader")
    body = {"components": [SUMMARY], "context": context()}
    for _ in range(4):
        assert fast.client.post("/v1/blocks", json=body, headers=headers).status_code == 200
    assert len(pooled) == 1  # the first sight here; then the loop


def test_short_work_is_learnt_per_component() -> None:
    short = ShortWork(limit=3)
    assert not short.all_short(["a"])
    short.learn(["a", "b"], SHORT_SECONDS / 2)
    assert short.all_short(["a", "b"]) and not short.all_short(["a", "c"])
    short.learn(["b"], SHORT_SECONDS * 10)
    assert short.all_short(["a"]) and not short.all_short(["b"])
    short.learn(["c", "d"], 0.0)  # full: starts again, bounded
    assert short.all_short(["c", "d"]) and not short.all_short(["a"])


def test_waiting_for_the_gil_in_the_loop_does_not_count_as_the_works_time(
    pair: tuple[Api, Api], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An assembly in the event loop that waits (behind the refresher's thread for the GIL,
    here a sleep) is still short: only the thread's CPU time is learnt. Timed by the wall
    clock, one such wait had sent every request in flight to the thread pool together."""
    import time

    fast, _ = pair
    pooled = spy_on_the_pool(monkeypatch)
    headers = fast.auth("reader")
    body = {"components": [SUMMARY], "context": context()}
    for _ in range(2):  # the route (key unknown), then the pool (first sight here)
        assert fast.client.post("/v1/blocks", json=body, headers=headers).status_code == 200
    assert len(pooled) == 1
    engine = fast.client.app.state.engine  # type: ignore[attr-defined]
    blocks = engine.blocks

    def waiting(*args: Any, **kwargs: Any) -> Any:
        time.sleep(SHORT_SECONDS * 4)
        return blocks(*args, **kwargs)

    monkeypatch.setattr(engine, "blocks", waiting)
    for _ in range(3):
        assert fast.client.post("/v1/blocks", json=body, headers=headers).status_code == 200
    assert len(pooled) == 1
