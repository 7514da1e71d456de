"""The workbench's stale translations by locale, with what changed and "mark in sync"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.scenarios.test_xliff import LIBRARY, PRIVACY, translate
from tests.support.apps import Api, app_client
from tests.support.engine_factory import make_engine, write_files
from tests.web.ui.conftest import Workbench


@pytest.fixture
def api(db_url: str, tmp_path: Path) -> Iterator[Api]:
    with make_engine(db_url) as engine:
        engine.import_library(write_files(tmp_path / "library", LIBRARY))
        engine.translations.import_xliff(translate(engine.translations.export("fr")[0]))
        engine.editor.set_status(PRIVACY, "fr", "published", expected_version=1)
        en = engine.editor.get_variant(PRIVACY, "en")
        edited = en.model_copy(update={"body": en.body.replace("30 days", "31 days")})
        engine.editor.save_variant(PRIVACY, edited, expected_version=1)
        with app_client(engine) as api:
            yield api


def test_stale_translations_are_listed_and_marked_in_sync(bench: Workbench) -> None:
    page = bench.get("/translations")
    assert page.status_code == 200
    assert f"{PRIVACY}/fr" in page.text and "[-30-] {+31+}" in page.text
    assert 'aria-current="page">Translations' in page.text
    stale = bench.post(
        f"/components/{PRIVACY}/variants/fr/sync", {"version": "1"}, page="/translations"
    )
    assert stale.status_code == 412  # someone saved version 2 meanwhile: nothing is written
    done = bench.post(
        f"/components/{PRIVACY}/variants/fr/sync", {"version": "2"}, page="/translations"
    )
    assert done.status_code == 303, done.text
    assert "No stale translations." in bench.get("/translations").text
    coverage = bench.get("/coverage/legal").text
    assert "stale translation" not in coverage


def test_coverage_marks_a_stale_cell(bench: Workbench) -> None:
    assert "1 stale translation" in bench.get("/coverage/legal").text
