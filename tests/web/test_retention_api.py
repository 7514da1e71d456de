"""web/: ``POST /v1/receipts/purge`` (admin) and a purged receipt read but not replayed (410)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from content_engine.engine import PurgeRequest
from tests.engine.test_retention import library, render_for
from tests.support.apps import Api, app_client
from tests.support.engine_factory import make_engine


@pytest.fixture
def api(db_url: str, tmp_path: Path) -> Iterator[Api]:
    with make_engine(db_url) as engine:
        engine.import_library(library(tmp_path))
        with app_client(engine) as api:
            yield api


def test_replaying_a_purged_receipt_is_410_and_reading_it_shows_no_personal_data(
    api: Api,
) -> None:
    rid = render_for(api.engine)
    api.engine.retention.purge(PurgeRequest(customer="C-1"))
    answer = api.client.post(f"/v1/renders/{rid}/replay", headers=api.auth("agent"))
    assert answer.status_code == 410
    assert answer.json()["error"]["code"] == "receipt_purged"
    assert answer.json()["error"]["details"]["id"] == rid
    read = api.client.get(f"/v1/renders/{rid}", headers=api.auth("agent"))
    assert read.status_code == 200 and read.json()["purged_at"]
    assert "Anna" not in json.dumps(read.json()) and "C-1" not in json.dumps(read.json())


def test_an_admin_purges_a_customers_receipts_over_http(api: Api) -> None:
    rid = render_for(api.engine)
    other = render_for(api.engine, customer={"id": "C-2", "name": "Bob"})
    url, admin = "/v1/receipts/purge", api.auth("admin")
    assert (
        api.client.post(url, json={"customer": "C-1"}, headers=api.auth("editor")).status_code
        == 403
    )
    dry = api.client.post(url, json={"customer": "C-1", "dry_run": True}, headers=admin)
    assert dry.json() == {"purged": 1, "dry_run": True}
    assert api.engine.receipt(rid).purged_at is None
    assert api.client.post(url, json={"customer": "C-1"}, headers=admin).json()["purged"] == 1
    assert api.engine.receipt(rid).purged_at is not None
    assert api.engine.receipt(other).purged_at is None
    refused = api.client.post(url, json={}, headers=admin)
    assert (
        refused.status_code == 400 and "no retention is set" in refused.json()["error"]["message"]
    )
    for bad in ({"older_than_days": -1}, {"customer": ""}, {"customer": "x" * 257}, {"all": 1}):
        assert api.client.post(url, json=bad, headers=admin).status_code == 422, bad
    aged = api.client.post(url, json={"older_than_days": 0}, headers=admin)
    assert aged.json() == {"purged": 1, "dry_run": False}
