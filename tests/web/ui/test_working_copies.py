"""The workbench shows the live version beside the working copy and takes variants offline."""

from __future__ import annotations

import re

from tests.web.ui.conftest import Workbench

COMPONENT = "product.hp200.overview"
EDITOR = f"/components/{COMPONENT}/variants/de-AT"
READER = {"locale": "de-AT", "region": "AT"}


def save_draft(bench: Workbench, body: str = "<p>Entwurf</p>") -> None:
    engine = bench.api.engine
    live = engine.editor.get_variant(COMPONENT, "de-AT")
    draft = live.model_copy(update={"body": body, "status": "draft"})
    engine.editor.save_variant(COMPONENT, draft, expected_version=live.version)


def reader_block(bench: Workbench) -> str:
    response = bench.client.get(
        f"/v1/blocks/{COMPONENT}", params=READER, headers=bench.api.auth("reader")
    )
    assert response.status_code == 200, response.text
    return str(response.text)


def test_the_page_says_which_version_readers_get(bench: Workbench) -> None:
    page = bench.get(EDITOR).text
    assert "Version 1 is live: readers get it." in page
    assert "Readers get it once it is published" not in page
    assert "readers keep the live version until you publish" in page
    save_draft(bench)
    page = bench.get(EDITOR).text
    assert "Readers get version 1; version 2 is the working copy." in page
    # Side by side: what publishing the working copy changes for readers.
    assert "What publishing version 2 changes for readers" in page
    assert "Live: version 1 → working copy: version 2" in page
    added = re.findall(r'<tr class="diff-added">.*?<code>(.*?)</code>', page, re.S)
    assert "status: draft" in added and any("Entwurf" in line for line in added)
    history = bench.get(EDITOR + "/history").text
    assert "Live: version 1." in history and "Working copy: version 2." in history
    assert history.count("live: readers get it") == 1 and history.count(">working copy<") == 1


def test_take_offline_is_conflict_checked_and_keeps_the_working_copy(bench: Workbench) -> None:
    save_draft(bench)
    before = reader_block(bench)
    stale = bench.post(EDITOR + "/unpublish", {"version": "1"}, page=EDITOR)
    assert stale.status_code == 412
    assert "someone saved version 2 meanwhile" in stale.text
    assert reader_block(bench) == before  # nothing was written
    done = bench.post(EDITOR + "/unpublish", {"version": "2"}, page=EDITOR)
    assert done.status_code == 303 and done.headers["location"] == f"{EDITOR}?saved=4"
    page = bench.get(done.headers["location"]).text
    assert "No version is live: readers get other variants. Version 4 is the newest." in page
    assert "Take offline" not in page  # nothing left to take offline
    assert reader_block(bench) != before  # readers fell to another variant
    roles = bench.api.engine.editor.version_roles(COMPONENT, "de-AT")
    assert (roles.live, roles.working) == (None, 4)


def test_take_offline_is_translated(bench: Workbench) -> None:
    for language, label in (("de", "Offline nehmen"), ("fr", "Mettre hors ligne")):
        page = bench.get(EDITOR, headers={"Accept-Language": language}).text
        assert label in page, language
