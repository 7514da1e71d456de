"""The agent's console in real Chromium against ``content-engine serve --sources``: an agent
signs in, types a serial number and sees the document with the CRM's values inside the
sandboxed frame, the provenance table, and a PDF download that is a real PDF."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from content_engine.engine.facade import Engine
from content_engine.settings import Settings
from tests.sources.service import Service, running
from tests.support.engine_factory import ROOT
from tests.support.lookups import write_library, write_sources
from tests.support.servers import Server, serve

pytestmark = pytest.mark.slow


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Server, str, Service]]:
    db_url = f"sqlite:///{tmp_path / 'console.db'}"
    with running() as service:
        sources = write_sources(tmp_path / "deploy", service.url)
        with Engine(Settings(db_url=db_url, home=ROOT, sources=str(sources))) as engine:
            engine.import_library(write_library(tmp_path / "lib"))
            key = engine.access.create_key("agent", "console agent")[1]
        with serve(db_url, tmp_path, "--sources", str(sources)) as server:
            yield server, key, service


def test_an_agent_types_a_serial_and_sees_the_sheet_at_once(
    served: tuple[Server, str, Service], browser: Any
) -> None:
    from playwright.sync_api import expect

    server, key, service = served
    page = browser.new_context(accept_downloads=True).new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.goto(f"{server.url}/sign-in")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/console")

    page.get_by_label("Value").fill("HP200-0042")
    started = time.monotonic()
    with page.expect_navigation():
        page.get_by_role("button", name="Show the document").click()
    answered = time.monotonic()
    document = page.frame_locator("iframe.frame")
    expect(document.get_by_text("Dear Anna Huber (gold), your HP200 Pro.")).to_be_visible()
    shown = time.monotonic()
    took = f"answered in {answered - started:.3f} s, shown {shown - answered:.3f} s later"
    assert shown - answered < 1.0, took
    assert shown - started < 2.0, took  # the whole round trip, on a shared CI machine

    provenance = page.locator("table.provenance tbody tr")
    expect(provenance).to_have_count(2)
    assert provenance.nth(0).inner_text().startswith("installation")
    assert "name, tier" in provenance.nth(1).inner_text()
    assert service.count("/customers/C-1") == 1

    with page.expect_download() as download:
        page.get_by_role("button", name="Download PDF").click()
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert not problems
