"""Touchpoint routes through the ASGI app: blocks, renders, receipts, explain, errors."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from tests.support.apps import Api

BLOCK = "/v1/blocks/product.hp200.overview"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details", "request_id"}
    assert body["error"]["request_id"] == response.headers["x-request-id"]
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def test_healthz(api: Api) -> None:
    response = api.client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_block_html_and_json_by_accept(api: Api) -> None:
    params = {"locale": "de-AT", "region": "AT", "role": "buyer"}
    html = api.client.get(BLOCK, params=params, headers=api.auth("reader"))
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    assert html.text.startswith("<")
    assert html.headers["content-language"] == "de-AT"
    data = api.client.get(
        BLOCK, params=params, headers={**api.auth("reader"), "Accept": "application/json"}
    ).json()
    assert set(data) == {
        "component",
        "variant",
        "version",
        "locale",
        "html",
        "warnings",
        # CONTRACT 9: the experiment arm drawn (null outside one) and the feedback token.
        "experiment",
        "arm",
        "feedback_token",
    }
    assert (data["component"], data["variant"], data["locale"]) == (
        "product.hp200.overview",
        "de-AT",
        "de-AT",
    )
    assert data["html"] == html.text


def test_etag_and_304_and_cache_headers(api: Api) -> None:
    params = {"locale": "fr", "region": "FR"}
    first = api.client.get(BLOCK, params=params, headers=api.auth("reader"))
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert first.headers["cache-control"] == "public, max-age=60"
    assert {"Accept", "Accept-Language", "Authorization"} <= {
        v.strip() for v in first.headers["vary"].split(",")
    }
    again = api.client.get(
        BLOCK, params=params, headers={**api.auth("reader"), "If-None-Match": etag}
    )
    assert again.status_code == 304
    assert again.content == b""
    other = api.client.get(
        BLOCK, params={"locale": "de"}, headers={**api.auth("reader"), "If-None-Match": etag}
    )
    assert other.status_code == 200
    assert other.headers["etag"] != etag
    as_json = api.client.get(
        BLOCK, params=params, headers={**api.auth("reader"), "Accept": "application/json"}
    )
    assert as_json.headers["etag"] != etag  # another representation, another tag


def test_locale_negotiated_from_accept_language(api: Api) -> None:
    headers = {**api.auth("reader"), "Accept": "application/json"}
    data = api.client.get(
        BLOCK, headers={**headers, "Accept-Language": "ja, fr-CH;q=0.9, de;q=0.5"}
    ).json()
    assert data["locale"] == "fr"
    data = api.client.get(BLOCK, headers={**headers, "Accept-Language": "ja"}).json()
    assert data["locale"] == "en"


def test_drafts_only_in_preview_and_only_for_editors(api: Api) -> None:
    url = "/v1/blocks/promo.hp200.seasonal"
    params = {"locale": "en", "at": "2027-04-15T12:00:00Z"}
    live = api.client.get(
        url, params=params, headers={**api.auth("reader"), "Accept": "application/json"}
    )
    assert live.json()["variant"] != "en-spring-2027"
    refused = api.client.get(url, params={**params, "preview": "true"}, headers=api.auth("agent"))
    assert_error(refused, 403, "forbidden")
    preview = api.client.get(
        url,
        params={**params, "preview": "true"},
        headers={**api.auth("editor"), "Accept": "application/json"},
    )
    assert preview.json()["variant"] == "en-spring-2027"
    assert preview.headers["cache-control"] == "private, no-store"


def test_batch_blocks_with_per_item_errors(api: Api) -> None:
    body = {
        "context": {"locale": "de", "role": "buyer", "customer": {"name": "Anna"}},
        "components": ["product.hp200.overview", "service.call-script"],
    }
    response = api.client.post("/v1/blocks", json=body, headers=api.auth("reader"))
    assert response.status_code == 200
    first, second = response.json()
    assert first["variant"] == "de"
    assert second["component"] == "service.call-script"
    assert second["error"]["code"] == "no_variant"
    missing = api.client.post(
        "/v1/blocks", json={**body, "components": ["nope"]}, headers=api.auth("reader")
    )
    assert_error(missing, 404, "not_found")


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"locale": "de", "regoin": "AT"}, 400, "unknown_parameter"),
        ({"locale": "xx-ZZZZZZZZZZ"}, 422, "invalid_context"),
        ({"locale": "x" * 10_000}, 422, "invalid_request"),
        ({"locale": "de", "preview": "maybe"}, 422, "invalid_request"),
    ],
)
def test_bad_block_requests_are_4xx_in_the_error_shape(
    api: Api, params: dict[str, str], status: int, code: str
) -> None:
    assert_error(api.client.get(BLOCK, params=params, headers=api.auth("reader")), status, code)


def test_unknown_routes_and_methods_use_the_error_shape(api: Api) -> None:
    assert_error(api.client.get("/v1/nothing", headers=api.auth("reader")), 404, "not_found")
    assert_error(
        api.client.delete("/v1/render", headers=api.auth("reader")), 405, "method_not_allowed"
    )
    assert_error(
        api.client.get("/v1/blocks/Bad Id!", headers=api.auth("reader")), 422, "invalid_request"
    )


def test_render_html_pdf_json_with_receipts(api: Api) -> None:
    context = {"locale": "de-AT", "region": "AT", "role": "technician", "channel": "print"}
    for fmt, media in (
        ("html", "text/html"),
        ("pdf", "application/pdf"),
        ("json", "application/json"),
    ):
        response = api.client.post(
            "/v1/render",
            json={"publication": "manual.hp200", "context": context, "format": fmt},
            headers=api.auth("reader"),
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith(media)
        render_id = response.headers["x-render-id"]
        receipt = api.client.get(f"/v1/renders/{render_id}", headers=api.auth("agent")).json()
        assert receipt["publication"] == "manual.hp200"
        assert receipt["format"] == fmt
        assert receipt["context"]["locale"] == "de-AT"
        assert receipt["key_id"] is not None
        import hashlib

        assert receipt["sha256"] == hashlib.sha256(response.content).hexdigest()
        if fmt == "pdf":
            assert PdfReader(io.BytesIO(response.content)).metadata.title
    refused = api.client.get(f"/v1/renders/{render_id}", headers=api.auth("reader"))
    assert_error(refused, 403, "forbidden")


def test_replay_is_byte_identical_after_edits(api: Api) -> None:
    context = {"locale": "de", "region": "DE", "role": "technician", "at": "2026-11-23T10:00:00Z"}
    first = api.client.post(
        "/v1/render",
        json={"publication": "manual.hp200", "context": context},
        headers=api.auth("reader"),
    )
    render_id = first.headers["x-render-id"]
    # An editor changes a component the manual uses, and publishes it.
    url = "/v1/components/docs.safety/variants/de"
    current = api.client.get(url, headers=api.auth("editor"))
    edited = {
        **current.json(),
        "body": current.json()["body"].replace("R290", "R-290"),
        "status": "published",
    }
    for key in ("component", "key", "version"):
        edited.pop(key)
    saved = api.client.put(
        url, json=edited, headers={**api.auth("editor"), "If-Match": current.headers["etag"]}
    )
    assert saved.status_code == 200, saved.text
    now = api.client.post(
        "/v1/render",
        json={"publication": "manual.hp200", "context": context},
        headers=api.auth("reader"),
    )
    assert now.content != first.content
    replayed = api.client.post(f"/v1/renders/{render_id}/replay", headers=api.auth("agent"))
    assert replayed.status_code == 200
    assert replayed.content == first.content


def test_explain_over_http_matches_the_cli_shape(api: Api) -> None:
    response = api.client.get(
        "/v1/explain/legal.warranty",
        params={"locale": "de-AT", "region": "AT"},
        headers=api.auth("agent"),
    )
    data = response.json()
    assert {"component", "context", "chain", "winner", "variants"} <= set(data)
    assert data["winner"] == "de-region-at"


def test_auth_is_checked_on_every_route(api: Api) -> None:
    assert_error(api.client.get(BLOCK, params={"locale": "en"}), 401, "unauthorized")
    bad = {"Authorization": "Bearer ce_nothing_here"}
    assert_error(api.client.get(BLOCK, params={"locale": "en"}, headers=bad), 401, "unauthorized")
    key_id = api.keys["reader"].split("_")[1]
    api.engine.repository.revoke_key(key_id)
    revoked = api.client.get(BLOCK, params={"locale": "en"}, headers=api.auth("reader"))
    assert_error(revoked, 401, "unauthorized")


def test_oversize_and_malformed_bodies(api: Api) -> None:
    big = api.client.post(
        "/v1/blocks",
        content=b"{" + b" " * (3 * 1024 * 1024) + b"}",
        headers={**api.auth("reader"), "Content-Type": "application/json"},
    )
    assert_error(big, 413, "payload_too_large")
    broken = api.client.post(
        "/v1/render",
        content=b'{"publication": "manual.hp200", ',
        headers={**api.auth("reader"), "Content-Type": "application/json"},
    )
    assert_error(broken, 422, "invalid_request")
    unknown = api.client.post(
        "/v1/render",
        json={"publication": "manual.hp200", "context": {"locale": "de", "shoe": 42}},
        headers=api.auth("reader"),
    )
    error = assert_error(unknown, 422, "invalid_request")
    assert "context.shoe: unknown key" in error["message"]


def test_nul_characters_are_refused_not_stored(api: Api) -> None:
    response = api.client.post(
        "/v1/render",
        json={
            "publication": "service.sheet",
            "context": {"locale": "de", "customer": {"name": "a\u0000b"}},
        },
        headers=api.auth("reader"),
    )
    assert_error(response, 422, "invalid_request")
