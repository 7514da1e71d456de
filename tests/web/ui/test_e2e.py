"""The workbench end to end, in a real browser: Debian's headless Chromium driven by Playwright,
against ``content-engine serve`` on a free loopback port with the sample library.

An editor signs in, finds a component, saves a body with an XHTML error and sees it reported
with its line and column, fixes it, meets a colleague's concurrent save, previews the block as
two readers, publishes, and the reader API then serves the new version. With
``CE_SCREENSHOTS=1`` the main screens are saved to ``docs/screenshots/`` (CI leaves the tracked
files alone). The ``browser`` fixture (tests/support/browser.py) skips only where Chromium could not
be installed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest

from content_engine.engine.facade import Engine
from content_engine.settings import Settings
from tests.support.browser import fill_body
from tests.support.engine_factory import ROOT, SAMPLE
from tests.support.servers import serve

pytestmark = pytest.mark.slow

SCREENSHOTS = ROOT / "docs" / "screenshots"
WIDE = {"width": 1280, "height": 800}
HTTP_STATUS_NOTE = "Failed to load resource: the server responded with a status of 4"
NARROW = {"width": 400, "height": 800}

OVERVIEW = "product.hp200.overview"
BROKEN = """<h2>Nordwind HP200 für Österreich</h2>
<p>Leise und sparsam: die HP200 heizt <b>bis −20&nbsp;°C.</p>
<p>Inbetriebnahme durch unsere Service-Techniker in ganz Österreich.</p>
"""
FIXED = BROKEN.replace("°C.</p>", "°C</b>.</p>")
MINE = FIXED + "<p>Jetzt mit Förderung bis 7.500&nbsp;€.</p>\n"
THEIRS = "<h2>Nordwind HP200</h2>\n<p>Text einer Kollegin.</p>\n"


@dataclass
class Server:
    url: str
    editor_key: str
    reader_key: str
    log: Path


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """``content-engine serve`` on a fresh SQLite database with the sample library."""
    db_url = f"sqlite:///{tmp_path / 'e2e.db'}"
    with Engine(Settings(db_url=db_url, home=ROOT)) as engine:
        engine.import_library(SAMPLE)
        editor_key = engine.repository.create_key("editor", "e2e editor")[1]
        reader_key = engine.repository.create_key("reader", "e2e reader")[1]
    with serve(db_url, tmp_path) as running:
        yield Server(running.url, editor_key, reader_key, running.stderr)


class Screens:
    """Screenshots of the main screens, only when asked for (they are tracked files)."""

    def __init__(self) -> None:
        self.enabled = os.environ.get("CE_SCREENSHOTS") == "1"
        if self.enabled:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(self, page: Any, name: str, *, full_page: bool = False) -> None:
        if self.enabled:
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def console_problems(message: Any) -> list[str]:
    """Console errors but the browser's note of each 4xx page (refusals are tested for)."""
    if message.type != "error" or message.text.startswith(HTTP_STATUS_NOTE):
        return []
    return [f"console {message.type}: {message.text}"]


def frame_heading(page: Any) -> Any:
    """The preview's heading, as a locator: assertions on it wait for the new preview."""
    return page.frame_locator("iframe.frame").locator("h2").first


def preview_as(page: Any, locale: str, region: str) -> None:
    page.get_by_label("Locale").fill(locale)
    page.get_by_label("Region").fill(region)
    page.get_by_role("button", name="Show the preview").click()
    page.wait_for_load_state()


