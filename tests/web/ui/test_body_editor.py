"""The body editor's JSON routes: completions, and the check as one types (marks at their
line and column), behind the workbench's session and CSRF token, bounded; and its bundle."""

from __future__ import annotations

import logging
import re
from typing import Any

import anyio
import pytest

from content_engine.core.models import Context
from content_engine.web.ui.bodycheck import MAX_BODY_CHARS, includes_at
from content_engine.web.ui.bodyhints import NAMES
from content_engine.web.ui.editorbundle import script_url
from tests.web.ui.conftest import Workbench

COMPONENT = "snippet.hotline"
PAGE = f"/components/{COMPONENT}/variants/default"
CHECK = f"/components/{COMPONENT}/check-body"


def check(bench: Workbench, body: str, key: str = "default", **kwargs: Any) -> Any:
    return bench.post(CHECK, {"key": key, "body": body}, page=PAGE, **kwargs)


def marks(bench: Workbench, body: str, key: str = "default") -> list[dict[str, Any]]:
    response = check(bench, body, key)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    found: list[dict[str, Any]] = response.json()["marks"]
    return found


def test_a_body_saving_keeps_as_it_is_has_no_marks(bench: Workbench) -> None:
    body = bench.api.engine.repository.get_variant(COMPONENT, "default").body
    assert marks(bench, body) == []


def test_malformed_markup_is_marked_at_its_line_and_column(bench: Workbench) -> None:
    (mark,) = marks(bench, "<p>one</p>\n<p>two <b>bold</p>\n")
    assert mark["severity"] == "error" and "malformed XHTML" in mark["message"]
    assert (mark["line"], mark["column"]) == (2, 15)  # the "<" of "</p>", where the parser stopped
    assert mark["end_line"] == 2 and mark["end_column"] > mark["column"]
    assert not mark["message"].startswith("<body>")  # the mark says where, not the text


def test_the_mark_is_where_the_save_says(bench: Workbench) -> None:
    body = "<p>Grüße 😀</p>\n<p>x <i>y</p>"
    (mark,) = marks(bench, body)
    response = bench.post(PAGE, {"body": body, "expected_version": "1"}, page=PAGE)
    assert response.status_code == 422
    found = re.search(r"Line (\d+), column (\d+):", response.text)
    assert found, response.text[-3000:]
    line, column = int(found.group(1)), int(found.group(2))
    # The same line; the mark spans the save's column (past the line's end: its last tag).
    assert mark["line"] == line == 2
    assert mark["column"] <= column <= mark["end_column"]
    assert (mark["column"], mark["end_column"]) == (10, 14)  # "</p>", in characters


def test_a_template_error_is_marked_on_its_line(bench: Workbench) -> None:
    (mark,) = marks(bench, "<p>fine</p>\n<p>{{ product.price | nosuchfilter }}</p>\n")
    assert "nosuchfilter" in mark["message"]
    assert (mark["line"], mark["column"]) == (2, 1)
    assert mark["end_column"] == len("<p>{{ product.price | nosuchfilter }}</p>") + 1


def test_an_unknown_include_is_marked_at_its_id(bench: Workbench) -> None:
    body = '<p>x</p>\n  <ce-include component="snippet.nowhere"/>\n'
    (mark,) = marks(bench, body)
    assert mark["code"] == "missing_include" and "snippet.nowhere" in mark["message"]
    start = body.split("\n")[1].index("snippet.nowhere") + 1
    assert (mark["line"], mark["column"], mark["end_column"]) == (2, start, start + 15)


def test_an_include_that_closes_a_cycle_is_marked(bench: Workbench) -> None:
    (mark,) = marks(bench, f'<ce-include component="{COMPONENT}"/>')
    assert mark["code"] == "include_cycle" and mark["line"] == 1


def test_includes_in_comments_are_no_includes() -> None:
    body = "<!-- <ce-include component=\"a\"/> -->\n<ce-include component=' b '/>"
    (found,) = includes_at(body)
    assert found.target == "b" and body[found.start : found.end] == " b "


def test_what_saving_takes_out_is_a_warning(bench: Workbench) -> None:
    found = marks(bench, '<p>a</p>\n<p onclick="x()">b</p>\n')
    assert [(m["severity"], m["line"]) for m in found] == [("warning", 2)]
    assert "onclick" in found[0]["message"]


def test_a_new_variants_body_is_checked_without_a_key(bench: Workbench) -> None:
    assert marks(bench, "<p>new</p>", key="") == []
    assert marks(bench, "<p>new</p>", key="not a key!") == []
    assert marks(bench, "<p>new", key="")[0]["severity"] == "error"


def test_the_check_stores_nothing(bench: Workbench) -> None:
    revision = bench.api.engine.repository.revision()
    marks(bench, "<p>changed</p>")
    assert bench.api.engine.repository.revision() == revision


@pytest.mark.parametrize(
    "body",
    [
        "<div>" * 5000 + "</div>" * 5000,
        "{% if x %}" * 300,
        "<p>&nosuchentity;</p>",
        "<p>\x00</p>",
        "<ce-include component='" + "a" * 5000 + "'/>",
        "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><p>&a;</p>",
    ],
)
def test_hostile_bodies_get_marks_never_a_500(bench: Workbench, body: str) -> None:
    response = check(bench, body)
    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        for mark in response.json()["marks"]:
            assert mark["line"] >= 1 and mark["column"] >= 1
    else:
        assert "error" in response.json()


