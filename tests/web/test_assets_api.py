"""Assets over HTTP: the public content-addressed route and the editors' ``/v1/assets``."""

from __future__ import annotations

import hashlib
import re

import pytest

from content_engine import Context
from content_engine.engine import Engine
from content_engine.settings import Settings
from tests.support.apps import Api, app_client

BLOCK = "/v1/blocks/product.hp200.overview"
SVG = (
    b"<svg xmlns='http://www.w3.org/2000/svg' width='4' height='4'>"
    b"<rect width='4' height='4'/></svg>"
)


def short(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def asset_url_in(html: str, name: str) -> str:
    found = re.search(rf'src="(/assets/[0-9a-f]{{16}}/{re.escape(name)})"', html)
    assert found, html
    return found.group(1)


def test_block_html_names_assets_by_hash_and_the_url_serves_them(api: Api) -> None:
    block = api.client.get(BLOCK, params={"locale": "en"}, headers=api.auth("reader"))
    assert block.status_code == 200
    assert 'src="assets/' not in block.text
    url = asset_url_in(block.text, "hp200.svg")
    served = api.client.get(url)  # no key
    assert served.status_code == 200
    assert served.content == api.engine.library().files["assets/hp200.svg"]
    assert url.split("/")[2] == short(served.content)
    assert served.headers["content-type"] == "image/svg+xml"
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-security-policy"] == (
        "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    )
    assert served.headers["etag"] == f'"{short(served.content)}"'
    again = api.client.get(url, headers={"If-None-Match": served.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_css_has_no_sandbox_policy_but_nosniff(api: Api) -> None:
    data = api.engine.library().files["assets/brand.css"]
    served = api.client.get(f"/assets/{short(data)}/brand.css")
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("text/css")
    assert "content-security-policy" not in served.headers
    assert served.headers["x-content-type-options"] == "nosniff"


def test_public_url_makes_asset_urls_absolute(sample_db_url: str) -> None:
    settings = Settings(db_url=sample_db_url, public_url="https://cdn.example/ce")
    with Engine(settings) as public, app_client(public) as api:
        block = api.client.get(BLOCK, params={"locale": "en"}, headers=api.auth("reader"))
        assert re.search(
            r'src="https://cdn\.example/ce/assets/[0-9a-f]{16}/hp200\.svg"', block.text
        )


@pytest.mark.parametrize(
    "path",
    [
        "/assets/0123456789abcdef/hp200.svg",  # wrong hash
        "/assets/0123456789ABCDEF/hp200.svg",  # not lowercase
        "/assets/0123/hp200.svg",  # short hash
        "/assets/{h}/%2e%2e/library.yaml",
        "/assets/{h}/..%2f..%2fetc/passwd",
        "/assets/{h}/hp200.svg%00.png",
        "/assets/{h}/..\\hp200.svg",
        "/assets/{h}/%5chp200.svg",
        "/assets/{h}/.hidden.svg",
        "/assets/{h}/" + "a/" * 700 + "x.svg",
        "/assets/{h}/hp200.js",
        "/assets/{h}/nope.svg",
        "/assets/{h}/HP200.SVG",
    ],
)
def test_hostile_or_unknown_asset_paths_are_404_in_the_error_shape(api: Api, path: str) -> None:
    h = short(api.engine.library().files["assets/hp200.svg"])
    answer = api.client.get(path.replace("{h}", h))
    assert answer.status_code == 404, answer.text
    assert answer.json()["error"]["code"] == "not_found"


def test_editor_creates_replaces_and_old_hash_stays_reachable(api: Api) -> None:
    editor = api.auth("editor")
    url = "/v1/assets/img/dot.svg"
    no_precondition = api.client.put(
        url, content=SVG, headers={**editor, "Content-Type": "image/svg+xml"}
    )
    assert no_precondition.status_code == 428
    created = api.client.put(
        url, content=SVG, headers={**editor, "Content-Type": "image/svg+xml", "If-None-Match": "*"}
    )
    assert created.status_code == 201, created.text
    first = created.json()
    assert first["version"] == 1 and first["hash"] == short(SVG)
    assert created.headers["etag"] == '"1"'
    twice = api.client.put(
        url, content=SVG, headers={**editor, "Content-Type": "image/svg+xml", "If-None-Match": "*"}
    )
    assert twice.status_code == 412

    newer = SVG.replace(b"width='4' height='4'/>", b"width='2' height='2'/>")
    stale = api.client.put(
        url, content=newer, headers={**editor, "Content-Type": "image/svg+xml", "If-Match": '"7"'}
    )
    assert stale.status_code == 412
    assert stale.json()["error"]["details"]["current_version"] == 1
    replaced = api.client.put(
        url, content=newer, headers={**editor, "Content-Type": "image/svg+xml", "If-Match": '"1"'}
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["version"] == 2

    old = api.client.get(first["url"])
    assert old.status_code == 200 and old.content == SVG
    new = api.client.get(replaced.json()["url"])
    assert new.status_code == 200 and new.content == newer

    detail = api.client.get(url, headers=editor)
    assert detail.status_code == 200 and detail.headers["etag"] == '"2"'
    assert [v["version"] for v in detail.json()["versions"]] == [2, 1]
    listed = api.client.get("/v1/assets", headers=editor).json()
    assert {"path": "img/dot.svg", "version": 2, "hash": short(newer)}.items() <= next(
        a for a in listed if a["path"] == "img/dot.svg"
    ).items()
    assert "assets/img/dot.svg" in api.engine.library().files


@pytest.mark.parametrize(
    ("path", "content_type", "status", "code"),
    [
        ("evil.js", "text/javascript", 400, "bad_asset_path"),
        ("%2e%2e/x.svg", "image/svg+xml", 400, "bad_asset_path"),
        ("a//b.svg", "image/svg+xml", 400, "bad_asset_path"),
        ("dot.svg", "text/html", 415, "unsupported_media_type"),
        ("dot.svg", None, 415, "unsupported_media_type"),
        ("x" * 600 + ".svg", "image/svg+xml", 400, "bad_asset_path"),
    ],
)
def test_uploads_are_checked(
    api: Api, path: str, content_type: str | None, status: int, code: str
) -> None:
    headers = {**api.auth("editor"), "If-None-Match": "*"}
    if content_type:
        headers["Content-Type"] = content_type
    answer = api.client.put(f"/v1/assets/{path}", content=SVG, headers=headers)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code


def test_uploads_need_the_editor_role_and_a_bounded_body(api: Api) -> None:
    reader = api.client.put(
        "/v1/assets/dot.svg",
        content=SVG,
        headers={**api.auth("reader"), "Content-Type": "image/svg+xml", "If-None-Match": "*"},
    )
    assert reader.status_code == 403
    huge = api.client.put(
        "/v1/assets/big.png",
        content=b"\x00" * (api.engine.settings.max_body_bytes + 1),
        headers={**api.auth("editor"), "Content-Type": "image/png", "If-None-Match": "*"},
    )
    assert huge.status_code == 413
    assert huge.json()["error"]["code"] == "payload_too_large"
    assert api.client.get("/v1/assets", headers=api.auth("reader")).status_code == 403


def test_a_rendered_page_names_asset_urls_and_replays_byte_identically(api: Api) -> None:
    reader = api.auth("reader")
    body = {"publication": "brochure.hp200", "context": {"locale": "en"}, "format": "html"}
    rendered = api.client.post("/v1/render", json=body, headers=reader)
    assert rendered.status_code == 200, rendered.text
    assert "data:image/svg+xml" not in rendered.text
    url = asset_url_in(rendered.text, "hp200.svg")
    receipt_id = rendered.headers["x-render-id"]
    # The asset is replaced; the page's URL still serves the old bytes, and replay names it.
    editor = api.auth("editor")
    replaced = api.client.put(
        "/v1/assets/hp200.svg",
        content=SVG,
        headers={**editor, "Content-Type": "image/svg+xml", "If-Match": '"1"'},
    )
    assert replaced.status_code == 200, replaced.text
    assert api.client.get(url).status_code == 200
    agent = api.auth("agent")
    replay = api.client.post(f"/v1/renders/{receipt_id}/replay", headers=agent)
    assert replay.status_code == 200
    assert replay.content == rendered.content
    fresh = api.client.post("/v1/render", json=body, headers=reader)
    assert asset_url_in(fresh.text, "hp200.svg") != url


def test_a_fragment_names_asset_urls(api: Api) -> None:
    body = {"publication": "brochure.hp200", "context": {"locale": "en"}, "format": "fragment"}
    rendered = api.client.post("/v1/render", json=body, headers=api.auth("reader"))
    assert rendered.status_code == 200
    assert 'src="assets/' not in rendered.text
    assert api.client.get(asset_url_in(rendered.text, "hp200.svg")).status_code == 200


def test_a_receipt_from_before_asset_urls_replays_inlined(api: Api) -> None:
    """A receipt without asset URLs (all before migration 0008) is replayed as rendered then."""
    rendered = api.engine.render("brochure.hp200", Context(locale="en"))
    assert rendered.receipt.assets is None
    assert b"data:image/svg+xml;base64," in rendered.content
    replay = api.engine.replay(rendered.receipt.id)
    assert replay.content == rendered.content
