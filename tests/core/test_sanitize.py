"""The allow-list sanitizer (issue 5, "Escaping") and the render-time guards that complete it.

Payload corpora, read from ``../shared/testdata/sanitize`` (see its README):
- ``bleach-regressions/*.test``: mozilla/bleach ``tests/data`` (Apache-2.0); each file is an
  input, a line ``--``, and bleach's output with its defaults.
- ``dompurify/expect.mjs``: cure53/DOMPurify ``test/fixtures/expect.mjs`` (Apache-2.0 or
  MPL-2.0); ``payload``/``expected`` pairs.
Both encode their own project's allow-list, so only the payloads are used: every output is held
to safety properties (no script-capable element, no event handler, no ``style``, no
``javascript:``/``vbscript:``/``data:text`` URL in any attribute, as lxml's XML and HTML parsers
and an HTML5 parser like a browser's, tinyhtml5, read it), never to those projects' strings.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections import Counter
from typing import Any

import pytest
import tinyhtml5
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2 import Environment, TemplateSyntaxError
from lxml import etree
from lxml import html as lxml_html
from markupsafe import Markup

from content_engine.core.errors import LibraryFormatError, TemplateError
from content_engine.core.markup.sanitize import Sanitized, sanitize_body, url_problem
from content_engine.core.markup.xhtml import _spans, parse_body
from content_engine.core.templates.compile import compile_body
from content_engine.core.templates.sandbox import BodySandbox, Limits
from tests.support import testdata
from tests.support.engine_factory import SAMPLE

SANDBOX = BodySandbox(Limits(max_seconds=1.0))

# --- the safety properties ------------------------------------------------------------------------

FORBIDDEN = frozenset(
    "script style iframe frame frameset object embed applet form input button select textarea "
    "svg math template link meta base noscript audio video canvas param portal".split()
)
BAD_SCHEMES = ("javascript:", "vbscript:", "livescript:", "data:text", "data:application")


def _folded(value: str) -> str:
    # Independent of the sanitizer's own normalisation on purpose.
    text = html.unescape(html.unescape(value))
    text = "".join(c for c in text if not (c.isspace() or unicodedata.category(c)[0] == "C"))
    return text.lower()


def unsafe_in(elements: Any) -> list[str]:
    """Every violation of the safety properties among ``(tag, attributes)`` pairs."""
    found = []
    for tag, attributes in elements:
        name = tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1].lower()
        if name in FORBIDDEN:
            found.append(f"<{name}>")
        for attr, value in attributes.items():
            local = attr.rsplit("}", 1)[-1].rsplit(":", 1)[-1].lower()
            if local.startswith("on") or local in ("style", "srcset", "formaction", "action"):
                found.append(f"<{name} {local}>")
            if _folded(value).startswith(BAD_SCHEMES):
                found.append(f"<{name} {local}={value[:30]!r}>")
    return found


def xml_view(body: str) -> list[str]:
    root, _ = parse_body(body)
    return unsafe_in((e.tag, dict(e.attrib)) for e in root.iter() if isinstance(e.tag, str))


def browser_view(markup: str) -> list[str]:
    """What an HTML5 parser (tinyhtml5, as browsers parse) builds from ``markup``."""
    document = tinyhtml5.parse(f"<!DOCTYPE html><body>{markup}</body>")
    return unsafe_in((e.tag, dict(e.attrib)) for e in document.iter() if isinstance(e.tag, str))


def lxml_html_view(markup: str) -> list[str]:
    """What libxml2's HTML parser builds from ``markup``."""
    if not markup.strip():
        return []
    root = lxml_html.fragment_fromstring(markup, create_parent="div")
    return unsafe_in((e.tag, dict(e.attrib)) for e in root.iter() if isinstance(e.tag, str))


def render(body: str, **customer: Any) -> tuple[str, list[str]]:
    compiled = compile_body(body, SANDBOX)
    variables = {
        "customer": customer,
        "product": {},
        "__ce_keep": lambda _: True,
        "__ce_include": lambda _: Markup(""),
    }
    return SANDBOX.run(compiled.template, variables, "test")


def assert_safe(result: Sanitized, original: str) -> None:
    """Safe as XML and as HTML, before and after rendering; re-parses; idempotent."""
    assert xml_view(result.body) == [], (original, result.body)
    assert browser_view(result.body) == [], (original, result.body)
    assert lxml_html_view(result.body) == [], (original, result.body)
    again = sanitize_body(result.body)
    assert again.removed == [], (original, result.body, again.removed)
    assert again.body == result.body
    if not result.removed:
        assert result.body == original
    try:
        out, _ = render(result.body, name="A", url="https://x.example/")
    except (LibraryFormatError, TemplateError):
        return  # a payload that is not a valid template: refused at save, never rendered
    assert browser_view(out) == [], (original, result.body, out)
    assert lxml_html_view(out) == [], (original, result.body, out)


