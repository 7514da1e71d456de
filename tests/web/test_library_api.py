"""Editors' routes: validated, conflict-checked writes; history, publish, rollback, lint."""

from __future__ import annotations

import threading
from typing import Any

from tests.support.apps import Api
from tests.web.test_touchpoints import assert_error

COMP = "/v1/components/snippet.greeting"
VAR = COMP + "/variants/en"


def create_component(api: Api) -> None:
    response = api.client.put(
        COMP,
        json={"type": "snippet", "title": "Greeting", "tags": ["demo"], "folder": "snippets"},
        headers={**api.auth("editor"), "If-None-Match": "*"},
    )
    assert response.status_code == 201, response.text
    assert response.headers["etag"] == '"1"'


def put_variant(api: Api, body: str, etag: str | None, **extra: Any) -> Any:
    headers = api.auth("editor") | ({"If-Match": etag} if etag else {"If-None-Match": "*"})
    payload = {"body": body, "conditions": {"locale": "en"}, **extra}
    return api.client.put(VAR, json=payload, headers=headers)


def block(api: Api, **params: str) -> Any:
    return api.client.get(
        "/v1/blocks/snippet.greeting",
        params={"locale": "en", **params},
        headers={**api.auth("reader"), "Accept": "application/json"},
    )


def test_create_edit_publish_and_serve(api: Api) -> None:
    create_component(api)
    created = put_variant(api, "<p>Hello {{ customer.name }}</p>", None)
    assert created.status_code == 201
    assert created.json()["status"] == "draft"
    assert_error(block(api), 422, "no_variant")  # drafts are not served
    assert block(api, preview="true").status_code == 403  # reader cannot preview
    published = api.client.post(
        VAR + "/publish", headers={**api.auth("editor"), "If-Match": created.headers["etag"]}
    )
    assert published.status_code == 200
    assert published.json()["version"] == 2
    served = block(api).json()
    assert (served["variant"], served["version"]) == ("en", 2)
    assert served["html"] == "<p>Hello </p>"


def test_malformed_body_is_422_with_line_and_column(api: Api) -> None:
    create_component(api)
    response = put_variant(api, "<p>one\n<b>two</p>", None)
    error = assert_error(response, 422, "malformed_library")
    assert error["message"].startswith("snippets/snippet.greeting/en.html:2:")
    assert "Opening and ending tag mismatch" in error["message"]
    assert api.client.get(VAR, headers=api.auth("editor")).status_code == 404  # nothing saved


def test_include_that_would_make_a_cycle_is_422(api: Api) -> None:
    create_component(api)
    put_variant(api, "<p>hi</p>", None)
    url = "/v1/components/snippet.hotline/variants/default"
    current = api.client.get(url, headers=api.auth("editor"))
    data = {k: v for k, v in current.json().items() if k not in ("component", "key", "version")}
    data["body"] += '<ce-include component="brochure.contact"/>'
    response = api.client.put(
        url, json=data, headers={**api.auth("editor"), "If-Match": current.headers["etag"]}
    )
    error = assert_error(response, 422, "library_integrity")
    assert "include cycle" in error["message"]


def test_stale_writes_get_412_and_lose_nothing(api: Api) -> None:
    create_component(api)
    v1 = put_variant(api, "<p>one</p>", None)
    v2 = put_variant(api, "<p>two</p>", v1.headers["etag"])
    assert v2.status_code == 200
    stale = put_variant(api, "<p>three</p>", v1.headers["etag"])
    error = assert_error(stale, 412, "conflict")
    assert error["details"]["current_version"] == 2
    history = api.client.get(VAR + "/versions", headers=api.auth("editor")).json()
    assert [(v["version"], v["body"]) for v in history] == [(1, "<p>one</p>"), (2, "<p>two</p>")]
    again = put_variant(api, "<p>one</p>", None)  # create over an existing one
    assert_error(again, 412, "conflict")


