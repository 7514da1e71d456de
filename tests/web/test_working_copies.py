"""Live stays live (CONTRACT 7): a working copy changes nothing a reader gets until published;
unpublish takes a variant offline; the variant answer, explain and preview show both."""

from __future__ import annotations

from typing import Any

from tests.support.apps import Api
from tests.web.test_touchpoints import assert_error

COMPONENT = "product.hp200.overview"
BLOCK = f"/v1/blocks/{COMPONENT}"
VARIANT = f"/v1/components/{COMPONENT}/variants/de-AT"
READER = {"locale": "de-AT", "region": "AT", "role": "buyer"}
DRAFT_BODY = "<p>Entwurf, noch nicht für Leser</p>"


def everything_a_reader_gets(api: Api) -> dict[str, Any]:
    """Each reader's answer: blocks (HTML and JSON, GET and POST), a render, coverage."""
    reader = api.auth("reader")
    html = api.client.get(BLOCK, params=READER, headers=reader)
    as_json = api.client.get(BLOCK, params=READER, headers={**reader, "Accept": "application/json"})
    posted = api.client.post(
        "/v1/blocks", json={"context": READER, "components": [COMPONENT]}, headers=reader
    )
    rendered = api.client.post(
        "/v1/render", json={"publication": "brochure.hp200", "context": READER}, headers=reader
    )
    coverage = api.client.get("/v1/coverage/brochure.hp200", headers=api.auth("editor"))
    for response in (html, as_json, posted, rendered, coverage):
        assert response.status_code == 200, response.text
    return {
        "html": (html.text, html.headers["etag"]),
        "json": (as_json.json(), as_json.headers["etag"]),
        "posted": posted.json(),
        "rendered": rendered.content,
        "used": api.client.get(
            f"/v1/renders/{rendered.headers['x-render-id']}", headers=api.auth("agent")
        ).json()["used"],
        "coverage": coverage.json(),
    }


def editor_put(api: Api, body: str, etag: str, **fields: Any) -> Any:
    current = api.client.get(VARIANT, headers=api.auth("editor")).json()
    payload = {"body": body, "conditions": current["conditions"], **fields}
    return api.client.put(VARIANT, json=payload, headers={**api.auth("editor"), "If-Match": etag})


def preview_html(api: Api) -> str:
    response = api.client.get(
        BLOCK, params={**READER, "preview": "true"}, headers=api.auth("editor")
    )
    assert response.status_code == 200, response.text
    return response.text


def test_a_draft_over_a_live_version_changes_nothing_readers_get_until_published(
    api: Api, routed: list[str]
) -> None:
    before = everything_a_reader_gets(api)
    live = api.client.get(VARIANT, headers=api.auth("editor"))
    assert live.json()["live_version"] == live.json()["version"] == 1
    for _ in range(2):  # asked twice: the fast path holds the answer
        api.client.get(BLOCK, params=READER, headers=api.auth("reader"))
    # A PUT without ``status`` is a draft: a working copy over the live version.
    saved = editor_put(api, DRAFT_BODY, live.headers["etag"])
    assert saved.status_code == 200 and saved.json()["status"] == "draft", saved.text
    assert saved.json()["version"] == 2

    routed.clear()
    etag = before["html"][1]
    again = api.client.get(
        BLOCK, params=READER, headers={**api.auth("reader"), "If-None-Match": etag}
    )
    assert again.status_code == 304
    same = api.client.get(BLOCK, params=READER, headers=api.auth("reader"))
    assert (same.text, same.headers["etag"]) == before["html"]
    # The first request after a write asks the database (that is no cache's to skip); the
    # blocks readers were served stayed cached, so the next is answered before the route.
    assert len(routed) == 1
    api.client.get(BLOCK, params=READER, headers=api.auth("reader"))
    assert len(routed) == 1, "saving a working copy dropped readers' cached blocks"
    assert everything_a_reader_gets(api) == before

    assert DRAFT_BODY in preview_html(api)  # preview sees the working copy
    answer = api.client.get(VARIANT, headers=api.auth("editor")).json()
    assert (answer["version"], answer["status"], answer["live_version"]) == (2, "draft", 1)

    published = api.client.post(
        f"{VARIANT}/publish", headers={**api.auth("editor"), "If-Match": '"2"'}
    )
    assert published.status_code == 200, published.text
    after = api.client.get(
        BLOCK, params=READER, headers={**api.auth("reader"), "If-None-Match": etag}
    )
    assert after.status_code == 200 and after.text == DRAFT_BODY
    answer = api.client.get(VARIANT, headers=api.auth("editor")).json()
    assert (answer["version"], answer["status"], answer["live_version"]) == (3, "published", 3)


