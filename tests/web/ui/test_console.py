"""The agent's console (and preview with lookup keys): who may use it, a customer's document
filled from real data sources (a CSV file and the hostile HTTP service on 127.0.0.1), the
provenance of that data, failures as messages on the page, and hostile values."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from content_engine.engine import Engine
from content_engine.settings import Settings
from content_engine.web.ui.forms import ConsoleDraft
from tests.sources.service import Service, running
from tests.support.apps import Api, app_client
from tests.support.engine_factory import ROOT, write_files
from tests.support.lookups import write_library, write_sources
from tests.web.ui.conftest import Workbench
from tests.web.ui.test_preview import frame
from tests.web.ui.test_session import ASSETS, PATH_VALUES, PUBLIC, UI_ROUTES

ANNA = "Dear Anna Huber (gold), your HP200 Pro."
CONSOLE = {"/console", "/console/pdf"}


@pytest.fixture
def service() -> Iterator[Service]:
    with running() as started:
        yield started


@pytest.fixture
def lookups_api(db_url: str, tmp_path: Path, service: Service) -> Iterator[Api]:
    """The small library whose bodies read the sources, and a publication that reads the one
    that hangs."""
    library = write_library(tmp_path / "lib")
    write_files(
        library,
        {"publications/stuck.yaml": "id: stuck\ntitle: Stuck\nslots: [{component: stuck}]\n"},
    )
    sources = write_sources(tmp_path / "deploy", service.url)
    with Engine(Settings(db_url=db_url, home=ROOT, sources=str(sources))) as engine:
        engine.import_library(library)
        with app_client(engine) as api:
            yield api


@pytest.fixture
def agent(lookups_api: Api) -> Workbench:
    workbench = Workbench(lookups_api)
    workbench.sign_in("agent")
    return workbench


def ask(bench: Workbench, value: str, **fields: str) -> Any:
    form = {"publication": "letter", "key": "serial", "value": value, "locale": "en"}
    return bench.post("/console", {**form, **fields}, page="/console")


def provenance(page: str) -> list[list[str]]:
    """The provenance table's rows, as text cells."""
    table = re.search(r'<table class="provenance">.*?<tbody>(.*?)</tbody>', page, re.S)
    assert table, "no provenance table"
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(1), re.S)
    cell = re.compile(r"<t[hd][^>]*>(.*?)</t[hd]>", re.S)
    text = [[re.sub(r"<[^>]+>", "", c) for c in cell.findall(r)] for r in rows]
    return [[html.unescape(c).strip() for c in row] for row in text]


# --- who may use it ------------------------------------------------------------------------


def test_an_agent_signs_in_to_the_console_and_sees_only_it(guest: Workbench) -> None:
    response = guest.sign_in("agent")
    assert response.headers["location"] == "/console"
    page = guest.get("/console")
    assert page.status_code == 200
    nav = re.search(r'<nav class="site-nav".*?</nav>', page.text, re.S).group(0)
    assert 'href="/console"' in nav
    assert all(f'href="{p}"' not in nav for p in ("/", "/lint", "/coverage", "/assets"))
    assert "signed in with the agent role" in page.text
    # Home is the console: the library redirects there, and the sign-out is there too.
    home = guest.get("/", follow_redirects=False)
    assert (home.status_code, home.headers["location"]) == (303, "/console")
    assert guest.post("/sign-out", {}, page="/console").status_code == 303
    assert guest.get("/console", follow_redirects=False).status_code == 303


def test_an_agent_gets_403_on_every_editor_page_and_write(guest: Workbench) -> None:
    """Every workbench route but sign-in/out, the console and the public bundle: one session
    for all (one app), each refused, nothing written."""
    guest.sign_in("agent")
    revision = guest.api.engine.repository.revision()
    checked = 0
    for method, path in UI_ROUTES:
        if path in PUBLIC | ASSETS | CONSOLE or path == "/":
            continue
        url = path.format(**PATH_VALUES, version="0" * 16)
        if method == "GET":
            response = guest.get(url, follow_redirects=False)
        else:  # with this session's own CSRF token: the role alone refuses it
            form = {"body": "<p>x</p>", "status": "published"}
            response = guest.post(url, form, page="/console")
        assert response.status_code == 403, (method, path, response.text)
        if response.headers["content-type"].startswith("application/json"):  # body editor
            assert response.json()["error"]["code"] == "forbidden"
        else:
            assert "This page is for editors" in response.text, (method, path)
            assert 'href="/console"' in response.text
        checked += 1
    assert checked >= 20
    assert guest.api.engine.repository.revision() == revision


