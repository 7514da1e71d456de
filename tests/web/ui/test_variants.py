"""The variant editor: save as draft, errors inline, conflicts side by side, workflow, history."""

from __future__ import annotations

import html
import re
import time
from typing import Any

import pytest

from content_engine.core.models import Variant
from tests.web.ui.conftest import Workbench

COMPONENT = "snippet.hotline"
EDITOR = f"/components/{COMPONENT}/variants/default"
BODY = "<p>Call <strong>us</strong>.</p>\n"


def fields(bench: Workbench, **changes: str) -> dict[str, str]:
    """The editor's fields as the page fills them in, with ``changes`` typed over them."""
    page = bench.get(EDITOR).text
    found = dict(re.findall(r'<input id="f-\w+" name="(\w+)" type="\w+" value="([^"]*)"', page))
    found["expected_version"] = re.search(r'name="expected_version" value="(\d*)"', page).group(1)
    body = re.search(r'<textarea id="f-body" name="body"[^>]*>\n(.*?)</textarea>', page, re.S)
    assert body is not None
    found["body"] = html.unescape(body.group(1))
    found["status"] = "draft"
    return {k: html.unescape(v) for k, v in found.items()} | changes


def save(bench: Workbench, **changes: str) -> Any:
    return bench.post(EDITOR, fields(bench, **changes), page=EDITOR)


def stored(bench: Workbench, key: str = "default") -> Variant:
    return bench.api.engine.repository.get_variant(COMPONENT, key)


def test_the_editor_shows_the_stored_variant(bench: Workbench) -> None:
    data = fields(bench)
    current = stored(bench)
    assert data["body"] == current.body
    assert data["expected_version"] == "1"
    assert data["locale"] == ""
    assert data["priority"] == "0"


def test_save_makes_a_draft_version_and_says_so(bench: Workbench) -> None:
    response = save(bench, body=BODY, roles="buyer technician")
    assert response.status_code == 303
    assert response.headers["location"] == f"{EDITOR}?saved=2"
    variant = stored(bench)
    assert (variant.version, variant.status, variant.body) == (2, "draft", BODY)
    assert variant.conditions.roles == ("buyer", "technician")
    page = bench.get(response.headers["location"]).text
    assert "Saved as version 2." in page
    assert 'name="expected_version" value="2"' in page


def test_browser_line_endings_are_stored_as_newlines(bench: Workbench) -> None:
    save(bench, body="<p>one</p>\r\n<p>two</p>\r\n")
    assert stored(bench).body == "<p>one</p>\n<p>two</p>\n"


def test_a_leading_newline_survives_the_round_trip(bench: Workbench) -> None:
    save(bench, body="\n<p>after a blank line</p>")
    assert stored(bench).body == "\n<p>after a blank line</p>"
    # HTML drops one newline after <textarea>: the page writes one more, so the text is kept.
    assert fields(bench)["body"] == "\n<p>after a blank line</p>"


def test_malformed_xhtml_is_shown_inline_with_line_and_column(bench: Workbench) -> None:
    broken = "<p>fine</p>\n<p>not <b>closed</p>\n"
    response = save(bench, body=broken)
    assert response.status_code == 422
    page = response.text
    assert "Not saved." in page
    error = re.search(
        r'<div class="field-error" id="f-body-error" role="alert">(.*?)</div>', page, re.S
    )
    assert error is not None
    assert "<strong>Line 2, column " in error.group(1)
    assert "malformed XHTML" in error.group(1)
    assert "snippets/" not in error.group(1)  # no file path: the editor is the file
    assert 'data-goto-line="2"' in error.group(1)
    # The text is kept as typed, and the textarea points at the error.
    assert html.escape(broken, quote=False) in page
    assert 'aria-describedby="f-body-error f-body-hint" aria-invalid="true"' in page
    assert stored(bench).version == 1


