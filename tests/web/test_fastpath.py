"""Repeat GET block requests answered before FastAPI: the same bytes and headers the route would
send, and never an answer the route would no longer give."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from content_engine.core.models import Variant
from tests.support.apps import Api

BLOCK = "/v1/blocks/product.hp200.overview"
PARAMS = {"locale": "de-AT", "region": "AT", "role": "buyer"}


def test_a_repeat_request_gets_the_same_response_without_the_route(
    api: Api, routed: list[str]
) -> None:
    first = api.client.get(BLOCK, params=PARAMS, headers=api.auth("reader"))
    # The first assembles the block (the route); the second is made here from the engine's
    # memory, and kept, as it was asked for twice; the third is the kept answer.
    second = api.client.get(BLOCK, params=PARAMS, headers=api.auth("reader"))
    assert len(routed) == 1
    third = api.client.get(BLOCK, params=PARAMS, headers=api.auth("reader"))
    assert len(routed) == 1
    assert first.status_code == second.status_code == third.status_code == 200
    assert first.content == second.content == third.content
    # The same headers but the request's own id.
    assert first.headers["x-request-id"] != third.headers["x-request-id"]
    assert dict(first.headers) | {"x-request-id": ""} == dict(third.headers) | {"x-request-id": ""}


def test_accept_language_is_no_part_of_the_key_when_the_query_names_the_locale(
    api: Api, routed: list[str]
) -> None:
    for language in ("de", "fr", "en"):
        headers = {**api.auth("reader"), "Accept-Language": language}
        response = api.client.get(BLOCK, params=PARAMS, headers=headers)
        assert response.headers["content-language"] == "de-AT"
    assert len(routed) == 1


def test_what_shapes_the_answer_is_part_of_the_key(api: Api, routed: list[str]) -> None:
    for _ in range(2):
        api.client.get(BLOCK, params=PARAMS, headers=api.auth("reader"))
    routed.clear()
    as_json = api.client.get(
        BLOCK, params=PARAMS, headers={**api.auth("reader"), "Accept": "application/json"}
    )
    assert as_json.json()["component"] == "product.hp200.overview"
    other_key = api.client.get(BLOCK, params=PARAMS, headers=api.auth("agent"))
    other_query = api.client.get(
        BLOCK, params={**PARAMS, "locale": "fr"}, headers=api.auth("reader")
    )
    assert other_query.headers["content-language"] == "fr"
    negotiated = api.client.get(BLOCK, headers={**api.auth("reader"), "Accept-Language": "de"})
    assert negotiated.headers["content-language"] == "de"
    assert other_key.status_code == 200
    # None matched the stored answer: the JSON one was made from the engine's memory, the
    # others are first sights (a key not verified yet, blocks not assembled yet).
    assert len(routed) == 3


def test_if_none_match_gets_304_from_the_fast_path(api: Api, routed: list[str]) -> None:
    first = api.client.get(BLOCK, params=PARAMS, headers=api.auth("reader"))
    api.client.get(BLOCK, params=PARAMS, headers=api.auth("reader"))
    routed.clear()
    conditional = {**api.auth("reader"), "If-None-Match": first.headers["etag"]}
    again = api.client.get(BLOCK, params=PARAMS, headers=conditional)
    assert (again.status_code, again.content) == (304, b"")
    assert again.headers["etag"] == first.headers["etag"]
    stale = api.client.get(BLOCK, params=PARAMS, headers={**conditional, "If-None-Match": '"x"'})
    assert stale.status_code == 200
    assert len(routed) == 0


def test_a_revoked_key_is_refused_at_once(api: Api) -> None:
    for _ in range(2):
        assert api.client.get(BLOCK, params=PARAMS, headers=api.auth("reader")).status_code == 200
    key_id = api.keys["reader"].split("_")[1]
    api.engine.repository.revoke_key(key_id)
    refused = api.client.get(BLOCK, params=PARAMS, headers=api.auth("reader"))
    assert refused.status_code == 401


def test_errors_are_never_stored(api: Api, routed: list[str]) -> None:
    for _ in range(2):
        preview = api.client.get(
            BLOCK, params={**PARAMS, "preview": "true"}, headers=api.auth("reader")
        )
        assert preview.status_code == 403
        unknown = api.client.get(
            BLOCK, params={**PARAMS, "regoin": "AT"}, headers=api.auth("reader")
        )
        assert unknown.status_code == 400
    assert len(routed) == 0


def test_a_publish_is_served_on_the_next_request(api: Api) -> None:
    url = "/v1/components/product.hp200.overview/variants/de-AT"
    for _ in range(2):  # stored: the fast path holds it
        before = api.client.get(BLOCK, params=PARAMS, headers=api.auth("reader"))
    current = api.client.get(url, headers=api.auth("editor"))
    edited = {k: v for k, v in current.json().items() if k not in ("component", "key", "version")}
    edited["body"] = "<p>neu</p>"
    saved = api.client.put(
        url, json=edited, headers={**api.auth("editor"), "If-Match": current.headers["etag"]}
    )
    assert saved.status_code == 200, saved.text
    after = api.client.get(BLOCK, params=PARAMS, headers=api.auth("reader"))
    assert before.text != after.text == "<p>neu</p>"
    assert after.headers["etag"] != before.headers["etag"]


def test_a_schedule_that_ends_is_not_served_past_its_end(api: Api) -> None:
    """Without ``at`` every request reads at its own moment, stored answer or not."""
    ends = datetime.now(UTC) + timedelta(seconds=3)
    component = api.engine.library().components["product.hp200.overview"]
    current = component.variants["de-AT"]
    short = Variant.model_validate(
        current.model_dump() | {"body": "<p>bald vorbei</p>", "valid_until": ends}
    )
    api.engine.editor.save_variant(
        "product.hp200.overview", short, expected_version=current.version
    )
    for _ in range(2):  # stored: the fast path holds it
        during = api.client.get(BLOCK, params=PARAMS, headers=api.auth("reader"))
    assert during.text == "<p>bald vorbei</p>"
    time.sleep(max(0.0, (ends - datetime.now(UTC)).total_seconds()) + 0.05)
    after = api.client.get(BLOCK, params=PARAMS, headers=api.auth("reader"))
    assert after.status_code == 200
    assert after.text != during.text


def test_assembly_never_runs_in_the_event_loop(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """A body may take its whole time limit: the loop only looks blocks up."""
    engine = api.engine
    threads: dict[str, set[int]] = {"lookup": set(), "assembly": set()}
    lookup, assemble = engine.cached_block, engine.block

    def spy_lookup(*args: Any, **kwargs: Any) -> Any:
        threads["lookup"].add(threading.get_ident())
        return lookup(*args, **kwargs)

    def spy_assemble(*args: Any, **kwargs: Any) -> Any:
        threads["assembly"].add(threading.get_ident())
        return assemble(*args, **kwargs)

    monkeypatch.setattr(engine, "cached_block", spy_lookup)
    monkeypatch.setattr(engine, "block", spy_assemble)
    for locale in ("de", "fr", "en"):
        response = api.client.get(BLOCK, params={"locale": locale}, headers=api.auth("reader"))
        assert response.status_code == 200
    assert threads["lookup"] and threads["assembly"]
    assert not threads["lookup"] & threads["assembly"]


def at(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_new_moments_are_answered_from_memory_as_the_route_answers(
    api: Api, routed: list[str]
) -> None:
    """A never-seen ``at`` each time (no stored answer matches): the answer made for the same
    reader at another moment is sent again, with the route's bytes and ETag."""
    start = datetime(2026, 3, 1, tzinfo=UTC)
    answers = [
        api.client.get(
            BLOCK,
            params={**PARAMS, "at": at(start + timedelta(seconds=n))},
            headers=api.auth("reader"),
        )
        for n in range(4)
    ]
    assert len(routed) == 1
    first = answers[0]
    assert {(a.status_code, a.content, a.headers["etag"]) for a in answers} == {
        (200, first.content, first.headers["etag"])
    }
    # The route, asked for the same reader at yet another moment, answers the same.
    fast_path = api.client.get(
        BLOCK, params={**PARAMS, "at": at(start + timedelta(days=1))}, headers=api.auth("reader")
    )
    assert fast_path.headers["etag"] == first.headers["etag"]
    assert len(routed) == 1


