"""The workbench's Assets page: list with hash and version, upload, replace, conflicts."""

from __future__ import annotations

import hashlib

from content_engine.web.ui.session import CSRF_FIELD
from tests.web.ui.conftest import Workbench

SVG = b"<svg xmlns='http://www.w3.org/2000/svg' width='3' height='3'/>"


def upload(bench: Workbench, data: dict[str, str], content: bytes, name: str = "x.svg") -> object:
    fields = {CSRF_FIELD: bench.token("/assets"), **data}
    return bench.client.post(
        "/assets",
        data=fields,
        files={"file": (name, content, "application/octet-stream")},
        follow_redirects=False,
    )


def test_the_page_lists_assets_with_hash_and_version(bench: Workbench) -> None:
    page = bench.get("/assets")
    assert page.status_code == 200
    data = bench.api.engine.library().files["assets/hp200.svg"]
    assert hashlib.sha256(data).hexdigest()[:16] in page.text
    assert 'aria-current="page">Assets<' in page.text


def test_upload_then_replace_and_a_stale_replace_is_refused(bench: Workbench) -> None:
    created = upload(bench, {"path": "img/dot.svg"}, SVG)
    assert created.status_code == 303, created.text  # type: ignore[attr-defined]
    shown = bench.get(created.headers["location"])  # type: ignore[attr-defined]
    assert "Stored img/dot.svg as version 1." in shown.text
    assert bench.api.engine.library().files["assets/img/dot.svg"] == SVG

    again = upload(bench, {"path": "img/dot.svg"}, SVG + b" ")
    assert again.status_code == 412  # type: ignore[attr-defined]
    assert "already exists" in again.text  # type: ignore[attr-defined]

    newer = SVG.replace(b"3", b"5")
    replaced = upload(bench, {"replaces": "img/dot.svg", "version": "1"}, newer)
    assert replaced.status_code == 303  # type: ignore[attr-defined]
    assert bench.api.engine.library().files["assets/img/dot.svg"] == newer
    stale = upload(bench, {"replaces": "img/dot.svg", "version": "1"}, SVG)
    assert stale.status_code == 412  # type: ignore[attr-defined]
    assert "now version 2" in stale.text  # type: ignore[attr-defined]
    assert bench.api.engine.library().files["assets/img/dot.svg"] == newer


def test_the_file_name_names_a_new_asset_and_bad_types_are_refused(bench: Workbench) -> None:
    named = upload(bench, {"path": ""}, SVG, name="from-name.svg")
    assert named.status_code == 303  # type: ignore[attr-defined]
    assert "assets/from-name.svg" in bench.api.engine.library().files
    script = upload(bench, {"path": ""}, b"alert(1)", name="evil.js")
    assert script.status_code == 400  # type: ignore[attr-defined]
    assert "type must be one of" in script.text  # type: ignore[attr-defined]
    assert "assets/evil.js" not in bench.api.engine.library().files


def test_upload_needs_the_csrf_token_and_a_multipart_body(bench: Workbench) -> None:
    forged = bench.client.post(
        "/assets",
        data={CSRF_FIELD: "0" * 64, "path": "x.svg"},
        files={"file": ("x.svg", SVG, "image/svg+xml")},
        follow_redirects=False,
    )
    assert forged.status_code == 400
    assert "assets/x.svg" not in bench.api.engine.library().files
    plain = bench.client.post("/assets", data={CSRF_FIELD: bench.token("/assets")})
    assert plain.status_code == 400
    garbage = bench.client.post(
        "/assets",
        content=b"--x\r\nnonsense\r\n\r\n" * 50,
        headers={"Content-Type": "multipart/form-data; boundary=x"},
    )
    assert garbage.status_code == 400


def test_the_page_is_translated(bench: Workbench) -> None:
    page = bench.get("/assets?lang=de")
    assert "Neues Asset hochladen" in page.text