def test_editors_use_the_console_too_with_their_whole_navigation(bench: Workbench) -> None:
    page = bench.get("/console")
    assert page.status_code == 200
    nav = re.search(r'<nav class="site-nav".*?</nav>', page.text, re.S).group(0)
    assert 'href="/console"' in nav and 'href="/lint"' in nav
    # No data sources are configured for this app: said plainly, and no form to fill.
    assert "No data sources are configured" in page.text
    assert 'action="/console"' not in page.text
    # With sources, the sample library's console starts at its service sheet, as service staff.
    draft = ConsoleDraft.default(bench.api.engine.library(), ("customer_id", "serial"))
    assert draft == ConsoleDraft("service.sheet", "customer_id", "", "en", "service-agent")


# --- answers -------------------------------------------------------------------------------


def test_the_console_shows_the_live_document_filled_from_the_sources(
    agent: Workbench, service: Service
) -> None:
    form = agent.get("/console").text
    assert '<option value="serial" selected>serial</option>' in form  # the key the sources take
    assert 'value="customer_id"' not in form  # taken from the installation, not typed
    response = ask(agent, "HP200-0042")
    assert response.status_code == 200, response.text
    assert ANNA in frame(response.text)
    rows = {row[0]: row for row in provenance(response.text)}
    assert list(rows) == ["installation", "customer"]
    assert rows["installation"][1:3] == ["serial", "found"]
    assert rows["installation"][5] == "serial, model, customer_id"
    assert rows["customer"][1:3] == ["customer_id", "found"]
    assert rows["customer"][5] == "id, name, tier"
    assert rows["customer"][3].endswith(" ms")
    # One lookup for the render and every trace beside it.
    assert service.count("/customers/C-1") == 1
    assert 'id="trace-greeting"' in response.text and "gold" in response.text
    assert 'href="/components/' not in response.text  # an agent's trace links nowhere
    # A render like any other: a receipt under the agent's key, of live content.
    receipt_id = re.search(r"Receipt (r_[\w-]+|[\w-]+)", response.text).group(1)
    receipt = agent.api.engine.receipt(receipt_id)
    assert not receipt.preview
    assert receipt.key_id == agent.api.keys["agent"].split("_")[1]
    assert receipt.context.lookup == {"serial": "HP200-0042"}


def test_the_pdf_renders_the_same_context_and_keeps_a_receipt(agent: Workbench) -> None:
    form = {"publication": "letter", "key": "serial", "value": "HP200-0042", "locale": "en"}
    response = agent.post("/console/pdf", form, page="/console")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert 'filename="letter-en.pdf"' in response.headers["content-disposition"]
    receipt = agent.api.engine.receipt(response.headers["x-render-id"])
    assert receipt.format == "pdf" and not receipt.preview
    assert receipt.context.customer["name"] == "Anna Huber"


@pytest.mark.parametrize(
    ("value", "publication", "status", "message"),
    [
        ("NOPE-1", "letter", 404, "Nothing found: data source installation has no record"),
        ("HP200-0042' OR '1'='1", "letter", 404, "Nothing found: data source installation"),
        ("HP200-0042", "stuck", 503, "Data source hanging is unavailable"),
    ],
)
def test_not_found_and_unavailable_are_messages_on_the_page(
    agent: Workbench, value: str, publication: str, status: int, message: str
) -> None:
    response = ask(agent, value, publication=publication)
    assert response.status_code == status, response.text
    assert message in html.unescape(response.text)
    assert 'role="alert"' in response.text
    assert "<iframe" not in response.text
    for url in ("/console", "/console/pdf"):  # the PDF says so the same way
        pdf = agent.post(
            url,
            {"publication": publication, "key": "serial", "value": value, "locale": "en"},
            page="/console",
        )
        assert pdf.status_code == status and message in html.unescape(pdf.text)


