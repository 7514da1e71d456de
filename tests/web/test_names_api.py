"""The HTTP API and the workbench apply the one name rule, and the same instant bounds.

What ``names`` refuses is refused here before anything is stored, so that ``export`` works
for everyone afterwards; nothing answers 500. Hypothesis draws the names.
"""

from __future__ import annotations

import gettext
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings

from content_engine.core.errors import LibraryFormatError
from content_engine.core.names import name_problem
from content_engine.library import load_library
from content_engine.web.ui.forms import VariantDraft, variant_of
from content_engine.web.ui.templating import Translator
from tests.library.test_read_write import MINIMAL, make_library
from tests.scenarios.test_names import ISSUE_FOLDERS, ISSUE_IDS, near_folders, near_names
from tests.support.apps import Api

_ = Translator(gettext.NullTranslations())
COMPONENT = "legal.warranty"  # one of the sample library's


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=near_names, folder=near_folders)
@example("assets", "../../outside")
@example("a" * 230, "/abs")
@example("library.yaml", ".hidden")
def test_the_api_and_the_workbench_apply_the_same_rule(api: Api, name: str, folder: str) -> None:
    editor = {**api.auth("editor"), "If-None-Match": "*"}
    path = quote(name, safe="")
    component = api.client.put(
        f"/v1/components/{path}",
        json={"type": "t", "folder": folder},
        headers=editor,
        follow_redirects=False,  # "0%2F" is redirected to "0": a URL's matter, not a name's
    )
    accepted = name_problem("component id", name) is None and name_problem("folder", folder) is None
    assert component.status_code != 500
    assert (component.status_code in (200, 201, 409, 412)) == accepted, component.text

    publication = api.client.put(
        f"/v1/publications/{path}",
        json={"title": "P", "slots": []},
        headers=editor,
        follow_redirects=False,
    )
    assert publication.status_code != 500
    accepted = name_problem("publication id", name) is None
    assert (publication.status_code in (200, 201, 409, 412)) == accepted, publication.text

    variant = api.client.put(
        f"/v1/components/{COMPONENT}/variants/{path}",
        json={"body": "<p/>"},
        headers=editor,
        follow_redirects=False,
    )
    assert variant.status_code != 500
    if name_problem("variant key", name) is not None:
        assert not 200 <= variant.status_code < 300, variant.text
        assert "key" in variant_of(VariantDraft(key=name), _)[1]
    else:
        assert variant.status_code in (200, 201, 409, 412), variant.text
        assert variant_of(VariantDraft(key=name), _)[0] is not None


def test_an_export_after_edits_never_fails_on_names(api: Api, tmp_path: Path) -> None:
    """The report's sequence: editors save the bad names, then export fails for everyone."""
    editor = {**api.auth("editor"), "If-None-Match": "*"}
    for folder in ISSUE_FOLDERS:
        response = api.client.put(
            "/v1/components/x.one", json={"type": "t", "folder": folder}, headers=editor
        )
        assert response.status_code == 422, (folder, response.text)
    for name in ISSUE_IDS:
        response = api.client.put(
            f"/v1/components/{quote(name, safe='')}", json={"type": "t"}, headers=editor
        )
        assert 400 <= response.status_code < 500, (name, response.text)
    api.engine.export_library(tmp_path / "out")
    assert (
        load_library(tmp_path / "out").components.keys() == api.engine.library().components.keys()
    )


@pytest.mark.parametrize("field", ["valid_from", "valid_until"])
def test_an_out_of_range_schedule_is_refused_everywhere(
    api: Api, tmp_path: Path, field: str
) -> None:
    value = "0001-01-01T00:00:00Z"
    response = api.client.put(
        f"/v1/components/{COMPONENT}/variants/late",
        json={"body": "<p/>", field: value},
        headers={**api.auth("editor"), "If-None-Match": "*"},
    )
    assert response.status_code == 422 and "out of range" in response.text
    assert field in variant_of(VariantDraft(key="late", **{field: value}), _)[1]
    root = make_library(
        tmp_path / "lib", {**MINIMAL, "c/comp.a/en.html": f"---\n{field}: {value}\n---\n"}
    )
    with pytest.raises(LibraryFormatError, match="out of range"):
        load_library(root)
    api.engine.export_library(tmp_path / "out")  # nothing unwritable got in