# --- the policy, as a table -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected", "removed"),
    [
        ("<p>Hello <b>you</b></p>", "<p>Hello <b>you</b></p>", []),
        (
            "<p>a</p>\n<script>alert(1)</script>\n<p>b</p>",
            "<p>a</p>\n\n<p>b</p>",
            ["removed <script> (line 2)"],
        ),
        ("<SCRIPT>x</SCRIPT><p>k</p>", "<p>k</p>", ["removed <SCRIPT> (line 1)"]),
        (
            '<p>\n<a href="x" onclick="go()">x</a></p>',
            '<p>\n<a href="x">x</a></p>',
            ["removed attribute onclick from <a> (line 2)"],
        ),
        (
            '<p style="color:red" class="c">x</p>',
            '<p class="c">x</p>',
            ["removed attribute style from <p> (line 1)"],
        ),
        (
            '\n\n\n\n\n\n<a href="javascript:alert(1)">x</a>',
            "\n\n\n\n\n\n<a>x</a>",
            ["removed javascript: URL from <a href> (line 7)"],
        ),
        (
            '<a href=" JAVASCRIPT:x">x</a>',
            "<a>x</a>",
            ["removed javascript: URL from <a href> (line 1)"],
        ),
        (
            '<a href="jav&#x09;ascript:x">x</a>',
            "<a>x</a>",
            ["removed javascript: URL from <a href> (line 1)"],
        ),
        (
            '<a href="&#106;avascript:x">x</a>',
            "<a>x</a>",
            ["removed javascript: URL from <a href> (line 1)"],
        ),
        (
            '<a href="vbscript:x">x</a>',
            "<a>x</a>",
            ["removed vbscript: URL from <a href> (line 1)"],
        ),
        (
            '<a href="file:///etc/passwd">x</a>',
            "<a>x</a>",
            ["removed file: URL from <a href> (line 1)"],
        ),
        (
            '<a href="data:text/html,&lt;script&gt;">x</a>',
            "<a>x</a>",
            ["removed data: URL from <a href> (line 1)"],
        ),
        (
            '<img src="data:image/svg+xml;base64,PHN2Zz4=" alt="a"/>',
            '<img alt="a"/>',
            ["removed data: URL from <img src> (line 1)"],
        ),
        (
            '<blockquote cite="javascript:x">q</blockquote>',
            "<blockquote>q</blockquote>",
            ["removed javascript: URL from <blockquote cite> (line 1)"],
        ),
        (
            '<p title="javascript:alert(1)">x</p>',
            "<p>x</p>",
            ["removed javascript: URL from <p title> (line 1)"],
        ),
        (
            '<img src="assets/a.png" srcset="x.png 2x" alt=""/>',
            '<img src="assets/a.png" alt=""/>',
            ["removed attribute srcset from <img> (line 1)"],
        ),
        (
            '<font color="red">a <b>b</b> c</font> d',
            "a <b>b</b> c d",
            ["removed <font>, kept its content (line 1)"],
        ),
        ("<p>a<blink/>b</p>", "<p>ab</p>", ["removed <blink> (line 1)"]),
        (
            "<p>x</p><!--><script>alert(1)</script>-->",
            "<p>x</p>",
            ["removed comment (line 1)"],
        ),
        (
            '<?x a="><script>alert(1)</script>"?><p>x</p>',
            "<p>x</p>",
            ["removed processing instruction (line 1)"],
        ),
        (
            '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg><p>x</p>',
            "<p>x</p>",
            ["removed <svg> (line 1)"],
        ),
        (
            '<p xmlns:x="http://www.w3.org/1999/xlink" x:href="javascript:x">p</p>',
            "<p>p</p>",
            ["removed attribute x:href from <p> (line 1)"],
        ),
        (
            '<h:p xmlns:h="urn:other">t</h:p>',
            "t",
            ["removed <h:p>, kept its content (line 1)"],
        ),
        (
            '<a href="https://x.example/" target="_blank">x</a>',
            '<a href="https://x.example/" target="_blank" rel="noopener">x</a>',
            ['added rel="noopener" to <a target> (line 1)'],
        ),
        (
            "<form><p>in a form</p><input/></form><p>after</p>",
            "<p>after</p>",
            ["removed <form> (line 1)"],
        ),
        (
            "<picture><source srcset='a.webp'/><img src='a.png' alt=''/></picture>",
            '<img src="a.png" alt=""/>',
            ["removed <source> (line 1)", "removed <picture>, kept its content (line 1)"],
        ),
    ],
)
def test_policy(body: str, expected: str, removed: list[str]) -> None:
    result = sanitize_body(body)
    assert (result.body, result.removed) == (expected, removed)
    assert_safe(result, body)


