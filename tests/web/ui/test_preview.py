"""Preview as any reader: the document in a sandboxed frame, the explain trace beside it."""

from __future__ import annotations

import html
import io
import re

import pytest
from pypdf import PdfReader

from tests.web.ui.conftest import Workbench

OVERVIEW = "/components/product.hp200.overview/preview"


def frame(page: str) -> str:
    """The previewed document: the ``srcdoc`` of the sandboxed iframe, unescaped."""
    found = re.search(
        r'<iframe class="frame" title="[^"]*" sandbox srcdoc="([^"]*)"></iframe>', page
    )
    assert found, "no sandboxed preview frame"
    return html.unescape(found.group(1))


def test_two_readers_see_different_content(bench: Workbench) -> None:
    austrian = bench.get(OVERVIEW, params={"locale": "de-AT", "region": "AT"})
    american = bench.get(OVERVIEW, params={"locale": "en-US", "region": "US"})
    assert austrian.status_code == american.status_code == 200
    de, en = frame(austrian.text), frame(american.text)
    assert '<html lang="de-AT"' in de and "Rauchfangkehrer" in de
    assert '<html lang="en-US"' in en and "Rauchfangkehrer" not in en
    assert "air-to-water" in en.lower()
    # Assets and the theme's stylesheet travel inside the document: the frame fetches nothing.
    assert 'src="data:image/svg+xml;base64,' in de
    assert "<style>" in de


def test_the_frame_is_sandboxed_and_its_markup_escaped(bench: Workbench) -> None:
    page = bench.get(OVERVIEW, params={"locale": "de-AT"}).text
    assert " sandbox srcdoc=" in page  # no allow-scripts, no allow-same-origin
    assert "allow-" not in re.search(r"<iframe[^>]*>", page).group(0)
    assert 'srcdoc="&lt;!DOCTYPE html&gt;' in page


def test_the_explain_trace_names_the_winner_and_why_others_lost(bench: Workbench) -> None:
    page = bench.get(OVERVIEW, params={"locale": "de-AT", "region": "AT"}).text
    trace = re.search(r'<ol class="trace-list">(.*?)</ol>', page, re.S)
    assert trace is not None
    items = re.findall(
        r'<li class="(\w+)">\s*<a href="[^"]+">([\w-]+)</a>(.*?)</li>\n', trace.group(1), re.S
    )
    verdicts = {key: (kind, html.unescape(rest)) for kind, key, rest in items}
    assert verdicts["de-AT"][0] == "winner" and "winner" in verdicts["de-AT"][1]
    assert verdicts["de"][0] == "candidate"
    assert "candidate #2, lost: its locale comes later in the chain" in verdicts["de"][1]
    assert verdicts["fr"][0] == "rejected"
    assert "locale fr is not in the chain de-AT > de > en" in verdicts["fr"][1]
    assert "de-AT › de › en" in html.unescape(page)


def test_preview_shows_drafts_that_readers_do_not_get(bench: Workbench) -> None:
    engine = bench.api.engine
    current = engine.repository.get_variant("product.hp200.overview", "en")
    engine.editor.save_variant(
        "product.hp200.overview",
        current.model_copy(update={"body": "<p>Draft text.</p>", "status": "draft"}),
        expected_version=current.version,
    )
    previewed = frame(bench.get(OVERVIEW, params={"locale": "en"}).text)
    assert "Draft text." in previewed
    served = bench.client.get(
        "/v1/blocks/product.hp200.overview",
        params={"locale": "en"},
        headers=bench.api.auth("reader"),
    )
    assert "Draft text." not in served.text