def test_a_broken_include_is_shown_inline(bench: Workbench) -> None:
    response = save(bench, body='<ce-include component="no.such.thing"></ce-include>')
    assert response.status_code == 422
    assert "no.such.thing" in response.text
    assert stored(bench).version == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("priority", "high", "The priority is a whole number"),
        ("priority", "99999999", "The priority is a whole number"),
        ("valid_from", "next tuesday", "A date (2026-01-31) or a time"),
        ("valid_until", "2026-13-45", "A date (2026-01-31) or a time"),
        ("locale", "not a locale!", "locale"),
        ("status", "gone", "Choose one of the statuses."),
    ],
)
def test_field_errors_are_shown_next_to_their_field(
    bench: Workbench, field: str, value: str, message: str
) -> None:
    response = save(bench, body=BODY, **{field: value})
    assert response.status_code == 422
    error = re.search(
        rf'<p class="field-error" id="f-{field}-error">(.*?)</p>', response.text, re.S
    )
    assert error is not None, response.text
    assert message in html.unescape(error.group(1))
    assert BODY.strip() in html.unescape(response.text)
    assert stored(bench).version == 1


def test_a_conflict_shows_both_versions_and_overwrites_nothing(bench: Workbench) -> None:
    mine = fields(bench, body="<p>Mine.</p>")  # the editor was opened at version 1
    theirs = stored(bench).model_copy(update={"body": "<p>Theirs.</p>"})
    bench.api.engine.editor.save_variant(COMPONENT, theirs, expected_version=1)
    response = bench.post(EDITOR, mine, page=EDITOR)
    assert response.status_code == 412
    page = html.unescape(response.text)
    assert "Someone else saved this variant meanwhile" in page
    assert "Theirs: version 2, stored" in page
    assert "Yours: not saved" in page
    side = re.search(r'<div class="side-by-side">(.*?)</div>', page, re.S)
    assert side is not None
    assert "<p>Theirs.</p>" in side.group(1) and "<p>Mine.</p>" in side.group(1)
    diff = re.search(r'<table class="diff">(.*?)</table>', response.text, re.S)
    assert diff is not None
    assert re.search(r'class="diff-removed">.*?&lt;p&gt;Theirs.&lt;/p&gt;', diff.group(1), re.S)
    assert re.search(r'class="diff-added">.*?&lt;p&gt;Mine.&lt;/p&gt;', diff.group(1), re.S)
    assert stored(bench).body == "<p>Theirs.</p>"  # nothing overwritten
    # The form keeps my text, now based on their version: saving again is a decision.
    assert 'name="expected_version" value="2"' in response.text
    assert "Save mine after theirs" in page
    again = bench.post(EDITOR, mine | {"expected_version": "2"}, page=EDITOR)
    assert again.status_code == 303
    assert (stored(bench).version, stored(bench).body) == (3, "<p>Mine.</p>")


def test_create_a_new_variant(bench: Workbench) -> None:
    new = f"/components/{COMPONENT}/new-variant"
    page = bench.get(new).text
    assert 'name="expected_version" value=""' in page
    data = {"key": "de-AT", "body": "<p>Servus!</p>", "locale": "de-AT", "status": "draft"}
    created = bench.post(f"/components/{COMPONENT}/variants", data, page=new)
    assert created.status_code == 303
    assert created.headers["location"] == f"/components/{COMPONENT}/variants/de-AT?saved=1"
    variant = stored(bench, "de-AT")
    assert (variant.status, variant.conditions.locale, variant.body) == (
        "draft",
        "de-AT",
        data["body"],
    )


def test_create_refuses_a_bad_key_and_a_taken_one(bench: Workbench) -> None:
    new = f"/components/{COMPONENT}/new-variant"
    bad = bench.post(f"/components/{COMPONENT}/variants", {"key": "-x", "body": "<p/>"}, page=new)
    assert bad.status_code == 422
    assert 'id="f-key-error"' in bad.text
    taken = bench.post(
        f"/components/{COMPONENT}/variants", {"key": "default", "body": "<p>New</p>"}, page=new
    )
    assert taken.status_code == 412
    assert "Theirs: version 1, stored" in taken.text
    assert stored(bench).version == 1