def test_edit_preview_publish_in_a_real_browser(server: Server, browser: Any) -> None:
    from playwright.sync_api import expect

    screens = Screens()
    context = browser.new_context(viewport=WIDE, accept_downloads=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("console", lambda message: problems.extend(console_problems(message)))

    # --- sign in ------------------------------------------------------------------------------
    page.goto(f"{server.url}/components/{OVERVIEW}")
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screens.take(page, "01-sign-in")
    page.get_by_label("API key").fill("ce_000000000000_wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("This key is not valid")).to_be_visible()
    page.get_by_label("API key").fill(server.editor_key)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server.url}/components/{OVERVIEW}")  # back where we were going
    cookie = next(c for c in context.cookies() if c["name"] == "ce_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert cookie["value"] != server.editor_key  # a session's token, not the key
    assert server.editor_key.split("_", 2)[2] not in cookie["value"]

    # --- keyboard: the skip link is the first stop and lands in the main content -------------
    page.goto(f"{server.url}/")
    screens.take(page, "02-library")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()

    # --- find a component -------------------------------------------------------------------
    page.get_by_label("Search in id, title and text").fill("Rauchfangkehrer")
    page.get_by_role("button", name="Find").click()
    results = page.locator("table.components-table a.strong")
    expect(results).to_have_text(["brochure.subsidies", OVERVIEW])
    page.locator("table.components-table").get_by_role("link", name=OVERVIEW).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("HP200 air-to-water heat pump")
    page.get_by_role("link", name="de-AT", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Variant de-AT")

    # --- an XHTML error is reported inline, with line and column; the text is kept ----------
    body = page.locator("textarea#f-body")  # hidden under the body editor, which it follows
    fill_body(page, BROKEN)
    page.get_by_role("button", name="Save", exact=True).click()
    error = page.locator("#f-body-error")
    expect(error).to_contain_text(re.compile(r"Line 2, column \d+:"))
    expect(error).to_contain_text("malformed XHTML")
    assert body.input_value() == BROKEN
    expect(body).to_have_attribute("aria-invalid", "true")
    page.get_by_role("button", name="Show the place in the text").click()
    expect(page.locator(".cm-editor .cm-content")).to_be_focused()
    expect(page.locator("[data-caret-for=f-body]")).to_have_text(re.compile(r"^L2:\d+$"))
    expect(page.locator(".cm-lintRange-error").first).to_be_visible()  # marked as typed too
    page.mouse.move(0, 0)
    screens.take(page, "03-editor-error")

    # --- fix and save: a draft, version 2 ---------------------------------------------------
    fill_body(page, FIXED)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Saved as version 2.")).to_be_visible()
    expect(page.locator(".workflow")).to_contain_text("draft")

    # --- a colleague saves through the API while this editor types: a conflict, no loss ----
    fill_body(page, MINE)
    put = httpx2.put(
        f"{server.url}/v1/components/{OVERVIEW}/variants/de-AT",
        json={"conditions": {"locale": "de-AT"}, "status": "draft", "body": THEIRS},
        headers={"Authorization": f"Bearer {server.editor_key}", "If-Match": '"2"'},
    )
    assert put.status_code == 200, put.text
    page.get_by_role("button", name="Save", exact=True).click()
    expect(
        page.get_by_role("heading", name="Someone else saved this variant meanwhile")
    ).to_be_visible()
    expect(page.locator(".side-by-side")).to_contain_text("Text einer Kollegin.")
    expect(page.locator(".side-by-side")).to_contain_text("Jetzt mit Förderung")
    expect(page.locator("table.diff tr.diff-added").first).to_be_visible()
    assert body.input_value() == MINE
    screens.take(page, "04-conflict")
    page.get_by_role("button", name="Save mine after theirs").click()
    expect(page.get_by_text("Saved as version 4.")).to_be_visible()

    # --- preview as two readers: different content, with the explain trace ----------------
    page.get_by_role("link", name="Preview", exact=True).click()
    preview_as(page, "de-AT", "AT")
    expect(frame_heading(page)).to_have_text("Nordwind HP200 für Österreich")  # the draft
    winner = page.locator(".trace-list li.winner")
    expect(winner).to_contain_text("de-AT")
    expect(page.locator(".trace-list")).to_contain_text("lost: its locale comes later")
    screens.take(page, "05-preview-explain")
    preview_as(page, "en-US", "US")
    expect(frame_heading(page)).to_contain_text("heat pump")
    expect(frame_heading(page)).not_to_contain_text("Österreich")
    expect(winner).to_contain_text("en")

    # --- publish: draft → review → published -----------------------------------------------
    page.goto(f"{server.url}/components/{OVERVIEW}/variants/de-AT")
    page.get_by_role("button", name="Send to review").click()
    expect(page.get_by_text("Saved as version 5.")).to_be_visible()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Saved as version 6.")).to_be_visible()
    expect(page.locator(".steps [aria-current=step]")).to_have_text("published")

    served = httpx2.get(
        f"{server.url}/v1/blocks/{OVERVIEW}",
        params={"locale": "de-AT", "region": "AT"},
        headers={"Authorization": f"Bearer {server.reader_key}", "Accept": "application/json"},
    ).json()
    assert (served["variant"], served["version"]) == ("de-AT", 6)
    assert "Nordwind HP200 für Österreich" in served["html"]
    assert "Jetzt mit Förderung" in served["html"]

    # --- history: readable diffs, and a roll back is a new version ---------------------------
    page.get_by_role("link", name="History").first.click()
    expect(page.get_by_role("heading", name="History of de-AT")).to_be_visible()
    expect(page.locator("#v-4 ~ details table.diff tr.diff-added").first).to_be_visible()
    screens.take(page, "06-history-diff", full_page=True)

    # --- the whole publication, and its PDF --------------------------------------------------
    page.goto(f"{server.url}/publications/brochure.hp200/preview")
    preview_as(page, "de-AT", "AT")
    expect(page.locator("iframe.frame")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    assert download.value.suggested_filename == "brochure.hp200-de-AT-preview.pdf"
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")

    # --- a new variant with an undeclared role: lint finds it and links to it ----------------
    page.goto(f"{server.url}/components/snippet.hotline/new-variant")
    page.get_by_label("Variant key").fill("en-installer")
    fill_body(page, "<p>Installer line: +49 40 3344 5577</p>")
    page.get_by_label("Locale", exact=True).fill("en")
    page.get_by_label("Roles").fill("installer")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Saved as version 1.")).to_be_visible()
    page.get_by_role("link", name="Lint").click()
    expect(page.locator("table.problems")).to_contain_text("installer")
    screens.take(page, "07-lint")
    page.get_by_role("link", name="Edit snippet.hotline/en-installer").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Variant en-installer")

    # --- coverage: a draft changes nothing readers get; taking the block offline does -------
    page.goto(f"{server.url}/components/brochure.contact/variants/en")
    page.get_by_role("button", name="Back to draft").click()
    expect(page.locator("p.state")).to_contain_text("Readers get version")
    page.goto(f"{server.url}/coverage/brochure.hp200")
    expect(page.locator("td.gap")).to_have_count(0)
    page.goto(f"{server.url}/components/brochure.contact/variants/en")
    page.get_by_role("button", name="Take offline").click()
    expect(page.locator("p.state")).to_contain_text("No version is live")
    page.goto(f"{server.url}/coverage/brochure.hp200")
    expect(page.locator("td.gap").first).to_contain_text("brochure.contact")
    fallbacks = page.locator("td.fallback details").first
    fallbacks.locator("summary").click()
    expect(fallbacks).to_contain_text("brochure.hp200.cover → de")
    screens.take(page, "08-coverage", full_page=True)

    # --- a narrow window, and the German interface --------------------------------------------
    page.set_viewport_size(NARROW)
    page.goto(f"{server.url}/components/{OVERVIEW}/variants/de-AT")
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    screens.take(page, "09-narrow-editor")
    page.goto(f"{server.url}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    screens.take(page, "10-narrow-library")
    page.set_viewport_size(WIDE)
    page.get_by_role("link", name="Deutsch").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bibliothek")
    page.goto(f"{server.url}/lint")  # the choice is remembered
    expect(page.locator("html")).to_have_attribute("lang", "de")
    page.get_by_role("link", name="Bibliothek").click()
    screens.take(page, "11-library-de")

    # --- sign out ----------------------------------------------------------------------------
    page.get_by_role("button", name="Abmelden").click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    assert not [c for c in context.cookies() if c["name"] == "ce_session"]
    # The cookie copied before sign-out is worth nothing now: the server ended the session.
    replayed = browser.new_context(viewport=WIDE)
    replayed.add_cookies([{k: cookie[k] for k in ("name", "value", "domain", "path")}])
    again = replayed.new_page()
    again.goto(f"{server.url}/")
    expect(again).to_have_url(re.compile(r"/sign-in\?next="))
    replayed.close()
    static = httpx2.get(f"{server.url}/static/ui.css")
    assert static.headers["x-content-type-options"] == "nosniff"
    context.close()
    assert not problems, problems
    assert "Traceback" not in server.log.read_text()


def test_the_place_of_an_error_shown_before_the_editor_is_ready_is_kept(
    server: Server, browser: Any
) -> None:
    """ "Show the place in the text" clicked while the body editor still loads its hints moves
    the plain textarea's caret; the editor then starts there, focused (not at line 1)."""
    from playwright.sync_api import expect

    page = browser.new_context(viewport=WIDE).new_page()
    page.goto(f"{server.url}/sign-in")
    page.get_by_label("API key").fill(server.editor_key)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{server.url}/components/{OVERVIEW}/variants/de-AT")
    fill_body(page, BROKEN)
    held: list[Any] = []

    def hold(route: Any) -> None:  # the editor waits for its hints
        held.append(route)

    page.route("**/body-hints", hold)
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_role("button", name="Show the place in the text").click()
    expect(page.locator("textarea#f-body")).to_be_focused()
    for _ in range(100):  # the route's handler runs as Playwright hands on the request
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the page asked for the hints"
    assert page.locator(".cm-editor").count() == 0  # the editor is not there yet
    for route in held:
        route.continue_()
    expect(page.locator(".cm-editor .cm-content")).to_be_focused()
    expect(page.locator("[data-caret-for=f-body]")).to_have_text(re.compile(r"^L2:\d+$"))
