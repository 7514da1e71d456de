"""Assets in a real browser over real HTTP: a web page of another origin on 127.0.0.1 embeds a
block and its image loads; an SVG asset holding script never runs it, opened or embedded."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2
import pytest

from tests.support.browser import chromium
from tests.support.engine_factory import SAMPLE
from tests.support.servers import cli, free_port, serve

pytestmark = pytest.mark.slow

EVIL_SVG = (
    b"<svg xmlns='http://www.w3.org/2000/svg' width='8' height='8'>"
    b"<rect width='8' height='8'/>"
    b"<script>document.documentElement.setAttribute('data-ran', '1');"
    b"new Image().src = 'BEACON';</script></svg>"
)


class Frontend:
    """Another origin: serves one page, and records every path asked of it."""

    def __init__(self) -> None:
        self.page = b""
        self.asked: list[str] = []


@contextmanager
def frontend() -> Iterator[tuple[Frontend, str]]:
    site = Frontend()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(site.page)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def setup(tmp_path: Path) -> tuple[str, str]:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    cli("import", str(SAMPLE), "--db", url, cwd=tmp_path)
    key = cli("keys", "create", "--role", "editor", "--db", url, cwd=tmp_path).stdout.strip()
    return url, key


def test_a_page_of_another_origin_shows_the_blocks_image(
    setup: tuple[str, str], tmp_path: Path
) -> None:
    db_url, key = setup
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    with (
        serve(db_url, tmp_path, "--public-url", public, port=port) as server,
        frontend() as (site, origin),
        chromium() as browser,
    ):
        auth = {"Authorization": f"Bearer {key}"}
        block = httpx2.get(
            f"{server.url}/v1/blocks/product.hp200.overview",
            params={"locale": "en"},
            headers=auth,
        )
        assert block.status_code == 200, block.text
        assert f'src="{public}/assets/' in block.text
        site.page = f"<!doctype html><html><body>{block.text}</body></html>".encode()
        page = browser.new_page()
        page.goto(f"{origin}/product")
        image = page.locator("img[src*='/assets/'][src$='hp200.svg']")
        image.wait_for()
        page.wait_for_function("() => [...document.images].every(i => i.complete)")
        assert image.evaluate("i => i.naturalWidth") > 0


def test_an_svg_with_script_never_runs_it(setup: tuple[str, str], tmp_path: Path) -> None:
    db_url, key = setup
    with serve(db_url, tmp_path) as server, frontend() as (site, origin), chromium() as browser:
        svg = EVIL_SVG.replace(b"BEACON", f"{origin}/ran".encode())
        created = httpx2.put(
            f"{server.url}/v1/assets/evil.svg",
            content=svg,
            headers={
                "Authorization": f"Bearer {key}",
                "Content-Type": "image/svg+xml",
                "If-None-Match": "*",
            },
        )
        assert created.status_code == 201, created.text
        asset = server.url + created.json()["url"]
        page = browser.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text))
        opened = page.goto(asset)
        assert opened is not None and opened.status == 200
        assert "sandbox" in opened.headers["content-security-policy"]
        page.wait_for_timeout(300)
        assert page.evaluate("() => document.documentElement.getAttribute('data-ran')") is None

        site.page = (
            f"<!doctype html><html><body><img id='i' src='{asset}'>"
            f"<object id='o' data='{asset}' type='image/svg+xml'></object>"
            f"<iframe id='f' src='{asset}'></iframe></body></html>"
        ).encode()
        page.goto(f"{origin}/embeds")
        page.wait_for_function("() => document.getElementById('i').complete")
        assert page.evaluate("() => document.getElementById('i').naturalWidth") > 0
        page.wait_for_timeout(500)
        assert "/ran" not in site.asked, site.asked
        assert page.evaluate("() => document.documentElement.getAttribute('data-ran')") is None
