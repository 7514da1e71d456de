"""The workbench creates: components, variants from another, publications; and archives."""

from __future__ import annotations

import re
from typing import Any

import pytest

from content_engine.core.models import Publication, Slot
from content_engine.web.ui.plans import PUBLICATION_FIELDS
from tests.web.ui.conftest import Workbench

NEW = "/new-component"


def create_component(bench: Workbench, **fields: str) -> Any:
    data = {"id": "snippet.opening", "type": "snippet", "title": "Opening hours", "tags": "a b"}
    return bench.post("/components", data | fields, page=NEW)


def field_error(page: str, name: str) -> str:
    """The error the page shows next to field ``name`` (it must be there)."""
    found = re.search(
        rf'<p class="field-error" id="f-{re.escape(name)}-error">(.*?)</p>', page, re.S
    )
    assert found, f"no error next to {name}"
    return re.sub(r"<[^>]+>", "", found.group(1)).replace("⚠", "").strip()


# --- components ------------------------------------------------------------------------------


def test_create_a_component(bench: Workbench) -> None:
    response = create_component(bench)
    assert response.status_code == 303
    assert response.headers["location"] == "/components/snippet.opening?created=1"
    stored = bench.api.engine.editor.get_component("snippet.opening")
    assert (stored.type, stored.title, stored.tags) == ("snippet", "Opening hours", ("a", "b"))
    page = bench.get(response.headers["location"]).text
    assert "Component created." in page
    assert 'href="/components/snippet.opening/new-variant"' in page


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"id": "Snippet.Upper"}, "id", "not a valid component id"),
        ({"id": "library.yaml"}, "id", "cannot be a component id"),
        ({"id": ""}, "id", "not a valid component id"),
        ({"id": "x" * 201}, "id", "at most 200"),
        ({"type": ""}, "type", "A type is needed"),
        ({"folder": "../up"}, "folder", "not a folder"),
        ({"folder": "publications"}, "folder", "folder"),
    ],
)
def test_a_bad_field_is_refused_next_to_it(
    bench: Workbench, fields: dict[str, str], field: str, words: str
) -> None:
    response = create_component(bench, **fields)
    assert response.status_code == 422
    assert words in field_error(response.text, field)
    assert 'aria-invalid="true"' in response.text
    assert "snippet.opening" not in bench.api.engine.library().components


def test_an_id_taken_is_refused_next_to_the_id_and_overwrites_nothing(bench: Workbench) -> None:
    before = bench.api.engine.editor.get_component("snippet.hotline")
    response = create_component(bench, id="snippet.hotline", title="Mine")
    assert response.status_code == 412
    assert "exists already" in field_error(response.text, "id")
    assert bench.api.engine.editor.get_component("snippet.hotline") == before


def test_the_form_keeps_what_was_typed(bench: Workbench) -> None:
    response = create_component(bench, id="Bad Id", title="Öffnungszeiten <b>")
    assert 'value="Bad Id"' in response.text
    assert 'value="Öffnungszeiten &lt;b&gt;"' in response.text


def test_forms_need_their_token(bench: Workbench) -> None:
    response = bench.client.post(
        "/components", data={"id": "snippet.x", "type": "snippet"}, follow_redirects=False
    )
    assert response.status_code == 400
    assert "snippet.x" not in bench.api.engine.library().components


# --- variants from another -----------------------------------------------------------------


def test_a_new_variant_starts_from_another(bench: Workbench) -> None:
    source = bench.api.engine.editor.get_variant("product.hp200.overview", "de-AT")
    page = bench.get("/components/product.hp200.overview/new-variant?start=de-AT").text
    assert "Starting from de-AT (version" in page
    assert 'id="f-key" name="key" type="text" value=""' in page
    assert 'name="expected_version" value=""' in page
    assert 'name="locale" type="text" value="de-AT"' in page
    assert source.body.splitlines()[0].replace('"', "&#34;") in page or "Nordwind" in page
    data = {"key": "de-CH", "body": source.body, "locale": "de-CH", "status": "draft"}
    response = bench.post(
        "/components/product.hp200.overview/variants",
        {**data, "expected_version": "", "priority": "0", "regions": "CH"},
        page="/components/product.hp200.overview/new-variant?start=de-AT",
    )
    assert response.status_code == 303, response.text
    copy = bench.api.engine.editor.get_variant("product.hp200.overview", "de-CH")
    assert copy.body == source.body and copy.conditions.locale == "de-CH"


def test_starting_from_an_unknown_variant_is_404(bench: Workbench) -> None:
    assert bench.get("/components/snippet.hotline/new-variant?start=nope").status_code == 404
    assert bench.get("/components/snippet.hotline/new-variant?start=..%2Fx").status_code == 400


