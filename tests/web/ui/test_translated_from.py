"""``translated_from`` over the API and in the workbench's "new variant from it" (CONTRACT 10)."""

from __future__ import annotations

import re

from content_engine.core.models import TranslatedFrom
from tests.support.apps import Api
from tests.web.ui.conftest import Workbench


def test_the_api_takes_and_answers_it(api: Api) -> None:
    url = "/v1/components/product.hp200.overview/variants/fr-CA"
    sent = {"translated_from": {"variant": "fr", "version": 1}}
    payload = {"body": "<p>Bonjour.</p>", "conditions": {"locale": "fr-CA"}, **sent}
    headers = {**api.auth("editor"), "If-None-Match": "*"}
    assert api.client.put(url, json=payload, headers=headers).status_code == 201
    answer = api.client.get(url, headers=api.auth("editor")).json()
    assert answer["translated_from"] == sent["translated_from"]
    bad = {**payload, "translated_from": {"variant": "fr", "version": -1}}
    refused = api.client.put(url, json=bad, headers={**api.auth("editor"), "If-Match": '"1"'})
    assert refused.status_code == 422, refused.text


def hidden(page: str) -> str:
    found = re.search(r'name="translated_from" value="([^"]*)"', page)
    assert found, "the form carries the record"
    return found.group(1)


def test_new_variant_from_another_records_it_and_editing_keeps_it(bench: Workbench) -> None:
    component = "/components/product.hp200.overview"
    source = bench.api.engine.editor.get_variant("product.hp200.overview", "de-AT")
    start = f"{component}/new-variant?start=de-AT"
    record = hidden(bench.get(start).text)
    assert record == f"de-AT@{source.version}"
    form = {"body": source.body, "locale": "de-CH", "status": "draft", "priority": "0"}
    created = bench.post(
        f"{component}/variants",
        {**form, "key": "de-CH", "expected_version": "", "translated_from": record},
        page=start,
    )
    assert created.status_code == 303, created.text
    copy = bench.api.engine.editor.get_variant("product.hp200.overview", "de-CH")
    assert copy.translated_from == TranslatedFrom(variant="de-AT", version=source.version)
    edit = f"{component}/variants/de-CH"
    assert hidden(bench.get(edit).text) == record  # an edit keeps it
    tampered = bench.post(
        edit, {**form, "expected_version": "1", "translated_from": "de-AT@x"}, page=edit
    )
    assert tampered.status_code == 422
    assert "KEY@VERSION" in tampered.text
