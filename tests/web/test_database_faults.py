"""Faults of a SQLite database in-process, on any machine (no root needed): full
(``PRAGMA max_page_count``) and read-only (``PRAGMA query_only``) answer 503
``database_unavailable``, write nothing, and recover when the fault ends. The serve-level
twins on real file systems are in ``tests/scenarios/test_faults.py``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event

from content_engine.store import Repository
from tests.support.apps import Api

COMPONENT = "/v1/components/product.hp200.overview/variants"
BLOCK = "/v1/blocks/product.hp200.overview?locale=fr"


def _on_every_connection(
    repository: Repository, pragma: Callable[[Any], None]
) -> Callable[[], None]:
    """Apply ``pragma`` to every connection from now on; the function that stops it."""
    repository.engine.dispose()
    event.listen(repository.engine, "connect", pragma)

    def stop() -> None:
        event.remove(repository.engine, "connect", pragma)
        repository.engine.dispose()

    return stop


def _cap_pages(repository: Repository) -> Callable[[], None]:
    """From now on the database cannot grow: every connection stops at its current size."""

    def cap(dbapi_connection: Any, _record: Any) -> None:
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    return _on_every_connection(repository, cap)


def _read_only(repository: Repository) -> Callable[[], None]:
    def query_only(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA query_only = ON")

    return _on_every_connection(repository, query_only)


def test_a_read_only_database_refuses_writes_serves_reads_and_recovers(api: Api) -> None:
    if api.engine.repository.engine.dialect.name != "sqlite":
        pytest.skip("query_only is SQLite's")
    body = {"body": "<p>x</p>", "status": "published"}
    headers = {**api.auth("editor"), "If-None-Match": "*"}
    stop = _read_only(api.engine.repository)
    answer = api.client.put(f"{COMPONENT}/ro", json=body, headers=headers)
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"]["code"] == "database_unavailable"
    assert "read-only" in answer.json()["error"]["message"]
    assert answer.headers["retry-after"].isdigit()
    rendered = api.client.post(
        "/v1/render",
        json={"publication": "brochure.hp200", "context": {"locale": "fr"}},
        headers=api.auth("reader"),
    )
    assert rendered.status_code == 503  # its receipt cannot be stored: no answer without one
    assert api.client.get(BLOCK, headers=api.auth("reader")).status_code == 200
    assert api.client.get("/healthz").status_code == 200
    stop()
    assert api.client.put(f"{COMPONENT}/ro", json=body, headers=headers).status_code == 201


def test_a_full_database_writes_nothing_and_answers_503(api: Api) -> None:
    if api.engine.repository.engine.dialect.name != "sqlite":
        pytest.skip("max_page_count is SQLite's")
    body = {"body": "<p>" + "x" * 200_000 + "</p>", "status": "published"}
    headers = {**api.auth("editor"), "If-None-Match": "*"}
    revision = api.engine.repository.revision()
    stop = _cap_pages(api.engine.repository)
    answer = api.client.put(f"{COMPONENT}/big", json=body, headers=headers)
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"]["code"] == "database_unavailable"
    assert "full" in answer.json()["error"]["message"]
    assert api.engine.repository.revision() == revision
    assert api.client.get(f"{COMPONENT}/big", headers=api.auth("editor")).status_code == 404
    stop()
    assert api.client.put(f"{COMPONENT}/big", json=body, headers=headers).status_code == 201
