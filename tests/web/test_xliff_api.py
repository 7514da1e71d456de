"""XLIFF and drift over HTTP (CONTRACT 10): the editor's routes, their errors in the project's
error body, and the workbench's list of stale translations with "mark in sync"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from content_engine.engine.translation import schema_errors
from tests.scenarios.test_xliff import LIBRARY, PRIVACY, _break, translate
from tests.support.apps import Api, app_client
from tests.support.engine_factory import make_engine, write_files
from tests.web.test_touchpoints import assert_error

XLIFF = {"Content-Type": "application/xliff+xml"}


@pytest.fixture
def api(db_url: str, tmp_path: Path) -> Iterator[Api]:
    with make_engine(db_url) as engine:
        engine.import_library(write_files(tmp_path / "library", LIBRARY))
        with app_client(engine) as api:
            yield api


def test_export_import_and_drift_over_http(api: Api) -> None:
    editor = api.auth("editor")
    got = api.client.get("/v1/xliff", params={"locale": "fr"}, headers=editor)
    assert got.status_code == 200 and got.headers["content-type"].startswith(
        "application/xliff+xml"
    )
    assert got.headers["x-units"] == "1" and schema_errors(got.content) == []
    old = api.client.get("/v1/xliff", params={"locale": "fr", "version": "1.2"}, headers=editor)
    assert b"urn:oasis:names:tc:xliff:document:1.2" in old.content

    broken = _break(translate(got.content), "missing")
    refused = api.client.post("/v1/xliff", content=broken, headers={**editor, **XLIFF})
    error = assert_error(refused, 422, "invalid_xliff")
    assert "legal.privacy:fr:en:1" in error["message"] and error["details"][0]["line"]

    wrong_type = api.client.post(
        "/v1/xliff", content=b"<x/>", headers={**editor, "Content-Type": "text/plain"}
    )
    assert_error(wrong_type, 415, "unsupported_media_type")
    hostile = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    assert_error(
        api.client.post("/v1/xliff", content=hostile, headers={**editor, **XLIFF}),
        422,
        "invalid_xliff",
    )
    assert_error(
        api.client.get("/v1/xliff", params={"locale": "en"}, headers=editor), 400, "bad_input"
    )

    stored = api.client.post(
        "/v1/xliff",
        params={"locale": "fr"},
        content=translate(got.content),
        headers={**editor, **XLIFF},
    )
    assert stored.status_code == 200, stored.text
    assert stored.json() == {"saved": {"legal.privacy/fr": 1}, "untranslated": []}
    engine = api.engine
    engine.editor.set_status(PRIVACY, "fr", "published", expected_version=1)
    en = engine.editor.get_variant(PRIVACY, "en")
    engine.editor.save_variant(
        PRIVACY, en.model_copy(update={"body": en.body + "<p>New.</p>"}), expected_version=1
    )

    lint = api.client.get("/v1/lint", headers=editor).json()["problems"]
    assert (
        [p["code"] for p in lint if p["variant"] == "fr"] == ["stale_translation"]
        if lint
        else False
    )
    stale = api.client.get("/v1/translations/stale", params={"locale": "fr"}, headers=editor).json()
    assert stale == {
        "stale": [
            {
                "component": PRIVACY,
                "variant": "fr",
                "locale": "fr",
                "source": "en",
                "recorded": 1,
                "live": 2,
            }
        ]
    }
    url = f"/v1/components/{PRIVACY}/variants/fr/sync"
    assert_error(api.client.post(url, headers={**editor, "If-Match": '"1"'}), 412, "conflict")
    synced = api.client.post(url, headers={**editor, "If-Match": '"2"'})
    assert synced.status_code == 200, synced.text
    assert api.client.get("/v1/translations/stale", headers=editor).json() == {"stale": []}


def test_readers_may_not_touch_translations(api: Api) -> None:
    reader = api.auth("reader")
    assert_error(
        api.client.get("/v1/xliff", params={"locale": "fr"}, headers=reader), 403, "forbidden"
    )
    assert_error(
        api.client.post("/v1/xliff", content=b"<x/>", headers={**reader, **XLIFF}), 403, "forbidden"
    )
