"""The accessibility rules ``lint`` warns with (issue 18, item 2): images without alt, skipped
heading levels, tables without header cells, links without a name."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from content_engine.core.errors import LibraryFormatError
from content_engine.core.markup.accessibility import Barrier, body_barriers


def codes(body: str) -> list[str]:
    return [b.code for b in body_barriers(body)]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('<img src="a.png"/>', ["image_without_alt"]),
        ('<img src="a.png" alt=""/>', ["image_without_alt"]),
        ('<img src="a.png" alt="  "/>', ["image_without_alt"]),
        ('<img src="a.png" alt="" role="presentation"/>', []),
        ('<img src="a.png" alt="" role="none"/>', []),
        ('<img src="a.png" role="presentation"/>', ["image_without_alt"]),
        ('<img src="a.png" alt="HP-200 front view"/>', []),
        ('<img src="a.png" alt="{{ product.name }}"/>', []),
        ('<img src="a.png" alt="{# later #}"/>', ["image_without_alt"]),
        ('<IMG src="a.png"/>', ["image_without_alt"]),
        ('<x:img xmlns:x="http://www.w3.org/1999/xhtml" src="a.png"/>', ["image_without_alt"]),
    ],
)
def test_images_need_alt_text_unless_marked_decorative(body: str, expected: list[str]) -> None:
    assert codes(body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("<table><tr><td>1</td></tr></table>", ["table_without_headers"]),
        ('<table><tr><th scope="col">A</th></tr><tr><td>1</td></tr></table>', []),
        ("<table><thead><tr><th>A</th></tr></thead></table>", []),
        (
            "<table><tr><td><table><tr><th>inner</th></tr></table></td></tr></table>",
            ["table_without_headers"],
        ),
    ],
)
def test_tables_need_their_own_header_cells(body: str, expected: list[str]) -> None:
    assert codes(body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('<a href="/x"></a>', ["link_without_text"]),
        ('<a href="/x">   </a>', ["link_without_text"]),
        ('<a href="/x"><img src="i.png" alt="" role="none"/></a>', ["link_without_text"]),
        ('<a href="/x">Order</a>', []),
        ('<a href="/x"><span><em>Order</em></span></a>', []),
        ('<a href="/x">{{ product.name }}</a>', []),
        ('<a href="/x">{% if x %}{% endif %}{# none #}</a>', ["link_without_text"]),
        ('<a href="/x">{% if x %}Order{% endif %}</a>', []),
        ('<a href="/x" aria-label="Order"></a>', []),
        ('<a href="/x" title="Order"></a>', []),
        ('<a href="/x"><img src="i.png" alt="Order"/></a>', []),
        ('<a id="anchor"></a>', []),  # no href: a target, not a link
    ],
)
def test_links_need_an_accessible_name(body: str, expected: list[str]) -> None:
    assert codes(body) == expected


def test_barriers_carry_their_line_in_the_file() -> None:
    body = "<h2>A</h2>\n<p>x</p>\n<h4>B</h4>\n<img src='a.png'/>\n"
    assert body_barriers(body, "c/en.html", line_offset=3) == [
        Barrier("skipped_heading", "<h4> after <h2> skips h3", 6),
        Barrier(
            "image_without_alt",
            '<img> without alt text (write alt="" with role="presentation" if decorative)',
            7,
        ),
    ]


def test_a_malformed_body_is_the_parser_s_to_report() -> None:
    with pytest.raises(LibraryFormatError):
        body_barriers("<p>unclosed", "c/en.html")


def test_a_body_as_deep_as_the_parser_takes_is_checked() -> None:
    depth = 250  # the parser refuses deeper bodies (malformed_body)
    body = "<div>" * depth + "<table><tr><td>x</td></tr></table>" + "</div>" * depth
    assert codes(body) == ["table_without_headers"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=6), max_size=12), st.booleans())
def test_only_a_heading_deeper_than_the_next_level_is_a_skip(
    levels: list[int], nested: bool
) -> None:
    # Headings count in document order, however deep they sit in the body.
    wrap = ("<section><div>", "</div></section>") if nested else ("", "")
    body = "\n".join(f"{wrap[0]}<h{n}>T{i}</h{n}>{wrap[1]}" for i, n in enumerate(levels))
    found = body_barriers(body)
    skips = [i + 1 for i in range(1, len(levels)) if levels[i] > levels[i - 1] + 1]
    assert [(b.code, b.line) for b in found] == [("skipped_heading", line) for line in skips]


_ALT = st.one_of(st.none(), st.sampled_from(["", " ", "Front view", "{{ product.name }}"]))
_ROLE = st.one_of(st.none(), st.sampled_from(["presentation", "none", "img", "PRESENTATION"]))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_ALT, _ROLE), max_size=8))
def test_every_image_is_judged_by_the_alt_rule(images: list[tuple[str | None, str | None]]) -> None:
    def tag(alt: str | None, role: str | None) -> str:
        attributes = "".join(
            f' {name}="{value}"'
            for name, value in (("alt", alt), ("role", role))
            if value is not None
        )
        return f'<img src="i.png"{attributes}/>'

    body = "<p>" + "".join(tag(alt, role) for alt, role in images) + "</p>"
    bad = sum(
        1
        for alt, role in images
        if alt is None or (not alt.strip() and (role or "").lower() not in ("presentation", "none"))
    )
    assert codes(body) == ["image_without_alt"] * bad
