"""One component search for the API's list and the workbench's library."""

from __future__ import annotations

import pytest

from content_engine.core.models import Component, Variant
from content_engine.core.search import find_components


def component(cid: str, type: str, title: str, tags: tuple[str, ...], body: str) -> Component:
    variant = Variant(key="en", body=body)
    return Component(id=cid, type=type, title=title, tags=tags, variants={"en": variant})


COMPONENTS = [
    component("b.two", "brochure", "Heat Pump", ("x",), "<p>Straße</p>"),
    component("a.one", "snippet", "Hotline", ("x", "y"), "<p>Call us</p>"),
    component("b.one", "brochure", "Subsidies", ("y",), "<p>Grants</p>"),
]


@pytest.mark.parametrize(
    ("text", "type", "tag", "in_bodies", "expected"),
    [
        ("", None, None, False, ["a.one", "b.one", "b.two"]),  # id order
        ("HEAT", None, None, False, ["b.two"]),  # title, any case
        ("B.", None, None, False, ["b.one", "b.two"]),  # id, any case
        ("call", None, None, False, []),  # bodies only when asked
        ("call", None, None, True, ["a.one"]),
        ("STRASSE", None, None, True, ["b.two"]),  # casefold: ß is ss
        ("STRAßE", None, None, True, ["b.two"]),
        (" heat", None, None, False, []),  # the text as given
        ("", "brochure", None, False, ["b.one", "b.two"]),
        ("", "", None, False, []),  # an empty type is a type no component has
        ("", None, "y", False, ["a.one", "b.one"]),
        ("", "brochure", "x", False, ["b.two"]),
    ],
)
def test_find_components(
    text: str, type: str | None, tag: str | None, in_bodies: bool, expected: list[str]
) -> None:
    found = find_components(COMPONENTS, text, type=type, tag=tag, in_bodies=in_bodies)
    assert [c.id for c in found] == expected