@pytest.mark.parametrize(
    "body",
    [
        '<p class="x" id="y" title="t" lang="de" dir="ltr" role="note" aria-label="l">x</p>',
        '<p data-segment="enterprise" data-role="-buyer" data-region="EU -CH" data-x-y="1">x</p>',
        '<a href="https://x.example/a?b=1&amp;c=2" hreflang="de" rel="nofollow">x</a>',
        '<a href="mailto:a@b.example">m</a> <a href="tel:+431234">t</a> <a href="#top">t</a>',
        '<a href="assets/brochure.pdf">p</a><a href="../x">r</a><a href="//cdn.example/x">s</a>',
        '<img src="assets/hp200.svg" alt="HP200" width="10" height="20" loading="lazy"/>',
        '<img src="data:image/png;base64,iVBORw0KGgo=" alt=""/>',
        '<table><tr><th scope="col" colspan="2">h</th></tr><tr><td rowspan="1">d</td></tr></table>',
        '<ol start="3" reversed="reversed" type="a"><li value="5">x</li></ol>',
        '<time datetime="2026-11-23">today</time> <q cite="https://x.example/">q</q>',
        '<ce-include component="legal.warranty"></ce-include>',
        '<a href="https://x.example/" target="_blank" rel="noopener">x</a>',
        "<p>{{ customer.name }} &nbsp;&euro;&#8364;&#x20AC; caf&eacute;</p>\r\n<p>x</p>\r\n",
        "<p>{% if customer.vip %}VIP{% else %}{{ _('Hello') }}{% endif %}</p>",
        '<a href="{{ product.manual }}" title="{{ product.title }}">x</a>',
        "<p>\n  <b>weird   spacing</b  >\n</p >",
        "<br/><hr /><wbr/><td></td><div/>",
    ],
)
def test_bodies_within_the_policy_come_back_byte_for_byte(body: str) -> None:
    result = sanitize_body(body)
    assert result == Sanitized(body, [])
    assert result.body is body


def test_the_sample_library_needs_nothing_removed() -> None:
    from content_engine.library import load_library

    library = load_library(SAMPLE)
    bodies = [v.body for c in library.components.values() for v in c.variants.values()]
    assert len(bodies) > 50
    for body in bodies:
        assert sanitize_body(body).removed == []


@pytest.mark.parametrize(
    ("url", "image", "problem"),
    [
        ("https://x.example/", False, None),
        ("HTTP://X.EXAMPLE/", False, None),
        ("mailto:a@b.example", False, None),
        ("tel:+43", False, None),
        ("assets/x.png", False, None),
        ("#frag", False, None),
        ("?q=1", False, None),
        ("", False, None),
        ("javascript:alert(1)", False, "javascript:"),
        (" \t\njavascript:alert(1)", False, "javascript:"),
        ("java\tscript:alert(1)", False, "javascript:"),
        ("java\x00script:alert(1)", False, "javascript:"),
        ("\x01javascript:alert(1)", False, "javascript:"),
        ("javascript\u200b:alert(1)", False, "javascript:"),
        ("JaVaScRiPt:alert(1)", False, "javascript:"),
        ("javascript&colon;alert(1)", False, "javascript:"),
        ("&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;x", False, "javascript:"),
        ("&#x6A;avascript:x", False, "javascript:"),
        ("vbscript:msgbox", False, "vbscript:"),
        ("data:text/html;base64,PHNjcmlwdD4=", False, "data:"),
        ("data:image/png;base64,AAAA", False, "data:"),
        ("data:image/png;base64,AAAA", True, None),
        ("data:image/webp,AAAA", True, None),
        ("data:image/svg+xml,<svg/>", True, "data:"),
        ("data:image/svg+xml,%3Csvg/%3E", True, "data:"),
        ("<script>", False, "malformed"),
        ('a"onclick=x', False, "malformed"),
        ("DATA:IMAGE/SVG+XML,x", True, "data:"),
        ("file:///etc/passwd", False, "file:"),
        ("ftp://x.example/", False, "ftp:"),
        ("jar:x", False, "jar:"),
    ],
)
def test_url_problem(url: str, image: bool, problem: str | None) -> None:
    assert url_problem(url, image=image) == problem


