"""The workbench's preview says when the reader names a value the library does not know."""

from __future__ import annotations

import html

from tests.web.ui.conftest import Workbench

ROLE = "role 'astronaut' is not one of the library's roles: buyer, technician, service-agent"


def test_the_workbench_preview_shows_the_warning(bench: Workbench) -> None:
    page = bench.get(
        "/components/product.hp200.overview/preview", params={"locale": "en", "role": "astronaut"}
    )
    assert page.status_code == 200
    assert f"<li>{ROLE}</li>" in html.unescape(page.text)
