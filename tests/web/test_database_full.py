"""A full database (``PRAGMA max_page_count``: a full disk on any machine, no root needed)
answers 503 ``database_unavailable`` and writes nothing; the serve-level twin on a real tmpfs
is in ``tests/test_faults.py``."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from content_engine.store import Repository
from tests.web.conftest import Api


def _cap_pages(repository: Repository) -> None:
    """From now on the database cannot grow: every connection stops at its current size."""

    def cap(dbapi_connection: Any, _record: Any) -> None:
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    repository.engine.dispose()
    event.listen(repository.engine, "connect", cap)


def test_a_full_database_writes_nothing_and_answers_503(api: Api) -> None:
    if api.engine.repository.engine.dialect.name != "sqlite":
        pytest.skip("max_page_count is SQLite's")
    component = "/v1/components/product.hp200.overview/variants"
    body = {"body": "<p>" + "x" * 200_000 + "</p>", "status": "published"}
    headers = {**api.auth("editor"), "If-None-Match": "*"}
    revision = api.engine.repository.revision()
    _cap_pages(api.engine.repository)
    answer = api.client.put(f"{component}/big", json=body, headers=headers)
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"]["code"] == "database_unavailable"
    assert "full" in answer.json()["error"]["message"]
    assert api.engine.repository.revision() == revision
    assert api.client.get(f"{component}/big", headers=api.auth("editor")).status_code == 404
