"""Editor bodies through the API are stored sanitised, and the PUT says what was removed
(issue 5, "Escaping"); customer values stay escaped in every output."""

from __future__ import annotations

from typing import Any

from tests.support.apps import Api

COMP = "/v1/components/snippet.unsafe"
VAR = COMP + "/variants/en"


def put(api: Api, body: str, etag: str | None = None, url: str = VAR) -> Any:
    condition = {"If-Match": etag} if etag else {"If-None-Match": "*"}
    payload = {"body": body, "conditions": {"locale": "en"}, "status": "published"}
    return api.client.put(url, json=payload, headers={**api.auth("editor"), **condition})


def setup_component(api: Api) -> None:
    created = api.client.put(
        COMP,
        json={"type": "snippet", "title": "Unsafe"},
        headers={**api.auth("editor"), "If-None-Match": "*"},
    )
    assert created.status_code == 201, created.text


def block(api: Api, **customer: str) -> Any:
    response = api.client.post(
        "/v1/blocks",
        json={"context": {"locale": "en", "customer": customer}, "components": ["snippet.unsafe"]},
        headers=api.auth("reader"),
    )
    assert response.status_code == 200, response.text
    return response.json()[0]


def test_put_stores_the_sanitised_body_and_says_what_was_removed(api: Api) -> None:
    setup_component(api)
    body = (
        "<p>Hello {{ customer.name }}</p>\n"
        "<script>alert(1)</script>\n"
        '<a href="javascript:alert(1)" onclick="go()">x</a>'
    )
    response = put(api, body)
    assert response.status_code == 201, response.text
    data = response.json()
    assert data["removed"] == [
        "removed <script> (line 2)",
        "removed javascript: URL from <a href> (line 3)",
        "removed attribute onclick from <a> (line 3)",
    ]
    clean = "<p>Hello {{ customer.name }}</p>\n\n<a>x</a>"
    assert data["body"] == clean
    stored = api.client.get(VAR, headers=api.auth("editor"))
    assert stored.json()["body"] == clean
    assert "removed" not in stored.json()  # a GET can be PUT back as it is
    served = block(api, name="Ann")
    assert served["html"] == "<p>Hello Ann</p>\n\n<a>x</a>"
    assert served["warnings"] == []


def test_a_clean_body_is_stored_as_written(api: Api) -> None:
    setup_component(api)
    body = '<p class="x">\r\n  caf&eacute;&nbsp;{{ customer.name }}</p >'
    response = put(api, body)
    assert response.status_code == 201
    assert response.json()["removed"] == []
    assert response.json()["body"] == body


def test_customer_urls_are_checked_when_rendered(api: Api) -> None:
    setup_component(api)
    response = put(api, '<a href="{{ customer.url }}" title="{{ customer.name }}">x</a>')
    assert response.json()["removed"] == []
    for url in ("javascript:alert(1)", "<script>", " JAVASCRIPT:alert(1)"):
        served = block(api, url=url, name='"><script>')
        assert served["html"] == '<a href="#" title="&#34;&gt;&lt;script&gt;">x</a>'
        assert any("replaced by '#'" in w for w in served["warnings"])
    served = block(api, url="https://x.example/?a=1&b=2", name="Ann")
    assert served["html"] == '<a href="https://x.example/?a=1&amp;b=2" title="Ann">x</a>'
    assert served["warnings"] == []


def test_jinja_that_would_switch_escaping_off_is_refused(api: Api) -> None:
    setup_component(api)
    for body in (
        "<p>{% autoescape false %}{{ customer.name }}{% endautoescape %}</p>",
        "<p>{% raw %}{{ '<script>' }}{% endraw %}</p>",
    ):
        response = put(api, body)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "malformed_library"
    assert api.client.get(VAR, headers=api.auth("editor")).status_code == 404
