"""API keys remember when they were last used, without the request path writing for it.

A use is noted in memory and written with the next lookup or re-verification, at most once a
minute per key: many requests with one key write its ``last_used_at`` once.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from content_engine.store import Repository
from tests.support.apps import Api

BLOCK = "/v1/blocks/product.hp200.overview?locale=fr"


def last_used(repository: Repository, name: str) -> datetime | None:
    return next(k for k in repository.list_keys() if k.name == name).last_used_at


def test_a_used_key_is_marked_once_a_minute(api: Api) -> None:
    repository = api.engine.repository
    assert last_used(repository, "test reader") is None  # created, never used
    before = datetime.now(UTC)
    first = None
    deadline = time.monotonic() + 30
    while first is None:  # written by the refresher, off the request path
        assert api.client.get(BLOCK, headers=api.auth("reader")).status_code == 200
        first = last_used(repository, "test reader")
        assert time.monotonic() < deadline, "the use was never written"
        time.sleep(0.05)
    assert first >= before - timedelta(seconds=1)
    for _ in range(30):  # more uses within the minute change nothing
        assert api.client.get(BLOCK, headers=api.auth("reader")).status_code == 200
    api.client.app.state.keys.reverify()  # type: ignore[attr-defined]
    assert last_used(repository, "test reader") == first
    assert last_used(repository, "test editor") is None  # only the key that was used


def test_mark_keys_used_writes_at_most_once_a_minute(api: Api) -> None:
    repository = api.engine.repository
    info = next(k for k in repository.list_keys() if k.name == "test agent")
    now = datetime.now(UTC)
    assert repository.mark_keys_used([info.id], now) == 1
    assert repository.mark_keys_used([info.id], now + timedelta(seconds=59)) == 0
    assert last_used(repository, "test agent") == now
    later = now + timedelta(seconds=60)
    assert repository.mark_keys_used([info.id, info.id, "000000000000"], later) == 1
    assert last_used(repository, "test agent") == later
    assert repository.mark_keys_used([]) == 0
    revision = repository.revision()
    writes = repository.local_writes
    repository.mark_keys_used([info.id], later + timedelta(minutes=5))
    assert (repository.revision(), repository.local_writes) == (revision, writes)  # no cache moves