def test_writes_without_a_version_get_428(api: Api) -> None:
    create_component(api)
    response = api.client.put(VAR, json={"body": "<p>x</p>"}, headers=api.auth("editor"))
    assert_error(response, 428, "precondition_required")
    response = api.client.put(
        VAR, json={"body": "<p>x</p>"}, headers={**api.auth("editor"), "If-Match": "latest"}
    )
    assert_error(response, 400, "bad_if_match")


def test_two_editors_racing_one_wins(api: Api) -> None:
    create_component(api)
    base = put_variant(api, "<p>base</p>", None).headers["etag"]
    results: list[int] = []

    def edit(text: str) -> None:
        results.append(put_variant(api, f"<p>{text}</p>", base).status_code)

    threads = [threading.Thread(target=edit, args=(f"editor {i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 412, 412, 412]
    history = api.client.get(VAR + "/versions", headers=api.auth("editor")).json()
    assert [v["version"] for v in history] == [1, 2]
    assert history[1]["body"].startswith("<p>editor ")


def test_rollback_makes_a_new_version(api: Api) -> None:
    create_component(api)
    v1 = put_variant(api, "<p>one</p>", None)
    v2 = put_variant(api, "<p>two</p>", v1.headers["etag"])
    back = api.client.post(
        VAR + "/rollback",
        json={"version": 1},
        headers={**api.auth("editor"), "If-Match": v2.headers["etag"]},
    )
    assert back.status_code == 200
    assert (back.json()["version"], back.json()["body"]) == (3, "<p>one</p>")


def test_archive_is_refused_while_included_and_keeps_history(api: Api) -> None:
    hotline = api.client.get("/v1/components/snippet.hotline", headers=api.auth("editor"))
    refused = api.client.delete(
        "/v1/components/snippet.hotline",
        headers={**api.auth("editor"), "If-Match": hotline.headers["etag"]},
    )
    error = assert_error(refused, 422, "library_integrity")
    assert "brochure.contact" in error["details"]["included_by"]
    create_component(api)
    archived = api.client.delete(COMP, headers={**api.auth("editor"), "If-Match": '"1"'})
    assert archived.status_code == 200
    assert_error(api.client.get(COMP, headers=api.auth("editor")), 404, "not_found")


def test_publications_lint_and_coverage(api: Api) -> None:
    current = api.client.get("/v1/publications/service.sheet", headers=api.auth("editor"))
    data = current.json()
    slots = [*data["slots"], {"component": "snippet.hotline"}]
    saved = api.client.put(
        "/v1/publications/service.sheet",
        json={"title": data["title"], "layout": data["layout"], "slots": slots},
        headers={**api.auth("editor"), "If-Match": current.headers["etag"]},
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 2
    lint = api.client.get("/v1/lint", headers=api.auth("editor")).json()
    assert lint == {"problems": [], "errors": 0}
    coverage = api.client.get("/v1/coverage/manual.hp200", headers=api.auth("editor")).json()
    assert len(coverage["rows"]) == 36
    assert_error(api.client.get("/v1/lint", headers=api.auth("agent")), 403, "forbidden")


def test_component_listing_filters(api: Api) -> None:
    found = api.client.get(
        "/v1/components", params={"type": "legal"}, headers=api.auth("editor")
    ).json()
    assert {c["id"] for c in found} == {"legal.warranty", "legal.conformity", "legal.privacy"}
    found = api.client.get("/v1/components", params={"q": "HOTLINE"}, headers=api.auth("editor"))
    assert [c["id"] for c in found.json()] == ["snippet.hotline"]


def test_a_body_forging_the_engines_marks_is_a_422_at_its_place(api: Api) -> None:
    create_component(api)
    for body in ("<p>Hello \ue0000\ue001</p>", "<p>Hello &#xE013;0&#xE014;</p>"):
        response = put_variant(api, body, None)
        assert_error(response, 422, "malformed_library")
        assert "U+E0" in response.json()["error"]["message"]
