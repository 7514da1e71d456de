"""Inside a body (CONTRACT 4): inline conditions, includes, placeholders, well-formedness."""

from __future__ import annotations

import gettext
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from lxml import html as lxml_html

from content_engine.core.assembly import Assembler
from content_engine.core.errors import LibraryFormatError, TemplateError
from content_engine.core.integrity import check_library
from content_engine.core.models import Library
from content_engine.core.reader import make_reader
from content_engine.core.templates.compile import compile_body
from content_engine.core.templates.sandbox import BodySandbox
from tests.support.factories import component, context, library, variant

SANDBOX = BodySandbox()


def assembler(lib: Library) -> Assembler:
    return Assembler(
        lib,
        SANDBOX,
        lambda c, v: compile_body(v.body, SANDBOX),
        lambda _: gettext.NullTranslations(),
    )


def render(body: str, *others: Any, **ctx: Any) -> str:
    lib = library(component("c", variant("v", body)), *others)
    block = assembler(lib).block("c", make_reader(context(**ctx), lib.settings))
    assert block is not None
    return block.html


def kept(attrs: str, **ctx: Any) -> bool:
    html = render(f"<p {attrs}>X</p>", **ctx)
    assert "data-" not in html  # the attributes never reach the output
    return html == "<p>X</p>"


@pytest.mark.parametrize(
    ("attrs", "ctx", "expected"),
    [
        ('data-role="technician"', {"role": "technician"}, True),
        ('data-role="technician"', {"role": "buyer"}, False),
        ('data-role="technician buyer"', {"role": "buyer"}, True),
        ('data-role="technician"', {}, False),  # positive value, dimension missing
        ('data-role="-buyer"', {}, True),  # only exclusions, dimension missing
        ('data-role="-buyer"', {"role": "buyer"}, False),
        ('data-role="-buyer"', {"role": "technician"}, True),
        ('data-region="EU -CH"', {"region": "AT"}, True),
        ('data-region="EU -CH"', {"region": "CH"}, False),  # exclusion wins
        ('data-region="EU -CH"', {"region": "US"}, False),
        ('data-region="EU -CH"', {}, False),
        ('data-region="-DACH"', {"region": "DE"}, False),  # exclusion through a group
        ('data-region="-DACH"', {"region": "FR"}, True),
        ('data-segment="enterprise"', {"customer": {"employees": 500}}, True),  # derived
        ('data-segment="enterprise"', {"segments": ["smb"]}, False),
        ('data-segment="smb enterprise"', {"segments": ["smb"]}, True),
        ('data-channel="print"', {"channel": "print"}, True),
        ('data-channel="print"', {"channel": "web"}, False),
        ('data-locale="de"', {"locale": "de-AT"}, True),  # RFC 4647 basic filtering
        ('data-locale="de-CH"', {"locale": "de-AT"}, False),
        ('data-locale="-de"', {"locale": "de-CH"}, False),
        ('data-locale="fr de"', {"locale": "de"}, True),
        # several attributes must all hold
        (
            'data-role="technician" data-channel="print"',
            {"role": "technician", "channel": "print"},
            True,
        ),
        (
            'data-role="technician" data-channel="print"',
            {"role": "technician", "channel": "web"},
            False,
        ),
    ],
)
def test_inline_conditions(attrs: str, ctx: dict[str, Any], expected: bool) -> None:
    assert kept(attrs, **ctx) is expected


def test_nested_inline_conditions_and_surrounding_text() -> None:
    body = 'a<div data-role="technician">b<span data-region="AT">c</span>d</div>e'
    assert render(body, role="technician", region="AT") == "a<div>b<span>c</span>d</div>e"
    assert render(body, role="technician", region="DE") == "a<div>bd</div>e"
    assert render(body, role="buyer", region="AT") == "ae"


def test_dropped_element_placeholders_are_never_evaluated() -> None:
    # Inline conditions come first: a dropped element's include and placeholders do not run.
    body = '<p data-role="technician">{{ customer.name }}<ce-include component="missing"/></p>ok'
    assert render(body, role="buyer") == "ok"


def test_include_is_replaced_by_best_variant_for_same_context() -> None:
    legal = component(
        "legal.warranty",
        variant("en", "<small>2 years</small>", locale="en"),
        variant("at", "<small>3 Jahre</small>", locale="de", regions=["AT"]),
    )
    body = '<p>Warranty: <ce-include component="legal.warranty"></ce-include>.</p>'
    assert (
        render(body, legal, locale="de-AT", region="AT")
        == "<p>Warranty: <small>3 Jahre</small>.</p>"
    )
    assert render(body, legal, locale="en") == "<p>Warranty: <small>2 years</small>.</p>"


