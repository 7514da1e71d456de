"""Placeholders are delimited and their padding dropped exactly as the plain reading does;
a body cannot write the characters that mark them.

``xhtml`` finds where a Jinja tag ends by searching for the characters that matter and drops
a token's padding by a pattern; the reading below visits every character one by one, as the
module did before. Over text made of the characters that matter, both must agree everywhere,
and a tag Jinja accepts must end where Jinja's lexer ends it.
"""

from __future__ import annotations

import re

import jinja2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from content_engine.core.errors import LibraryFormatError
from content_engine.core.markup import xhtml
from content_engine.core.markup.sanitize import sanitize_body
from content_engine.core.markup.xhtml import TOKEN, TOKEN_PAD, parse_body
from content_engine.core.templates.compile import compile_body
from content_engine.core.templates.sandbox import BodySandbox

_STRING = re.compile(r"'([^'\\]*(?:\\.[^'\\]*)*)'|\"([^\"\\]*(?:\\.[^\"\\]*)*)\"", re.S)
_CLOSERS = {"(": ")", "[": "]", "{": "}"}


def plain_tag_end(source: str, start: int) -> int | None:
    end = {"{{": "}}", "{%": "%}"}[source[start : start + 2]]
    stack: list[str] = []
    i = start + 2
    while i < len(source):
        if not stack and source.startswith(end, i):
            return i + 2
        char = source[i]
        if char in "'\"":
            string = _STRING.match(source, i)
            if string is None:
                return None
            i = string.end()
            continue
        if char in _CLOSERS:
            stack.append(_CLOSERS[char])
        elif char in ")]}" and (not stack or stack.pop() != char):
            return None
        i += 1
    return None


def plain_compact(text: str, pads: list[int]) -> str:
    out: list[str] = []
    pos = 0
    for match in TOKEN.finditer(text):
        out.append(text[pos : match.end()])
        pos = match.end()
        pad = pads[int(match.group(1))]
        while pad and pos < len(text) and text[pos] in (TOKEN_PAD, "\n", " "):
            pos += 1
            pad -= 1
    out.append(text[pos:])
    return "".join(out)


TAG_TEXT = st.text(alphabet="{}%()[]'\"\\ \na#-", max_size=40)


@settings(max_examples=1000, deadline=None)
@given(opener=st.sampled_from(["{{", "{%"]), inside=TAG_TEXT)
def test_a_tag_ends_where_the_plain_reading_ends_it(opener: str, inside: str) -> None:
    source = opener + inside
    assert xhtml._tag_end(source, 0) == plain_tag_end(source, 0)


@settings(max_examples=500, deadline=None)
@given(text=st.text(alphabet=f"ab \n{TOKEN_PAD}\ue000\ue0010123", max_size=60), data=st.data())
def test_padding_is_dropped_as_the_plain_reading_drops_it(text: str, data: st.DataObject) -> None:
    count = max((int(m.group(1)) for m in TOKEN.finditer(text)), default=-1) + 1
    # A token's number can be large (``\ue00010000\ue001``): its pads cycle through a few.
    cycle = data.draw(st.lists(st.integers(0, 12), min_size=1, max_size=20))
    pads = [cycle[n % len(cycle)] for n in range(count)]
    assert xhtml._compact(text, pads) == plain_compact(text, pads)


@pytest.mark.parametrize(
    "tag",
    [
        "{{ customer.name }}",
        "{{ '}}' ~ x }}",
        "{{ {'a': [1, (2)]} }}",
        "{% if x == '%}' %}",
        "{% set d = {'k': '}}'} %}",
        '{{ "a\\"}}b" }}',
    ],
)
def test_a_tag_jinja_accepts_ends_where_its_lexer_ends_it(tag: str) -> None:
    source = f"{tag}rest"
    tokens = list(jinja2.Environment().lex(source))
    data_at = next(i for i, (_line, kind, _value) in enumerate(tokens) if kind == "data")
    lexed = "".join(value for _line, _kind, value in tokens[:data_at])
    assert xhtml._tag_end(source, 0) == len(lexed) == len(tag)


def test_a_deeply_bracketed_tag_and_a_long_blank_tail_come_back_whole() -> None:
    body = "<p>{{ " + "(" * 50_000 + ")" * 50_000 + " }}" + " " * 200_000 + "</p>"
    root, restore = parse_body(body)
    assert restore(root[0].text) == body[3:-4]


RESERVED = [chr(c) for c in range(0xE000, 0xE020)]


