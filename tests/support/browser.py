"""Debian's headless Chromium, driven by Playwright, for the tests that need a real browser.

Playwright cannot download its own browser here, so it drives ``/usr/bin/chromium``. Where the
set-up could have installed it (``make test`` sets ``CONTENT_ENGINE_REQUIRE_BROWSER=1`` as root
on Debian), a missing browser fails the test instead of skipping it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# The sandbox needs privileges CI's container lacks; the rest keeps Chromium from phoning home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@contextmanager
def chromium() -> Iterator[Any]:
    """A launched browser (Playwright's ``Browser``), closed afterwards."""
    if not CHROMIUM.exists():
        message = f"Debian's chromium is not installed at {CHROMIUM}"
        if os.environ.get("CONTENT_ENGINE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{message}, though the set-up could install it (make test does)")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def fill_body(page: Any, text: str) -> None:
    """Type over the body in the workbench's body editor (CodeMirror), as pasted; the textarea
    it stands over follows, and is what the form posts."""
    page.locator(".cm-editor .cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(text)