# --- placeholders ---------------------------------------------------------------------------------


def test_placeholders_come_back_exactly() -> None:
    body = (
        '<p onclick="x">{{ customer.name|upper ~ "<b>" }} {# a note with <i> #}\n'
        '{{ a\n  ~ b }}</p>\n<a title="{{ x\n }} y" href="{{ \'}}\' }}">z</a>'
    )
    result = sanitize_body(body)
    assert result.removed == ["removed attribute onclick from <p> (line 1)"]
    assert result.body == body.replace(' onclick="x"', "")


def test_statements_inside_removed_markup_stay_so_the_template_keeps_its_shape() -> None:
    body = "<div>{% for i in [1] %}<script>{% if i %}x{% endif %}</script>{% endfor %}</div>"
    result = sanitize_body(body)
    assert result.body == "<div>{% for i in [1] %}{% if i %}{% endif %}{% endfor %}</div>"
    render(result.body)  # compiles and renders
    comment = "<p>{% if a %}</p><!-- {% endif %} --><p>x</p>"
    assert sanitize_body(comment).body == "<p>{% if a %}</p>{% endif %}<p>x</p>"


def test_a_static_scheme_before_a_placeholder_is_judged_at_save_time() -> None:
    body = (
        '<a href="javascript:{{ x }}">a</a><a href="{{ x }}">b</a><a href="https://{{ h }}/">c</a>'
    )
    result = sanitize_body(body)
    assert result.body == '<a>a</a><a href="{{ x }}">b</a><a href="https://{{ h }}/">c</a>'


def test_raw_blocks_are_refused() -> None:
    with pytest.raises(LibraryFormatError, match=r"<body>:2:4: template syntax: \{% raw %\}"):
        sanitize_body("<p>\n<b>{%- raw %}{{ '<script>' }}{% endraw %}</b></p>")


def test_errors_point_into_the_file() -> None:
    with pytest.raises(LibraryFormatError, match=r"^c/x/en\.html:5:"):
        sanitize_body("<p>\n<b></p>", "c/x/en.html", line_offset=3)
    result = sanitize_body("<p>\n<script/></p>", "c/x/en.html", line_offset=3)
    assert result.removed == ["removed <script> (line 5)"]
    assert [(r.what, r.line) for r in result.removals] == [("removed <script>", 5)]


JINJA = Environment()


PIECES = [
    "{{",
    "}}",
    "{%",
    "%}",
    "{#",
    "#}",
    "'",
    '"',
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "-",
    " ",
    "\n",
    "\\",
    "a",
    "~",
    "<b>",
    "if a",
    "endif",
    "set x",
    "endset",
    "raw",
]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=24).map("".join))
def test_placeholders_are_delimited_as_jinja_delimits_them(source: str) -> None:
    """What Jinja prints as template data is exactly what the XHTML check saw as markup."""
    try:
        JINJA.parse(source)
        tokens = list(JINJA.lexer.tokeniter(source, None))
    except TemplateSyntaxError:
        return  # refused when compiled; nothing is printed
    if any(kind == "raw_begin" for _, kind, _ in tokens):
        return  # refused by parse_body
    jinja_data = "".join(value for _, kind, value in tokens if kind == "data")
    ours, pos = [], 0
    for start, end in _spans(source):
        ours.append(source[pos:start])
        pos = end
    ours.append(source[pos:])
    # Whitespace control ({{- -}}) strips data whitespace; nothing else may differ.
    assert re.sub(r"\s", "", "".join(ours)) == re.sub(r"\s", "", jinja_data)


def test_a_comment_opened_inside_a_string_hides_no_markup() -> None:
    body = "<p>{{ '}}' ~ '{#' }}<script>alert(1)</script>#}</p>"
    result = sanitize_body(body)
    assert result.removed == ["removed <script> (line 1)"]
    assert_safe(result, body)


# --- the payload corpora --------------------------------------------------------------------------


def bleach_payloads() -> list[str]:
    folder = testdata.path("sanitize/bleach-regressions")
    found = []
    for path in sorted(folder.glob("*.test")):
        text = path.read_text(encoding="utf-8")
        found.append(re.split(r"\n--\n", text, maxsplit=1)[0])
    return found


