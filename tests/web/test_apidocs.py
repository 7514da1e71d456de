"""``/docs`` works on a machine without internet: in real Chromium, with every request to a host
other than the server refused, the page shows the API's operations and asks nothing outside."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.servers import serve

pytestmark = pytest.mark.slow


def _offline_page(browser: Any, base: str) -> tuple[Any, list[str]]:
    """A page whose requests anywhere but ``base``'s host are aborted and recorded."""
    page = browser.new_context().new_page()
    outside: list[str] = []
    own = urlsplit(base).netloc

    def route(route: Any) -> None:
        url = route.request.url
        if urlsplit(url).scheme in {"http", "https"} and urlsplit(url).netloc != own:
            outside.append(url)
            route.abort()
        else:
            route.continue_()

    page.route("**/*", route)
    return page, outside


def test_docs_show_the_operations_offline(tmp_path: Path, browser: Any) -> None:
    from playwright.sync_api import expect

    with serve(f"sqlite:///{tmp_path / 'docs.db'}", tmp_path) as server:
        page, outside = _offline_page(browser, server.url)
        page.goto(f"{server.url}/docs")
        operations = page.locator(".opblock-summary-path")
        expect(operations.first).to_be_visible(timeout=20_000)
        paths = set(operations.all_inner_texts())
        assert {"/v1/blocks/{component}", "/v1/render"} <= {p.strip() for p in paths}
        assert outside == []


def test_redoc_is_not_offered(tmp_path: Path) -> None:
    """ReDoc would load its logo from a CDN: it is not served rather than served half-broken."""
    import httpx2

    with serve(f"sqlite:///{tmp_path / 'docs.db'}", tmp_path) as server:
        assert httpx2.get(f"{server.url}/redoc").status_code == 404
        assert httpx2.get(f"{server.url}/docs").status_code == 200