# --- archiving -------------------------------------------------------------------------------


def test_archive_a_component(bench: Workbench) -> None:
    create_component(bench)
    page = "/components/snippet.opening"
    response = bench.post(page + "/archive", {"version": "1"}, page=page)
    assert response.status_code == 303
    assert response.headers["location"] == "/?archived=snippet.opening"
    assert "snippet.opening" not in bench.api.engine.library().components
    assert "Archived snippet.opening" in bench.get(response.headers["location"]).text


def test_archive_refused_while_included_and_when_stale(bench: Workbench) -> None:
    page = "/components/snippet.hotline"
    version = str(bench.api.engine.editor.get_component("snippet.hotline").version)
    refused = bench.post(page + "/archive", {"version": version}, page=page)
    assert refused.status_code == 422
    error = re.search(r'id="archive-error" role="alert">(.*?)</p>', refused.text, re.S)
    assert error and "brochure.contact" in error.group(1)
    assert "snippet.hotline" in bench.api.engine.library().components
    create_component(bench)
    page = "/components/snippet.opening"
    stale = bench.post(page + "/archive", {"version": "99"}, page=page)
    assert stale.status_code == 412 and "someone saved version 1 meanwhile" in stale.text
    missing = bench.post(page + "/archive", {"version": "x"}, page=page)
    assert missing.status_code == 412
    assert "snippet.opening" in bench.api.engine.library().components


# --- publications ----------------------------------------------------------------------------


def slots(**rows: dict[str, str]) -> dict[str, str]:
    """``slots(s0={"component": "x"})`` as the form's numbered fields."""
    return {f"slot-{n[1:]}-{k}": v for n, row in rows.items() for k, v in row.items()}


def create_publication(bench: Workbench, **fields: Any) -> Any:
    data = {"id": "flyer.hp200", "title": "Flyer", "layout": "default", "expected_version": ""}
    return bench.post("/publications", data | fields, page="/new-publication")


def test_create_a_publication_with_a_component_and_a_query_slot(bench: Workbench) -> None:
    rows = slots(
        s0={"component": "product.hp200.overview", "required": "1", "position": "2"},
        s1={"query_type": "legal", "query_tags": "", "title": "Legal", "position": "1"},
        s2={"component": "", "position": "3"},  # a blank row adds nothing
    )
    response = create_publication(bench, **rows)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/publications/flyer.hp200?saved=1"
    stored = bench.api.engine.editor.get_publication("flyer.hp200")
    assert [(s.component, s.query and s.query.type, s.required) for s in stored.slots] == [
        (None, "legal", False),
        ("product.hp200.overview", None, True),
    ]
    assert stored.slots[0].title == "Legal"
    assert "Saved as version 1." in bench.get(response.headers["location"]).text


def test_edit_a_publication_reorders_removes_and_adds(bench: Workbench) -> None:
    stored = bench.api.engine.editor.get_publication("brochure.hp200")
    page = bench.get("/publications/brochure.hp200/edit").text
    count = len(stored.slots)
    assert f'name="slot-{count + 2}-position"' in page  # three blank rows
    assert f'name="slot-{count + 3}-position"' not in page
    data: dict[str, str] = {"title": stored.title, "layout": stored.layout}
    data["expected_version"] = str(stored.version)
    for n, slot in enumerate(stored.slots):
        data |= slots(**{f"s{n}": {"component": slot.component or "", "was": str(n)}})
        if slot.query:
            data[f"slot-{n}-query_type"] = slot.query.type
        data[f"slot-{n}-position"] = str(count - n)  # reversed
        if slot.required:
            data[f"slot-{n}-required"] = "1"
    data["slot-0-remove"] = "1"
    data |= slots(**{f"s{count}": {"component": "snippet.hotline", "position": "99"}})
    response = bench.post(
        "/publications/brochure.hp200", data, page="/publications/brochure.hp200/edit"
    )
    assert response.status_code == 303, response.text
    saved = bench.api.engine.editor.get_publication("brochure.hp200")
    expected = [s.component for s in reversed(stored.slots[1:])] + ["snippet.hotline"]
    assert [s.component for s in saved.slots] == expected
    assert saved.version == stored.version + 1
    assert [s.titles for s in saved.slots[:-1]] == [s.titles for s in reversed(stored.slots[1:])]