def test_unpublish_takes_a_variant_offline_and_keeps_its_working_copy(api: Api) -> None:
    saved = editor_put(api, DRAFT_BODY, '"1"')
    assert saved.status_code == 200, saved.text
    editor = api.auth("editor")
    assert_error(
        api.client.post(f"{VARIANT}/unpublish", headers=editor), 428, "precondition_required"
    )
    assert_error(
        api.client.post(f"{VARIANT}/unpublish", headers={**editor, "If-Match": '"1"'}),
        412,
        "conflict",
    )
    refused = api.client.post(
        f"{VARIANT}/unpublish", headers={**api.auth("reader"), "If-Match": '"2"'}
    )
    assert refused.status_code == 403
    missing = api.client.post(
        f"/v1/components/{COMPONENT}/variants/xx/unpublish", headers={**editor, "If-Match": '"1"'}
    )
    assert_error(missing, 404, "not_found")

    before = api.client.get(f"{VARIANT}/versions", headers=editor).json()
    assert [(v["live"], v["working"]) for v in before] == [(True, False), (False, True)]
    done = api.client.post(f"{VARIANT}/unpublish", headers={**editor, "If-Match": '"2"'})
    assert done.status_code == 200, done.text
    answer = done.json()
    assert (answer["version"], answer["status"], answer["live_version"]) == (4, "draft", None)
    assert answer["body"] == DRAFT_BODY and done.headers["etag"] == '"4"'
    history = api.client.get(f"{VARIANT}/versions", headers=editor).json()
    assert [(v["version"], v["status"], v["live"], v["working"]) for v in history] == [
        (1, "published", False, False),  # offline since version 3
        (2, "draft", False, False),
        (3, "archived", False, False),
        (4, "draft", False, True),
    ]
    block = api.client.get(
        BLOCK, params=READER, headers={**api.auth("reader"), "Accept": "application/json"}
    ).json()
    assert block["variant"] == "de"  # readers fall to another variant
    assert DRAFT_BODY in preview_html(api)
    explained = api.client.get(
        f"/v1/explain/{COMPONENT}", params=READER, headers=api.auth("agent")
    ).json()
    de_at = next(v for v in explained["variants"] if v["key"] == "de-AT")
    assert (de_at["live"], de_at["working"], de_at["candidate"]) == (None, 4, False)
    # Unpublishing what is already offline writes nothing.
    again = api.client.post(f"{VARIANT}/unpublish", headers={**editor, "If-Match": '"4"'})
    assert again.status_code == 200 and again.json()["version"] == 4


def test_explain_names_the_live_and_the_working_version(api: Api) -> None:
    editor_put(api, DRAFT_BODY, '"1"', status="review")
    explained = api.client.get(
        f"/v1/explain/{COMPONENT}", params=READER, headers=api.auth("agent")
    ).json()
    assert explained["winner"] == "de-AT"
    traces = {v["key"]: v for v in explained["variants"]}
    assert (traces["de-AT"]["version"], traces["de-AT"]["live"]) == (1, 1)
    assert traces["de-AT"]["working"] == 2
    assert (traces["de"]["live"], traces["de"]["working"]) == (1, None)
    preview = api.client.get(
        f"/v1/explain/{COMPONENT}",
        params={**READER, "preview": "true"},
        headers=api.auth("editor"),
    ).json()
    traces = {v["key"]: v for v in preview["variants"]}
    assert (traces["de-AT"]["version"], traces["de-AT"]["live"]) == (2, 1)


def test_a_component_with_one_variant_stays_served_while_a_draft_is_edited(api: Api) -> None:
    editor = api.auth("editor")
    url = "/v1/components/snippet.solo"
    created = api.client.put(
        url, json={"type": "snippet"}, headers={**editor, "If-None-Match": "*"}
    )
    assert created.status_code == 201, created.text
    body = {"body": "<p>eins</p>", "status": "published"}
    first = api.client.put(
        f"{url}/variants/all", json=body, headers={**editor, "If-None-Match": "*"}
    )
    assert first.status_code == 201, first.text
    block = "/v1/blocks/snippet.solo"
    assert api.client.get(block, params={"locale": "en"}, headers=api.auth("reader")).text == (
        "<p>eins</p>"
    )
    draft = api.client.put(
        f"{url}/variants/all", json={"body": "<p>zwei</p>"}, headers={**editor, "If-Match": '"1"'}
    )
    assert draft.status_code == 200, draft.text
    served = api.client.get(block, params={"locale": "en"}, headers=api.auth("reader"))
    assert served.status_code == 200 and served.text == "<p>eins</p>"
    offline = api.client.post(
        f"{url}/variants/all/unpublish", headers={**editor, "If-Match": '"2"'}
    )
    assert offline.status_code == 200, offline.text
    gone = api.client.get(block, params={"locale": "en"}, headers=api.auth("reader"))
    assert_error(gone, 422, "no_variant")


def test_a_variant_answer_can_be_put_back_as_it_came(api: Api) -> None:
    got = api.client.get(VARIANT, headers=api.auth("editor"))
    edited = {k: v for k, v in got.json().items() if k not in ("component", "key", "version")}
    assert "live_version" in edited
    saved = api.client.put(
        VARIANT, json=edited, headers={**api.auth("editor"), "If-Match": got.headers["etag"]}
    )
    assert saved.status_code == 200 and saved.json()["version"] == 1  # nothing changed