@pytest.mark.parametrize(
    "value",
    ["x" * 10_000, "HP200-0042\r\nSet-Cookie: x=1", "HP200\x000042", "\x7f", "   "],
    ids=["10kB", "crlf", "nul", "del", "blank"],
)
def test_hostile_values_are_a_field_error_not_a_500(
    agent: Workbench, service: Service, value: str
) -> None:
    response = ask(agent, value)
    assert response.status_code == 422, response.text
    page = response.text
    assert 'id="f-value-error"' in page and "Traceback" not in page
    # Shown again without its control characters, and no more of it than a key can hold.
    assert "x" * 300 not in page and "\x00" not in page and "0042\r\n" not in page
    assert "x=1" not in response.headers.get("set-cookie", "")
    assert service.count("/") == 0  # nothing reached a source


def test_markup_in_the_value_is_escaped(agent: Workbench) -> None:
    response = ask(agent, '"><script>alert(1)</script>')
    assert response.status_code == 404
    assert "<script>alert(1)" not in response.text
    assert "&#34;&gt;&lt;script&gt;" in response.text or "&quot;&gt;&lt;script" in response.text


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"key": "customer_id"}, "key"),  # not a key the caller gives
        ({"key": "bad key"}, "key"),
        ({"publication": "nope"}, "publication"),
        ({"locale": ""}, "locale"),
        ({"role": "nope"}, "role"),
    ],
)
def test_wrong_fields_are_refused_by_field(
    agent: Workbench, fields: dict[str, str], where: str
) -> None:
    response = ask(agent, "HP200-0042", **fields)
    assert response.status_code == 422, response.text
    assert f'id="f-{where}-error"' in response.text


def test_the_console_form_needs_the_sessions_token(agent: Workbench) -> None:
    form = {"publication": "letter", "key": "serial", "value": "HP200-0042", "locale": "en"}
    response = agent.client.post("/console", data=form, follow_redirects=False)
    assert response.status_code == 400


# --- preview with lookup keys --------------------------------------------------------------


def test_preview_takes_lookup_keys_and_shows_the_provenance(
    lookups_api: Api, service: Service
) -> None:
    editor = Workbench(lookups_api)
    editor.sign_in("editor")
    page = editor.get(
        "/publications/letter/preview", params={"locale": "en", "lookup": "serial=HP200-0042"}
    )
    assert page.status_code == 200, page.text
    assert ANNA in frame(page.text)
    assert [row[0] for row in provenance(page.text)] == ["installation", "customer"]
    assert service.count("/customers/C-1") == 1  # once for the render and all traces
    assert "the sources take: serial" in page.text
    console = ask(editor, "HP200-0042")  # editors use the console too; their traces link
    assert console.status_code == 200 and ANNA in frame(console.text)
    assert 'href="/components/greeting"' in console.text
    block = editor.get(
        "/components/greeting/preview",
        params={"locale": "en", "lookup": "serial=HP200-0077", "customer": '{"name": "B."}'},
    )
    assert "Hello B., your HP200 Eco." in frame(block.text)  # the context's own keys win
    customer = {row[0]: row for row in provenance(block.text)}["customer"]
    assert customer[5] == "id, tier"
    missing = editor.get(
        "/publications/letter/preview", params={"locale": "en", "lookup": "serial=NOPE"}
    )
    assert missing.status_code == 404
    assert "Nothing found: data source installation" in html.unescape(missing.text)
    pdf = editor.get(
        "/publications/letter/pdf", params={"locale": "en", "lookup": "serial=HP200-0042"}
    )
    assert pdf.content.startswith(b"%PDF-")


@pytest.mark.parametrize(
    "lookup", ["serial", "=x", "serial=a\nserial=b", "serial=" + "x" * 300, "bad-name=x"]
)
def test_preview_refuses_bad_lookup_lines_by_field(lookups_api: Api, lookup: str) -> None:
    editor = Workbench(lookups_api)
    editor.sign_in("editor")
    page = editor.get("/publications/letter/preview", params={"locale": "en", "lookup": lookup})
    assert page.status_code == 422, page.text
    assert 'id="f-lookup-error"' in page.text