def dompurify_payloads() -> list[str]:
    """The ``payload`` strings of expect.mjs that are JSON string literals (nearly all)."""
    text = testdata.path("sanitize/dompurify/expect.mjs").read_text(encoding="utf-8")
    found = []
    for match in re.finditer(r'"payload"\s*:\s*("(?:[^"\\\n]|\\.)*")', text):
        try:
            found.append(json.loads(match.group(1)))
        except json.JSONDecodeError:
            continue
    return found


def as_xhtml(payload: str) -> str | None:
    """The payload as an HTML parser reads it, written as XHTML: the same attack, well-formed."""
    try:
        fragment = lxml_html.fragment_fromstring(payload, create_parent="div")
    except (etree.ParserError, ValueError):
        return None
    for element in fragment.iter():
        if isinstance(element.tag, str):
            for name in list(element.attrib):
                if not re.fullmatch(r"[A-Za-z_][\w.-]*", name):
                    del element.attrib[name]  # not a valid XML name: the parser would refuse
    return etree.tostring(fragment, encoding="unicode", method="xml")


CUSTOMER_BODY = (
    '<p title="{{ customer.name }}">{{ customer.name }}</p><a href="{{ customer.name }}">x</a>'
)


def check_corpus(payloads: list[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for payload in payloads:
        bodies = [("raw", payload)]
        converted = as_xhtml(payload)
        if converted is not None:
            bodies.append(("xhtml", converted))
        for kind, body in bodies:
            counts[f"{kind} tried"] += 1
            try:
                result = sanitize_body(body)
            except LibraryFormatError:
                counts[f"{kind} refused"] += 1
                continue
            counts[f"{kind} {'sanitised' if result.removed else 'unchanged'}"] += 1
            assert_safe(result, body)
        # And as customer data, where it must come out as text.
        out, _ = render(CUSTOMER_BODY, name=payload)
        assert browser_view(out) == [], (payload, out)
        shape = re.fullmatch(r'<p title="[^"<]*">([^<]*)</p><a href="[^"<]*">x</a>', out)
        assert shape is not None, (payload, out)
    return counts


def test_bleach_regressions() -> None:
    payloads = bleach_payloads()
    assert len(payloads) >= 20
    counts = check_corpus(payloads)
    print("bleach:", dict(counts))
    assert counts["raw tried"] == len(payloads)


def test_dompurify_fixtures() -> None:
    payloads = dompurify_payloads()
    assert len(payloads) >= 200  # the file holds 223 payloads, nearly all JSON literals
    counts = check_corpus(payloads)
    print("dompurify:", dict(counts))
    assert counts["xhtml sanitised"] >= 100  # most of them really went through the sanitizer


# --- generated bodies -----------------------------------------------------------------------------

TAGS = (
    "p div a img b table td script Script style svg iframe font blink x:y form ce-include "
    "noscript math object"
).split()
ATTRS = (
    "class id href src onclick ONLOAD style title data-role srcset target rel cite x:href "
    "aria-label formaction component"
).split()
VALUES = [
    "x",
    "https://a.example/",
    "javascript:alert(1)",
    " JaVaScRiPt:x",
    "jav&#x09;ascript:x",
    "&#106;avascript:x",
    "data:text/html,x",
    "data:image/png;base64,AA",
    "{{ v }}",
    "java{{ v }}",
    "javascript:{{ v }}",
    "_blank",
    "&amp;&lt;&quot;",
    "vbscript:x",
    "#a",
]
TEXTS = [
    "",
    "t",
    " ",
    "\n",
    "{{ v }}",
    "{# c #}",
    "&nbsp;",
    "&lt;script&gt;",
    "caf&eacute;",
    "{{ '</p>' }}",
    "\r\n",
]


@st.composite
def fragments(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 3 if depth < 3 else 0))):
        kind = draw(st.sampled_from(["element", "text", "if", "comment", "pi"]))
        if kind == "text":
            parts.append(draw(st.sampled_from(TEXTS)))
        elif kind == "comment":
            parts.append(f"<!--{draw(st.sampled_from(['', '>', ' {% if v %}{% endif %} ']))}-->")
        elif kind == "pi":
            parts.append("<?php echo 1 ?>")
        elif kind == "if":
            parts.append("{% if v %}" + draw(fragments(depth + 1)) + "{% endif %}")
        else:
            tag = draw(st.sampled_from(TAGS))
            names = draw(st.lists(st.sampled_from(ATTRS), max_size=3, unique_by=str.lower))
            attrs = "".join(f' {n}="{draw(st.sampled_from(VALUES))}"' for n in names)
            xmlns = ' xmlns:x="urn:x"' if "x:" in tag or any("x:" in n for n in names) else ""
            parts.append(f"<{tag}{xmlns}{attrs}>{draw(fragments(depth + 1))}</{tag}>")
    return "".join(parts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fragments())