def test_a_body_over_the_bound_is_refused_unread(bench: Workbench) -> None:
    response = check(bench, "x" * (MAX_BODY_CHARS + 1))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_without_this_sessions_token_the_check_is_refused(bench: Workbench) -> None:
    response = bench.client.post(CHECK, data={"csrf_token": "0" * 64, "body": "<p/>"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_refused"
    response = bench.client.post(CHECK, data={"body": "<p/>"})
    assert response.status_code == 403


def test_an_unreadable_form_is_the_error_shape(bench: Workbench) -> None:
    response = bench.client.post(
        CHECK, content=b"body=%FF%FE", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 400 and response.json()["error"]["code"]
    response = bench.client.post(CHECK, json={"body": "<p/>"})
    assert response.status_code == 400 and response.json()["error"]["code"]


def test_an_unknown_component_is_404(bench: Workbench) -> None:
    response = bench.post("/components/no.such/check-body", {"body": "<p/>"}, page=PAGE)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(("method", "url"), [("GET", "/body-hints"), ("POST", CHECK)])
def test_without_a_session_both_go_to_sign_in(guest: Workbench, method: str, url: str) -> None:
    response = guest.client.request(method, url, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in?next=")


def test_a_reader_key_gets_no_session_for_them(guest: Workbench) -> None:
    response = guest.post("/sign-in", {"key": guest.api.keys["reader"]}, page="/sign-in")
    assert response.status_code != 303
    assert guest.client.get("/body-hints", follow_redirects=False).status_code == 303


def test_the_hints_offer_what_the_library_and_the_sandbox_have(bench: Workbench) -> None:
    response = bench.get("/body-hints")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    hints = response.json()
    library = bench.api.engine.library()
    assert [c["id"] for c in hints["components"]] == sorted(library.components)
    conditions = hints["conditions"]
    assert set(conditions) == {
        "data-segment",
        "data-role",
        "data-region",
        "data-channel",
        "data-locale",
    }
    assert conditions["data-locale"] == list(library.settings.locales)
    assert {"technician", "buyer"} <= set(conditions["data-role"])
    assert {"DACH", "AT"} <= set(conditions["data-region"])
    assert {"web", "print", "email"} <= set(conditions["data-channel"])
    assert "residential" in conditions["data-segment"]
    filters = {f["name"]: f["locale"] for f in hints["filters"]}
    assert filters["currency"] is True and filters["date"] is True and filters["upper"] is False
    assert not {"ce_attr", "ce_safe_url", "safe"} & set(filters)
    assert set(filters) <= set(bench.api.engine.sandbox.filters)
    assert {"price", "installed_on"} <= set(hints["fields"]["product"])
    assert "name" in hints["fields"]["customer"]
    elements = {e["name"]: e["attributes"] for e in hints["elements"]}
    assert "component" in elements["ce-include"] and "script" not in elements
    assert "data-role" in elements["p"]


def test_the_names_offered_are_the_names_a_body_gets(bench: Workbench) -> None:
    engine = bench.api.engine
    assembler = engine.assembler(engine.library())
    reader = engine.reader(Context(locale="de"))
    offered = {n for n in assembler._variables(reader) if not n.startswith("__")}
    assert offered == set(NAMES)
    context = {f for f in bench.get("/body-hints").json()["fields"]["context"]}
    assert context == set(Context.model_fields)


def test_the_variant_page_loads_the_bundle_by_its_version_and_no_inline_script(
    bench: Workbench,
) -> None:
    page = bench.get(PAGE).text
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert f'<script src="{script_url()}" defer>' in scripts
    assert all(" src=" in s for s in scripts)
    assert re.search(r"<script[^>]*>(?!</script>)", page) is None  # nothing between the tags
    assert "data-body-editor" in page and f'data-check-url="{CHECK}"' in page
    assert 'data-key="default"' in page
    assert 'data-key=""' in bench.get(f"/components/{COMPONENT}/new-variant").text


def test_the_bundle_is_served_for_a_year_and_not_sniffed(guest: Workbench) -> None:
    response = guest.get(script_url())
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.content.startswith(b"/*! content-engine body editor")
    other = guest.get("/editor/0123456789abcdef/editor.js")
    assert other.status_code == 404 and other.json()["error"]["code"] == "not_found"
    assert guest.get("/editor/nothex/editor.js").status_code == 422
    licences = guest.get("/static/editor.licenses.txt")
    assert licences.status_code == 200 and "@codemirror/view" in licences.text


def test_a_check_the_browser_aborts_mid_body_is_no_traceback(
    bench: Workbench, caplog: pytest.LogCaptureFixture
) -> None:
    """The editor aborts a pending check when the next keystroke sends another: the server
    meets a client gone before its form was read, and answers 499 without an error or a
    traceback in its log (it had logged one per aborted check)."""
    cookie = "; ".join(f"{name}={value}" for name, value in bench.client.cookies.items())
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": CHECK, "raw_path": CHECK.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 5000), "server": ("testserver", 80),
        "headers": [
            (b"host", b"testserver"), (b"cookie", cookie.encode()),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", b"1000"),
        ],
    }  # fmt: skip
    messages = iter([{"type": "http.request", "body": b"key=default&body=%3Cp", "more_body": True}])
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(messages, {"type": "http.disconnect"})

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    caplog.set_level(logging.INFO)
    anyio.run(bench.client.app, scope, receive, send)
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [499]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert any("left before it was read" in r.getMessage() for r in caplog.records)
