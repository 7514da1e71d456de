"""The body editor in real Chromium against ``content-engine serve``: it loads with no console
error and no request to another host, completes component ids in ``<ce-include>``, marks a
malformed tag at its line as one types, and the form still saves; without JavaScript the plain
textarea saves."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from content_engine.engine.facade import Engine
from content_engine.settings import Settings
from tests.support.engine_factory import ROOT, SAMPLE
from tests.support.servers import Server, serve

pytestmark = pytest.mark.slow

COMPONENT = "snippet.hotline"
EDITOR = f"/components/{COMPONENT}/variants/default"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Server, str, str]]:
    db_url = f"sqlite:///{tmp_path / 'editor.db'}"
    with Engine(Settings(db_url=db_url, home=ROOT)) as engine:
        engine.import_library(SAMPLE)
        key = engine.access.create_key("editor", "body editor")[1]
    with serve(db_url, tmp_path) as server:
        yield server, key, db_url


def sign_in(page: Any, url: str, key: str) -> None:
    page.goto(f"{url}/sign-in?next={EDITOR}")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}{EDITOR}")


def stored_body(db_url: str) -> str:
    with Engine(Settings(db_url=db_url, home=ROOT)) as engine:
        return engine.repository.get_variant(COMPONENT, "default").body


def test_the_editor_completes_marks_and_saves(
    served: tuple[Server, str, str], browser: Any
) -> None:
    from playwright.sync_api import expect

    server, key, db_url = served
    host = urlsplit(server.url).netloc
    context = browser.new_context()
    page = context.new_page()
    problems: list[str] = []
    elsewhere: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on(
        "console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None
    )
    page.on(
        "request", lambda r: None if urlsplit(r.url).netloc == host else elsewhere.append(r.url)
    )
    sign_in(page, server.url, key)

    editor = page.locator(".cm-editor .cm-content")
    expect(editor).to_be_visible()
    expect(page.locator("textarea#f-body")).to_be_hidden()  # still in the form, kept in step
    expect(page.locator(".cm-editor .tok-typeName, .cm-editor span").first).to_be_visible()

    # Completion of component ids inside <ce-include component="...">.
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type('\n<ce-include component="snippet.r')
    # The element names' list shows while the tag is typed; the ids' list replaces it a moment
    # later (completion runs debounced), so wait for the id rather than read the first list.
    options = page.locator(".cm-tooltip-autocomplete li")
    expect(options.filter(has_text="snippet.r290-notice")).to_have_count(1)
    expect(options.filter(has_text=re.compile(r"^abbr$"))).to_have_count(0)
    page.keyboard.press("Escape")

    # A malformed tag is marked on its line, as one types (the check's debounced call).
    # (insert_text: as pasted, without the editor closing tags as one types them.)
    page.keyboard.press("Control+a")
    page.keyboard.insert_text("<p>eins</p>\n<p>zwei</p>\n<p>drei <b>fett</p>\n<p>vier</p>")
    mark = page.locator(".cm-lintRange-error").first
    expect(mark).to_be_visible(timeout=10_000)
    marked_line = page.evaluate(
        """(() => {
          const line = document.querySelector('.cm-lintRange-error').closest('.cm-line');
          return [...document.querySelectorAll('.cm-content .cm-line')].indexOf(line) + 1;
        })()"""
    )
    assert marked_line == 3
    expect(page.locator("#f-body-check")).to_contain_text("Problems found: 1 errors")

    # Fixed, the marks go, and the form saves what the editor shows.
    page.keyboard.press("Control+a")
    page.keyboard.insert_text("<p>Neu: <strong>Hotline</strong></p>")
    expect(page.locator(".cm-lintRange-error")).to_have_count(0, timeout=10_000)
    expect(page.locator("#f-body-check")).to_contain_text("No problems", timeout=10_000)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Saved as version 2.")).to_be_visible()
    assert stored_body(db_url) == "<p>Neu: <strong>Hotline</strong></p>"

    assert problems == []
    assert elsewhere == []
    context.close()


def test_without_javascript_the_textarea_saves(
    served: tuple[Server, str, str], browser: Any
) -> None:
    from playwright.sync_api import expect

    server, key, db_url = served
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, server.url, key)
    expect(page.locator(".cm-editor")).to_have_count(0)
    body = page.get_by_label("Body (XHTML)")
    expect(body).to_be_visible()
    body.fill("<p>Ohne Skript gespeichert.</p>\n")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Saved as version 2.")).to_be_visible()
    assert stored_body(db_url) == "<p>Ohne Skript gespeichert.</p>\n"
    context.close()