@pytest.mark.parametrize(
    "body",
    [
        "<p>\ue0000\ue001</p>",  # a forged placeholder token: had crashed (IndexError)
        "<p>a \ue012 b</p>",  # a forged end of a condition: had been Jinja's 'endif' error
        '<p title="x\ue017">y</p>',
        "<p>&#xE000;0&#xe001;</p>",
        "<p>&#57360;</p>",
        '<p title="&#x0000E015;">y</p>',
        "<p>{{ '\ue013' }}</p>",
    ],
)
def test_a_body_holding_a_character_the_engine_marks_with_is_refused_where_it_is(
    body: str,
) -> None:
    sandbox = BodySandbox()
    for refuse in (
        lambda: parse_body(body, "c/x.html", 2),
        lambda: compile_body(body, sandbox, "c/x.html", 2),
        lambda: sanitize_body(body, "c/x.html", 2),
    ):
        with pytest.raises(LibraryFormatError, match=r"c/x\.html:3:\d+: the character U\+E0"):
            refuse()


@settings(max_examples=300, deadline=None)
@given(
    before=st.text(alphabet="ab <>{}%'\"&#;x0123456789\n", max_size=20),
    mark=st.sampled_from(RESERVED),
    after=st.text(alphabet="ab <>{}%'\"&#;\n", max_size=20),
    as_reference=st.booleans(),
)
def test_no_body_with_a_mark_in_it_gets_past_the_parse_or_crashes_it(
    before: str, mark: str, after: str, as_reference: bool
) -> None:
    written = f"&#x{ord(mark):X};" if as_reference else mark
    body = f"<p>{before}{written}{after}</p>"
    with pytest.raises(LibraryFormatError):
        compile_body(body, BodySandbox())
    with pytest.raises(LibraryFormatError):
        sanitize_body(body)


def padded_parse(source: str) -> tuple[bytes, list[int], tuple[str, ...]] | None:
    """The tree every body was parsed to before bare tokens: padded tokens, padding dropped;
    ``None`` where that parse refused the body."""
    protected, spans, pads = xhtml._protect(source, xhtml._spans(source), pad=True)
    try:
        root = xhtml._xml(protected)
    except etree.XMLSyntaxError:
        return None
    xhtml._compact_tree(root, pads)
    return etree.tostring(root), [e.sourceline for e in root.iter()], tuple(spans)


# Pieces of markup, placeholders (one over two lines) and what breaks markup.
PIECES = st.sampled_from(
    [
        "{{ x }}", "{{ 'a' }}", "{{ {'k': 1} }}", "{% if y %}", "{% endif %}", "{#c#}",
        "{{\n x }}", "{{ x\n }}", "text", "&amp;", "&nbsp;", " ", "\n", "<br/>",
        '<b title="{{ t }}"/>',
        "<!-- {{ c }} -->", "<![CDATA[{{ d }}]]>", "&", "<", ">", "</p>", '<a href="', "<p a=",
    ]
)  # fmt: skip
# Bodies mostly well formed, so that a tree is built and compared more often than not.
BODIES = st.recursive(
    PIECES,
    lambda inner: st.builds(
        lambda tag, attr, children: f"<{tag}{attr}>{''.join(children)}</{tag}>",
        st.sampled_from(["p", "em", "li"]),
        st.sampled_from(["", ' title="{{ t }}"', ' class="a\n{{ k }}"', " data-x='{{ y\n }}'"]),
        st.lists(inner, max_size=4),
    ),
    max_leaves=12,
)


@settings(max_examples=1500, deadline=None)
@given(pieces=st.lists(BODIES, max_size=4))
def test_bare_tokens_give_the_tree_and_the_refusals_padded_tokens_give(pieces: list[str]) -> None:
    source = "".join(pieces)
    expected = padded_parse(source)
    try:
        root, restore = parse_body(source)
    except LibraryFormatError:
        assert expected is None
        return
    assert expected == (
        etree.tostring(root),
        [e.sourceline for e in root.iter()],
        restore.spans,
    )


def test_a_refusal_after_a_placeholder_names_the_column_in_the_source() -> None:
    # libxml2 reports the mismatch at the end of ``</p>``; were the bare-token parse's error
    # reported, the column would be short by the placeholder's length less its token's (14).
    with pytest.raises(LibraryFormatError, match=r"x\.html:1:30: malformed XHTML"):
        parse_body("<p>{{ customer.name }}<b></p>", "x.html")


@pytest.mark.parametrize("placeholder", ["{{\n x }}", "{{ x\n }}", "{%\nif y\n%}{%\nendif %}"])
@pytest.mark.parametrize("where", ["<p>{}</p>", '<p title="{}"/>'])
def test_an_element_after_a_placeholder_over_lines_is_on_its_own_line(
    placeholder: str, where: str
) -> None:
    # A token's own characters had stood on a newline right after ``{{``: what followed was
    # a line short (in a removal's or a barrier's line, in a syntax error's).
    source = where.format(placeholder) + "\n<br/>"
    root, restore = parse_body(source)
    assert root[-1].sourceline == source.count("\n") + 1
    assert restore(etree.tostring(root, encoding="unicode")).count(placeholder) == 1
    with pytest.raises(LibraryFormatError, match=f"x\\.html:{source.count(chr(10)) + 1}:"):
        parse_body(source + "<b>", "x.html")