def test_include_records_every_version_used() -> None:
    lib = library(
        component("a", variant("v", '<ce-include component="b"/>', version=3)),
        component("b", variant("w", '<ce-include component="c"/>', version=7)),
        component("c", variant("x", "<i>c</i>", version=2)),
    )
    block = assembler(lib).block("a", make_reader(context(), lib.settings))
    assert block is not None and block.html == "<i>c</i>"
    assert [(u.component, u.variant, u.version) for u in block.used] == [
        ("a", "v", 3),
        ("b", "w", 7),
        ("c", "x", 2),
    ]


def test_include_without_variant_warns_and_renders_empty() -> None:
    other = component("only.fr", variant("fr", "<p>fr</p>", locale="fr"))
    lib = library(component("c", variant("v", 'x<ce-include component="only.fr"/>y')), other)
    block = assembler(lib).block("c", make_reader(context("de"), lib.settings))
    assert block is not None and block.html == "xy"
    assert any("only.fr" in w for w in block.warnings)


def chain_library(length: int) -> Library:
    comps = [
        component(
            f"c{i}", variant("v", f'<ce-include component="c{i + 1}"/>' if i < length else "end")
        )
        for i in range(length + 1)
    ]
    return library(*comps)


def test_include_depth_limit_at_runtime_and_import() -> None:
    ok = chain_library(16)  # 16 edges: allowed
    assert check_library(ok, SANDBOX) == []
    block = assembler(ok).block("c0", make_reader(context(), ok.settings))
    assert block is not None and block.html == "end"
    deep = chain_library(17)
    problems = check_library(deep, SANDBOX)
    assert [p.code for p in problems] == ["include_too_deep"]
    with pytest.raises(TemplateError, match="deeper than 16"):
        assembler(deep).block("c0", make_reader(context(), deep.settings))


def test_include_cycle_found_at_import_and_refused_at_runtime() -> None:
    lib = library(
        component("a", variant("v", '<ce-include component="b"/>')),
        component("b", variant("v", '<p data-role="x"><ce-include component="a"/></p>')),
        component("m", variant("v", '<ce-include component="nope"/>')),
    )
    codes = sorted(p.code for p in check_library(lib, SANDBOX))
    assert codes == ["include_cycle", "missing_include"]
    cycle = next(p for p in check_library(lib, SANDBOX) if p.code == "include_cycle")
    assert cycle.message == "include cycle a > b > a"
    with pytest.raises(TemplateError, match="include cycle a > b > a"):
        assembler(lib).block("a", make_reader(context(role="x"), lib.settings))


def test_placeholders_are_escaped_and_data_is_never_a_template() -> None:
    html = render(
        "<p>{{ customer.name }} / {{ product.note }}</p>",
        customer={"name": '<script>alert("x")</script>'},
        product={"note": "{{ 7*7 }} & {% raw %}"},
    )
    assert html == (
        "<p>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; / {{ 7*7 }} &amp; {% raw %}</p>"
    )


def test_placeholders_may_hold_angle_brackets() -> None:
    body = "<p>{% if product.count < 3 %}few{% else %}many{% endif %}</p>"
    assert render(body, product={"count": 2}) == "<p>few</p>"
    assert render(body, product={"count": 5}) == "<p>many</p>"


def test_undefined_names_render_empty_with_warning() -> None:
    lib = library(component("c", variant("v", "<p>[{{ customer.nickname }}][{{ nope }}]</p>")))
    block = assembler(lib).block("c", make_reader(context(customer={"name": "A"}), lib.settings))
    assert block is not None and block.html == "<p>[][]</p>"
    assert block.warnings == [
        "c/v v1: undefined name 'nickname' rendered empty",
        "c/v v1: undefined name 'nope' rendered empty",
    ]


def test_at_and_now_are_the_context_time() -> None:
    html = render("{{ at.isoformat() }}|{{ now == at }}", at="2026-03-01T08:30:00Z")
    assert html == "2026-03-01T08:30:00+00:00|True"


NAMED = {"customer": {"name": "N"}}


@pytest.mark.parametrize(
    ("body", "ctx", "expected"),
    [
        ('<p>{<ce-include component="inc"/>}</p>', {}, "<p>{I}</p>"),
        ('<p>{<b data-role="technician">T</b></p>', {"role": "technician"}, "<p>{<b>T</b></p>"),
        ('<p>{<b data-role="technician">T</b></p>', {}, "<p>{</p>"),
        ('<p><b data-role="technician">{</b>{</p>', {"role": "technician"}, "<p><b>{</b>{</p>"),
        ('<a title="{{ customer.name }}{">x</a>', NAMED, '<a title="N{">x</a>'),
        (
            '<a href="https://x.test/{{ customer.name }}{">x</a>',
            NAMED,
            '<a href="https://x.test/N{">x</a>',
        ),
    ],
)
def test_a_brace_just_before_a_condition_or_include_is_text(
    body: str, ctx: dict[str, Any], expected: str
) -> None:
    # ``{`` and the ``{%``/``{{`` the element becomes read as ``{{``: a syntax error (a DITA
    # topic's text converted did it) or, worse, another expression.
    assert render(body, component("inc", variant("v", "I")), **ctx) == expected