def test_a_new_form_previews_the_librarys_default_locale(bench: Workbench) -> None:
    page = bench.get(OVERVIEW).text
    assert 'name="locale" type="text" value="en"' in page
    assert '<html lang="en"' in frame(page)


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        (
            {"locale": "en", "customer": "{not json"},
            "customer",
            "Not valid JSON (line 1, column 2)",
        ),
        ({"locale": "en", "product": "[1, 2]"}, "product", "A JSON object is needed"),
        # Deep nesting and huge numbers were a RecursionError / ValueError: a 500.
        ({"locale": "en", "customer": "[" * 3000}, "customer", "nested deeper than 64 levels"),
        ({"locale": "en", "product": "[{" * 40}, "product", "nested deeper than 64 levels"),
        ({"locale": "en", "customer": "9" * 5000}, "customer", "Not valid JSON"),
        ({"locale": "en", "at": "someday"}, "at", "A date (2026-01-31) or a time"),
        ({"locale": "", "role": "buyer"}, "locale", "A locale is needed"),
        ({"locale": "xx-!!"}, "locale", "locale"),
    ],
)
def test_a_bad_reader_is_shown_next_to_its_field(
    bench: Workbench, params: dict[str, str], field: str, message: str
) -> None:
    response = bench.get(OVERVIEW, params=params)
    assert response.status_code == 422
    error = re.search(rf'id="f-{field}-error">(.*?)</p>', response.text, re.S)
    assert error is not None, response.text
    assert message in html.unescape(error.group(1))
    assert "<iframe" not in response.text
    # What was typed stays in the form.
    for name, value in params.items():
        if value and name in ("customer", "product"):
            assert html.escape(value, quote=False) in response.text


def test_customer_data_reaches_the_placeholders(bench: Workbench) -> None:
    page = bench.get(
        "/components/service.customer-summary/preview",
        params={"locale": "de", "customer": '{"name": "Anna Huber"}', "product": '{"serial": "X"}'},
    ).text
    assert "Anna Huber" in frame(page)


def test_publication_preview_explains_every_component(bench: Workbench) -> None:
    page = bench.get(
        "/publications/brochure.hp200/preview",
        params={"locale": "fr", "region": "FR", "role": "buyer"},
    ).text
    document = frame(page)
    assert '<html lang="fr"' in document
    assert "Pompe à chaleur air/eau Nordwind HP200" in document
    traced = re.findall(r'<section class="trace" aria-labelledby="trace-([\w.-]+)">', page)
    assert traced[:3] == [
        "brochure.hp200.cover",
        "brochure.why-heat-pump",
        "product.hp200.overview",
    ]
    assert "legal.warranty" in traced and "brochure.contact" in traced
    link = re.search(r'<a class="button" href="([^"]+)" download>Download PDF</a>', page)
    assert link is not None
    assert html.unescape(link.group(1)) == (
        "/publications/brochure.hp200/pdf?locale=fr&role=buyer&region=FR"
    )


def test_an_unresolved_required_slot_is_explained_not_a_crash(bench: Workbench) -> None:
    bench.api.engine.editor.set_status("brochure.contact", "en", "archived", expected_version=1)
    response = bench.get("/publications/brochure.hp200/preview", params={"locale": "en"})
    assert response.status_code == 200
    page = html.unescape(response.text)
    assert '<p class="alert error" role="alert">' in response.text
    assert "brochure.contact" in page
    assert "No variant applies to this reader." in page
    assert "<iframe" not in response.text


@pytest.mark.slow
def test_download_the_previewed_publication_as_pdf(bench: Workbench) -> None:
    response = bench.get(
        "/publications/brochure.hp200/pdf", params={"locale": "de-AT", "region": "AT"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == (
        'attachment; filename="brochure.hp200-de-AT-preview.pdf"'
    )
    pdf = PdfReader(io.BytesIO(response.content))
    assert pdf.metadata is not None
    assert pdf.metadata.title == "Nordwind HP200 Luft/Wasser-Wärmepumpe"
    receipt = bench.api.engine.repository.get_receipt(response.headers["x-render-id"])
    assert receipt.preview and receipt.format == "pdf"


def test_pdf_of_a_bad_reader_is_a_readable_refusal(bench: Workbench) -> None:
    response = bench.get("/publications/brochure.hp200/pdf", params={"locale": "", "role": "buyer"})
    assert response.status_code == 422
    assert "text/html" in response.headers["content-type"]
    assert "A locale is needed" in response.text
