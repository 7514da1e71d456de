"""Creating in the workbench, in a real browser (Debian's headless Chromium via Playwright).

An editor creates a component (a bad id first, refused next to the field), its first variant,
a second one starting from the first (the translation), and a publication with a component
slot and a query slot; publishes; the reader API then serves both languages. Then a draft of
the new snippet: the impact page names the publication it reaches. Forms are filled and sent
from the keyboard where a person would use it.
"""

from __future__ import annotations

import re
from typing import Any

import httpx2
import pytest

from tests.support.browser import fill_body
from tests.web.ui.test_e2e import WIDE, Server, console_problems, server  # noqa: F401

pytestmark = pytest.mark.slow

SNIPPET = "snippet.opening"


def sign_in(page: Any, running: Server, url: str) -> None:
    page.goto(f"{running.url}{url}")
    page.get_by_label("API key").fill(running.editor_key)
    page.get_by_label("API key").press("Enter")
    page.wait_for_url(f"{running.url}{url}")


def new_variant(page: Any, key: str, locale: str, body: str) -> None:
    page.get_by_label("Variant key").fill(key)
    fill_body(page, body)
    page.get_by_label("Locale", exact=True).fill(locale)
    page.get_by_label("Status of the saved version").select_option("published")
    page.get_by_role("button", name="Save", exact=True).click()


def test_create_a_component_two_variants_and_a_publication(server: Server, browser: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    context = browser.new_context(viewport=WIDE)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("console", lambda message: problems.extend(console_problems(message)))

    sign_in(page, server, "/")
    page.get_by_role("link", name="New component").click()

    # --- a component: a bad id is refused next to it, then created from the keyboard --------
    page.get_by_label("Id", exact=True).fill("Opening Hours")
    page.get_by_label("Type", exact=True).fill("snippet")
    page.get_by_label("Title", exact=True).fill("Opening hours")
    page.get_by_label("Title", exact=True).press("Enter")
    expect(page.locator("#f-id-error")).to_contain_text("Not a valid id")
    expect(page.get_by_label("Id", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Title", exact=True)).to_have_value("Opening hours")  # kept
    page.get_by_label("Id", exact=True).fill(SNIPPET)
    page.get_by_label("Tags", exact=True).fill("service")
    page.get_by_role("button", name="Create component").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Component created.")).to_be_visible()

    # --- its first variant, then a second starting from it -------------------------------------
    page.get_by_role("link", name="New variant", exact=True).click()
    new_variant(page, "en", "en", "<p>Open Monday to Friday, 8:00 to 18:00.</p>")
    expect(page.get_by_text("Saved as version 1.")).to_be_visible()
    page.get_by_role("link", name=SNIPPET).click()
    page.get_by_role("link", name="New variant from it (en)").click()
    expect(page.get_by_text("Starting from en (version 1)")).to_be_visible()
    body = page.locator("#f-body")  # the textarea the body editor stands over
    assert body.input_value() == "<p>Open Monday to Friday, 8:00 to 18:00.</p>"
    assert page.get_by_label("Locale", exact=True).input_value() == "en"
    new_variant(page, "de", "de", "<p>Geöffnet Montag bis Freitag, 8 bis 18 Uhr.</p>")
    expect(page.get_by_text("Saved as version 1.")).to_be_visible()

    # --- a publication: a component slot (required) and a query slot, reordered -----------------
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Library").click()
    page.get_by_role("link", name="New publication").click()
    page.get_by_label("Id", exact=True).fill("flyer.opening")
    page.get_by_label("Title", exact=True).fill("Opening flyer")
    page.locator("#f-slot-0-component").fill("no.such.component")
    page.locator("#f-slot-1-query_type").fill("legal")
    page.get_by_role("button", name="Create publication").click()
    expect(page.locator("#f-slot-0-component-error")).to_contain_text("No component has this id")
    page.locator("#f-slot-0-component").fill(SNIPPET)
    page.locator("#f-slot-0-position").fill("2")
    page.locator("#f-slot-0-required").check()
    page.locator("#f-slot-1-position").fill("1")
    page.get_by_role("button", name="Create publication").click()
    expect(page.get_by_text("Saved as version 1.")).to_be_visible()
    slots = page.locator("ol.slots li")
    expect(slots).to_have_count(2)
    expect(slots.nth(0)).to_contain_text("all of type legal")
    expect(slots.nth(1)).to_contain_text(SNIPPET)

    # --- readers get both languages, and the publication renders ---------------------------------
    reader = {"Authorization": f"Bearer {server.reader_key}", "Accept": "application/json"}
    for locale, words in (("de", "Geöffnet"), ("fr", "Open Monday")):
        served = httpx2.get(
            f"{server.url}/v1/blocks/{SNIPPET}", params={"locale": locale}, headers=reader
        )
        assert served.status_code == 200, served.text
        assert words in served.json()["html"]
    rendered = httpx2.post(
        f"{server.url}/v1/render",
        json={"publication": "flyer.opening", "context": {"locale": "de"}},
        headers=reader,
    )
    assert rendered.status_code == 200 and "Geöffnet" in rendered.text

    # --- a draft of the snippet: the impact page names the publication it reaches ---------------
    page.goto(f"{server.url}/components/{SNIPPET}/variants/de")
    fill_body(page, "<p>Geöffnet Montag bis Samstag.</p>")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Saved as version 2.")).to_be_visible()
    page.get_by_role("link", name="What publishing changes").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("What publishing changes")
    expect(page.get_by_role("link", name="Opening flyer")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Publishing makes version 2 live"))).to_be_visible()

    assert not problems, problems
    context.close()