def test_a_long_publication_is_edited_without_losing_a_slot(bench: Workbench) -> None:
    many = tuple(Slot(component="snippet.hotline", title=f"s{n}") for n in range(120))
    long = Publication(id="long.list", title="Long", slots=many)
    bench.api.engine.editor.save_publication(long, expected_version=None)
    page = bench.get("/publications/long.list/edit").text
    fields = dict(
        re.findall(
            r'name="(slot-\d+-\w+|title|layout|expected_version)"[^>]*? value="([^"]*)"', page
        )
    )
    fields = {k: v for k, v in fields.items() if not k.endswith(("-required", "-remove"))}
    fields |= {n: "1" for n in re.findall(r'name="(slot-\d+-required)"[^>]*checked', page)}
    fields["title"] = "Longer"
    response = bench.post("/publications/long.list", fields, page="/publications/long.list/edit")
    assert response.status_code == 303, response.text
    saved = bench.api.engine.editor.get_publication("long.list")
    assert saved.title == "Longer" and saved.slots == many


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"id": "Flyer"}, "id", "not a valid publication id"),
        ({"title": ""}, "title", "A title is needed"),
        ({"layout": "../x"}, "layout", "A layout is the name of a theme"),
        (slots(s0={"component": "no.such"}), "slot-0-component", "No component has this id"),
        (slots(s0={"title": "only a title"}), "slot-0-component", "Name a component"),
        (
            slots(s0={"component": "snippet.hotline", "query_type": "legal"}),
            "slot-0-component",
            "not both",
        ),
        (
            slots(
                s0={"component": "snippet.hotline"},
                s4={"component": "snippet.hotline", "position": "first"},
            ),
            "slot-1-position",
            "whole number",
        ),
        (slots(s0={"component": "Bad Id"}), "slot-0-component", "No component"),
    ],
)
def test_a_bad_publication_field_is_refused_next_to_it(
    bench: Workbench, fields: dict[str, str], field: str, words: str
) -> None:
    response = create_publication(bench, **fields)
    assert response.status_code == 422
    assert words in field_error(response.text, field)
    assert "flyer.hp200" not in bench.api.engine.library().publications


def test_a_publication_id_taken_and_a_stale_edit_overwrite_nothing(bench: Workbench) -> None:
    taken = create_publication(bench, id="brochure.hp200")
    assert taken.status_code == 412
    assert "exists already" in field_error(taken.text, "id")
    before = bench.api.engine.editor.get_publication("brochure.hp200")
    stale = bench.post(
        "/publications/brochure.hp200",
        {"title": "Mine", "expected_version": "0", **slots(s0={"component": "snippet.hotline"})},
        page="/publications/brochure.hp200/edit",
    )
    assert stale.status_code == 412
    assert "Someone else saved this publication meanwhile" in stale.text
    assert f'name="expected_version" value="{before.version}"' in stale.text  # now based on theirs
    assert 'value="Mine"' in stale.text  # the edit is kept
    assert bench.api.engine.editor.get_publication("brochure.hp200") == before


def test_too_many_fields_are_refused_not_a_500(bench: Workbench) -> None:
    rows = {f"slot-{n}-title": "x" for n in range(PUBLICATION_FIELDS + 1)}
    response = create_publication(bench, **rows)
    assert response.status_code == 400


def test_an_unknown_publication_cannot_be_edited(bench: Workbench) -> None:
    assert bench.get("/publications/nope/edit").status_code == 404
    response = bench.post("/publications/nope", {"title": "x"}, page="/new-publication")
    assert response.status_code == 404
    assert "nope" not in bench.api.engine.library().publications


# --- impact ----------------------------------------------------------------------------------


def test_the_impact_page_names_publications_and_cells(bench: Workbench) -> None:
    variant = "/components/snippet.hotline/variants/default"
    assert "Nothing to publish" in bench.get(variant + "/impact").text
    editor = bench.api.engine.editor
    current = editor.get_variant("snippet.hotline", "default")
    draft = current.model_copy(update={"status": "draft", "body": "<p>Neu</p>"})
    editor.save_variant("snippet.hotline", draft, expected_version=current.version)
    assert f'href="{variant}/impact"' in bench.get(variant).text
    page = bench.get(variant + "/impact").text
    assert 'href="/publications/brochure.hp200"' in page
    assert 'href="/publications/manual.hp200"' in page
    assert "brochure.contact</a> › <a" in page
    assert "Publishing makes version 2 live." in page
    assert page.count("<tr>") > 5


def test_the_workbench_pages_speak_german(bench: Workbench) -> None:
    for url in ("/new-component", "/new-publication", "/publications/brochure.hp200/edit"):
        page = bench.get(url + "?lang=de").text
        assert 'lang="de"' in page
    assert "Neue Komponente" in bench.get("/new-component?lang=de").text