def test_a_new_moment_past_a_schedule_boundary_gets_the_other_variant(api: Api) -> None:
    component = api.engine.library().components["product.hp200.overview"]
    current = component.variants["de-AT"]
    begins = datetime(2030, 1, 1, tzinfo=UTC)
    later = Variant.model_validate(
        current.model_dump() | {"body": "<p>ab 2030</p>", "valid_from": begins}
    )
    api.engine.editor.save_variant(
        "product.hp200.overview", later, expected_version=current.version
    )
    texts = [
        api.client.get(BLOCK, params={**PARAMS, "at": at(moment)}, headers=api.auth("reader"))
        for moment in (
            begins - timedelta(seconds=2),
            begins - timedelta(seconds=1),  # made from memory: the same as before
            begins + timedelta(seconds=1),  # past the boundary: not the answer before it
            begins + timedelta(seconds=2),
        )
    ]
    assert [t.status_code for t in texts] == [200] * 4
    assert texts[0].text == texts[1].text != "<p>ab 2030</p>"
    assert texts[2].text == texts[3].text == "<p>ab 2030</p>"
    assert texts[1].headers["etag"] != texts[2].headers["etag"]


def test_a_moment_that_is_no_instant_gets_the_routes_error(api: Api) -> None:
    for n in range(2):  # the reader's answer is in memory
        api.client.get(
            BLOCK, params={**PARAMS, "at": f"2026-03-0{n + 1}"}, headers=api.auth("reader")
        )
    for moment in ("yesterday", "2026-13-01", "99999-01-01T00:00:00Z"):
        refused = api.client.get(BLOCK, params={**PARAMS, "at": moment}, headers=api.auth("reader"))
        assert refused.status_code == 422, moment
        assert refused.json()["error"]["code"]