# Jinja that only appears once the markup is read: a character reference or a CDATA section
# for a brace. The markup check delimits placeholders in the source as written, so these are
# text to it, and text they must stay.
HIDDEN_OPENERS = [
    "&#123;&#123; 7*7 }}",
    "&#x7b;{ 7*7 }}",
    "&lbrace;% if true %}yes&lbrace;% endif %}",
    "{<![CDATA[{]]> 7*7 }}",
    "&#123;# c #}",
    "&#123;{{ customer.name }}",
]


def as_xml(markup: str) -> etree._Element:
    """``markup`` read as the engine reads a body (XML: CDATA sections are text)."""
    return etree.fromstring(f"<div>{markup.replace('&lbrace;', '&#123;')}</div>")[0]


@pytest.mark.parametrize("text", HIDDEN_OPENERS)
def test_template_syntax_hidden_behind_character_references_prints_as_text(text: str) -> None:
    shown = "".join(as_xml(f"<p>{text}</p>").itertext())
    rendered = render(f"<p>{text}</p>", customer={"name": "N"})
    expected = shown.replace("{{ customer.name }}", "N")
    assert lxml_html.fragment_fromstring(rendered).text_content() == expected


def test_a_hidden_block_cannot_cut_markup_out_to_forge_an_attribute() -> None:
    # The if opened in one attribute and closed in a later text had dropped everything between,
    # the title's closing quote with it: the text's quotes then made an event handler.
    body = (
        '<p><a href="https://x.test/" title="&#123;% if false %}">x</a>'
        '&#123;% endif %}" onmouseover="alert(1)" x="</p><p title="y">z</p>'
    )
    html = render(body)
    for element in lxml_html.fragments_fromstring(html):
        for node in element.iter():
            assert not [name for name in node.attrib if name.startswith("on")], html
    assert lxml_html.fragments_fromstring(html)[0].text_content().startswith("x{% endif %}")


_PIECES = st.sampled_from(
    ["{", "%", "#", "}", "&#123;", "&#37;", "<![CDATA[{]]>", "<![CDATA[%]]>", " x ", '"', "'"]
)


@settings(max_examples=300, deadline=None)
@given(
    text=st.lists(_PIECES, max_size=10).map("".join),
    title=st.lists(_PIECES, max_size=6).map("".join),
)
def test_a_body_without_placeholders_renders_exactly_what_its_markup_says(
    text: str, title: str
) -> None:
    title = title.replace("<![CDATA[", "").replace("]]>", "").replace('"', "&#34;")
    body = f'<p title="{title}">{text}<b data-role="-x">b</b>{text}</p>'
    if any(opener in body for opener in ("{{", "{%", "{#")):
        return  # a real placeholder: Jinja's, not the markup's
    try:
        rendered = render(body)
    except LibraryFormatError:
        return  # markup the check refuses (a stray ``<`` never reaches here; a bad entity)
    expected = as_xml(body)
    got = lxml_html.fragment_fromstring(rendered)
    assert got.get("title") == expected.get("title")
    assert got.text_content() == "".join(expected.itertext())


def test_html_entities_and_empty_elements() -> None:
    html = render("<p>a&nbsp;b &amp; c&mdash;</p><div></div><br/><td/>")
    assert html == "<p>a\u00a0b &amp; c\u2014</p><div></div><br/><td></td>"


@pytest.mark.parametrize(
    ("body", "line", "column", "message"),
    [
        ("<p>one\n<b>two</p>", 4, 11, "Opening and ending tag mismatch"),
        ("<p>fine</p>\n<p>x &bogus; y</p>", 4, 13, "Entity 'bogus' not defined"),
        ("<p a=1>x</p>", 3, 6, "AttValue"),
        ("<p>{% if x < 3 %}x</p>\n<p>{% if %}</p>", 4, None, "template syntax"),
        # Never closed: refused, not printed as the text it would otherwise be.
        ("<p>fine</p>\n<p>{{ customer.name </p>", 4, None, "template syntax"),
        ("<p>{% if x %}</p>\n<p>{% endif </p>", 4, None, "template syntax"),
    ],
)
def test_malformed_body_names_file_line_column(
    body: str, line: int, column: int | None, message: str
) -> None:
    with pytest.raises(LibraryFormatError) as info:
        compile_body(body, SANDBOX, "c/x/only.html", line_offset=2)
    err = info.value
    assert (err.file, err.line) == ("c/x/only.html", line)
    if column is not None:
        assert err.column == column
    assert message in str(err)
    assert str(err).startswith(f"c/x/only.html:{line}")