def move(bench: Workbench, status: str, version: int) -> Any:
    return bench.post(EDITOR + "/status", {"status": status, "version": str(version)}, page=EDITOR)


def test_workflow_draft_review_published_and_served(bench: Workbench) -> None:
    save(bench, body="<p>New hotline text.</p>")
    assert (
        'aria-current="step" class="current"><span class="status status-draft">'
        in bench.get(EDITOR).text
    )
    assert move(bench, "review", 2).headers["location"] == f"{EDITOR}?saved=3"
    assert stored(bench).status == "review"
    assert move(bench, "published", 3).status_code == 303
    assert (stored(bench).status, stored(bench).version) == ("published", 4)
    served = bench.client.get(
        f"/v1/blocks/{COMPONENT}",
        params={"locale": "en"},
        headers={**bench.api.auth("reader"), "Accept": "application/json"},
    ).json()
    assert (served["version"], served["html"]) == (4, "<p>New hotline text.</p>")


def test_a_stale_workflow_button_changes_nothing(bench: Workbench) -> None:
    bench.api.engine.editor.set_status(COMPONENT, "default", "review", expected_version=1)
    response = move(bench, "published", 1)
    assert response.status_code == 412
    assert "someone saved version 2 meanwhile" in response.text
    assert stored(bench).status == "review"


def test_history_shows_readable_diffs_and_rolls_back(bench: Workbench) -> None:
    original = stored(bench).body
    save(bench, body="<p>Second.</p>")
    page = bench.get(EDITOR + "/history").text
    assert "Version 2" in page and "Changes since version 1" in page
    removed = re.findall(r'<tr class="diff-removed">.*?<code>(.*?)</code>', page, re.S)
    added = re.findall(r'<tr class="diff-added">.*?<code>(.*?)</code>', page, re.S)
    assert "status: draft" in [html.unescape(a) for a in added]
    assert "&lt;p&gt;Second.&lt;/p&gt;" in added
    assert removed  # the old body's lines
    # Marks and words, not colour alone.
    assert '<span aria-hidden="true">+</span><span class="visually-hidden">added</span>' in page
    assert '<span aria-hidden="true">-</span><span class="visually-hidden">removed</span>' in page
    rolled = bench.post(
        EDITOR + "/rollback", {"to_version": "1", "version": "2"}, page=EDITOR + "/history"
    )
    assert rolled.headers["location"] == f"{EDITOR}?saved=3"
    assert (stored(bench).version, stored(bench).body) == (3, original)


def test_bad_version_fields_are_refused(bench: Workbench) -> None:
    for data in ({"status": "review", "version": "x"}, {"status": "nope", "version": "1"}):
        response = bench.post(EDITOR + "/status", data, page=EDITOR)
        assert response.status_code == 400
    assert stored(bench).version == 1


def save_versions(bench: Workbench, *bodies: str) -> None:
    repository = bench.api.engine.repository
    for body in bodies:
        current = repository.get_variant(COMPONENT, "default")
        repository.save_variant(
            COMPONENT,
            current.model_copy(update={"body": body}),
            expected_version=current.version,
        )


@pytest.mark.parametrize("lines", [600, 1_000, 5_000])
def test_the_history_of_long_versions_answers_quickly(bench: Workbench, lines: int) -> None:
    """Every other line blank: unbounded, difflib took 4.4 s at 600 lines and 15 s at 1,000."""
    before = "\n".join("" if i % 2 else f"<p>old {i}</p>" for i in range(lines))
    after = "\n".join("" if i % 2 else f"<p>new {i}</p>" for i in range(lines))
    save_versions(bench, before, after, before)
    started = time.perf_counter()
    page = bench.get(EDITOR + "/history")
    elapsed = time.perf_counter() - started
    assert page.status_code == 200
    assert elapsed < 10, f"{elapsed:.1f} s"  # generous: well under a second here
    simplified = "too many lines to pair them line by line" in page.text
    assert simplified == (lines > 1_000)
    if lines > 1_000:
        assert "Rows of differences not shown" in page.text