def test_generated_bodies(body: str) -> None:
    result = sanitize_body(body)
    assert_safe(result, body)
    compile_body(body, SANDBOX)  # the generator writes valid templates...
    compile_body(result.body, SANDBOX)  # ...and sanitising keeps them valid


# --- render time: values and the template language cannot bring markup back ----------------------


@pytest.mark.parametrize(
    "value", ["javascript:alert(1)", " JAVASCRIPT:alert(1)", "<script>", "data:text/html,x"]
)
def test_unsafe_customer_urls_render_as_hash_with_a_warning(value: str) -> None:
    out, warnings = render('<a href="{{ customer.url }}">x</a>', url=value)
    assert out == '<a href="#">x</a>'
    assert len(warnings) == 1 and "URL in an attribute was replaced by '#'" in warnings[0]


def test_safe_urls_render_as_they_are_escaped() -> None:
    out, warnings = render(
        '<a href="{{ customer.url }}&amp;b=1" title="{{ customer.name }}">x</a>'
        '<img src="{{ customer.img }}" alt=""/>',
        url="https://x.example/?a='1'&c=2",
        name='"><b onclick="x">',
        img="data:image/png;base64,AA",
    )
    assert out == (
        '<a href="https://x.example/?a=&#39;1&#39;&amp;c=2&amp;b=1" '
        'title="&#34;&gt;&lt;b onclick=&#34;x&#34;&gt;">x</a>'
        '<img src="data:image/png;base64,AA" alt=""/>'
    )
    assert warnings == []


@pytest.mark.parametrize(
    "body",
    [
        # Markup a filter would rebuild from the body's own, sanitised markup.
        "{% filter replace('b', 'script') %}<b>alert(1)</b>{% endfilter %}",
        "{% set x %}<b>alert(1)</b>{% endset %}{{ x|replace('b', 'script') }}",
        "{% set x %}<b>alert(1)</b>{% endset %}{{ x.replace('b', 'script') }}",
        "{% set x %}<b>alert(1)</b>{% endset %}{{ x[0:2] ~ 'script' ~ x[2:] }}",
        "{% set x %}<i>)1(trela</i>tpircs<i></i>{% endset %}{{ x|reverse }}",
        "{% macro m() %}<b>alert(1)</b>{% endmacro %}{{ m()|replace('b', 'script') }}",
        "{% set x | replace('b', 'script') %}<b>alert(1)</b>{% endset %}{{ x }}",
        '{% set x %}<a title="x onmouseover=alert(1) y">z</a>{% endset %}'
        "{{ x[:3] ~ x[12:36] ~ x[-4:] }}",
        # Values that are, or become, markup.
        "{{ '<script>alert(1)</script>'|safe }}",
        "{{ customer.html|safe }}",
        '<p title="{{ customer.name|tojson }}">x</p>',
        '<p title="{{ customer.attrs|xmlattr }}">x</p>',
    ],
)
def test_the_template_language_cannot_rebuild_markup(body: str) -> None:
    out, _ = render(
        body,
        html="<script>alert(1)</script>",
        name="x onmouseover=alert(1) y",
        attrs={"onmouseover": "alert(1)"},
    )
    assert browser_view(out) == [], out
    assert "<script" not in out


def test_autoescape_cannot_be_switched_off() -> None:
    with pytest.raises(LibraryFormatError, match=r"autoescape"):
        compile_body("<p>\n{% autoescape false %}{{ x }}{% endautoescape %}</p>", SANDBOX)


def test_placeholder_padding_never_leaks_into_output() -> None:
    out, _ = render(
        '<p title="a {{ customer.name\n }} b">{{ customer.name\n }}\n{{ 1 }}</p>', name="N"
    )
    assert out == '<p title="a N b">N\n1</p>'


@settings(max_examples=500)
@given(value=st.text(alphabet=st.characters(max_codepoint=0x7F)) | st.text())
def test_the_quick_reading_of_a_plain_value_judges_its_scheme_as_the_full_one(value: str) -> None:
    from content_engine.core.markup import sanitize

    assert sanitize._normalise(value) == sanitize._normalise_any(value)
