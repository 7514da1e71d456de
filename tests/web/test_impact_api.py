"""``GET .../variants/{key}/impact``: what publishing a working copy would change (editor role).

Roles are also held for every route by ``test_auth_matrix``; here: what the answer names, 404s,
and the bound on the readers asked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.apps import Api, app_client
from tests.support.engine_factory import make_engine, write_files
from tests.web.test_touchpoints import assert_error

HOTLINE = "/v1/components/snippet.hotline/variants/default"


def editor(api: Api, url: str) -> Any:
    return api.client.get(url, headers=api.auth("editor"))


def save_draft(api: Api, url: str, body: str, **conditions: Any) -> None:
    current = editor(api, url)
    payload = {"body": body, "conditions": conditions, "status": "draft"}
    headers = {**api.auth("editor"), "If-Match": current.headers["etag"]}
    saved = api.client.put(url, json=payload, headers=headers)
    assert saved.status_code == 200, saved.text


def test_a_shared_snippet_names_the_publications_it_reaches(api: Api) -> None:
    live = editor(api, HOTLINE).json()
    save_draft(api, HOTLINE, "<p>Neue Nummer: 0800 000</p>")
    response = editor(api, HOTLINE + "/impact")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "private, no-store"
    found = response.json()
    assert (found["live_version"], found["working_version"]) == (live["version"], 2)
    reached = {p["id"]: p for p in found["publications"]}
    assert {"brochure.hp200", "manual.hp200"} <= set(reached)  # through two different includes
    chains = [r["chain"] for r in reached["brochure.hp200"]["routes"]]
    assert ["brochure.contact", "snippet.hotline"] in chains
    assert found["cells"] and all(c["after"]["version"] == 2 for c in found["cells"])
    assert found["readers"]["changed"] == found["readers"]["considered"] > 0
    assert found["readers"]["different_variant"] == 0 and not found["capped"]


def test_nothing_to_publish_changes_nothing(api: Api) -> None:
    found = editor(api, HOTLINE + "/impact").json()
    assert found["working_version"] is None and found["live_version"] == 1
    assert found["publications"] == [] and found["cells"] == []


def test_a_reader_cannot_ask_and_an_unknown_variant_is_404(api: Api) -> None:
    assert_error(api.client.get(HOTLINE + "/impact", headers=api.auth("reader")), 403, "forbidden")
    assert_error(api.client.get(HOTLINE + "/impact", headers=api.auth("agent")), 403, "forbidden")
    for url in (
        "/v1/components/snippet.nothing/variants/default/impact",
        "/v1/components/snippet.hotline/variants/xx/impact",
    ):
        assert_error(editor(api, url), 404, "not_found")
    assert_error(
        editor(api, "/v1/components/Bad..Id/variants/default/impact"), 422, "invalid_request"
    )


@pytest.fixture
def wide(db_url: str, tmp_path: Path) -> Any:
    """A library whose vocabulary holds more readers than the impact asks: 1 × 120 × 100."""
    codes = ", ".join(f"R{i:03d}" for i in range(100))
    roles = ", ".join(f"role{i}" for i in range(120))
    root = write_files(
        tmp_path / "wide",
        {
            "library.yaml": f"default_locale: en\nlocales: [en]\nroles: [{roles}]\n"
            f"regions:\n  ALL: [{codes}]\n",
            "c/snippet.x/component.yaml": "id: snippet.x\ntype: snippet\ntitle: X\n",
            "c/snippet.x/en.html": "---\nlocale: en\n---\n<p>x</p>\n",
        },
    )
    with make_engine(db_url) as engine:
        engine.import_library(root)
        with app_client(engine) as api:
            yield api


def test_the_readers_asked_are_bounded_and_the_answer_says_so(wide: Api) -> None:
    save_draft(wide, "/v1/components/snippet.x/variants/en", "<p>y</p>", locale="en")
    found = editor(wide, "/v1/components/snippet.x/variants/en/impact").json()
    assert found["capped"] is True and found["limit"] == 10_000
    assert found["readers"]["considered"] == 10_000
    assert sum(len(c["regions"]) for c in found["cells"]) == 10_000
