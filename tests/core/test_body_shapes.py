"""Checking a body by its shape refuses what compiling refuses, and skips only Jinja's code
generator for a body shaped like one that compiled."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from content_engine.core.errors import LibraryFormatError
from content_engine.core.integrity import BodyJob, Problem, check_jobs, compile_job
from content_engine.core.templates import shapes
from content_engine.core.templates.compile import check_body, compile_body
from content_engine.core.templates.sandbox import BodySandbox
from content_engine.core.templates.shapes import quick_parts, quick_shape

GOOD = '<p class="x">Hallo {{ customer.name }}, <ce-include component="a"/></p>'
# Each differs from GOOD in a tag, not in its text: none may pass on GOOD's shape.
REFUSED = [
    '<p class="x">Hallo {{ customer.name customer }}, <ce-include component="a"/></p>',
    '<p class="x">Hallo {{ customer.name|no_such }}, <ce-include component="a"/></p>',
    '<p class="x">Hallo {% autoescape false %}x{% endautoescape %}</p>',
    '<p class="x">Hallo {{ customer.name }}, <ce-include component="a"></p>',
    '<p class="x">Hallo {% for x in y %}{{ customer.name }}, </p>',
    '<p class="x">Hallo {# never closed, <ce-include component="a"/></p>',
]


class CountingSandbox(BodySandbox):
    def __init__(self) -> None:
        super().__init__()
        self.compiled = 0

    def compile_body(
        self, source: str, filename: str, line_offset: int = 0
    ) -> tuple[object, frozenset[str]]:
        self.compiled += 1
        return super().compile_body(source, filename, line_offset)


def test_a_body_shaped_like_a_compiled_one_is_not_compiled_again() -> None:
    sandbox = CountingSandbox()
    passed: set[str] = set()
    assert check_body(GOOD, sandbox, passed) == ("a",)
    other = GOOD.replace("Hallo", "Guten Tag &amp; <b>willkommen</b>").replace('"a"', '"b.c"')
    assert check_body(other, sandbox, passed) == ("b.c",)
    assert sandbox.compiled == 1
    assert compile_body(other, BodySandbox()).includes == ("b.c",)


@pytest.mark.parametrize("body", REFUSED)
def test_a_known_shape_never_lets_a_broken_body_through(body: str) -> None:
    sandbox = BodySandbox()
    passed: set[str] = set()
    check_body(GOOD, sandbox, passed)
    with pytest.raises(LibraryFormatError) as shaped:
        check_body(body, sandbox, passed)
    with pytest.raises(LibraryFormatError) as compiled:
        compile_body(body, sandbox)
    assert (shaped.value.message, shaped.value.line) == (
        compiled.value.message,
        compiled.value.line,
    )


def test_checked_jobs_answer_as_compiling_each_does() -> None:
    bodies = [
        GOOD,
        *REFUSED,
        GOOD.replace("Hallo", "Bonjour"),
        "<p>{% trans %}Hi{% endtrans %}</p>",
    ]
    jobs = [BodyJob(f"c{i}", "v", body, f"c{i}/v.html", i % 2) for i, body in enumerate(bodies * 3)]
    sandbox = BodySandbox()
    expected = []
    for job in jobs:
        result = compile_job(job, sandbox)
        expected.append(result if isinstance(result, Problem) else result.includes)
    assert check_jobs(jobs, sandbox) == expected


def test_trans_blocks_are_compiled_in_full() -> None:
    # The i18n extension reads a {% trans %} block's text: its shape is not enough.
    assert BodySandbox().shape_of("{% trans %}Hi {{ name }}{% endtrans %}") is None
    sandbox = BodySandbox()
    assert sandbox.shape_of("<p>a {{ x }}</p>") == sandbox.shape_of("<p>b&amp;c {{ x }}</p>")
    assert sandbox.shape_of("<p>a {{ x }}</p>") != sandbox.shape_of("<p>a {{ y }}</p>")


def test_an_extension_that_rewrites_tokens_turns_shapes_off() -> None:
    from collections.abc import Iterator

    from jinja2.ext import Extension
    from jinja2.lexer import Token, TokenStream

    class Rewriting(Extension):
        def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
            yield from stream

    sandbox = BodySandbox()
    sandbox.add_extension(Rewriting)
    assert sandbox.shape_of("<p>a {{ x }}</p>") is None


# --- the quick shape: a regular expression's split, only where it is the lexer's ------------

# Tags that compile on their own, and pieces that do not (or only with others).
WHOLE = [
    "{{ x }}",
    "{{- x -}}",
    "{{ customer.name }}",
    "{{ product.price | currency('EUR') }}",
    '{{ "a}}b" }}',
    "{{ 'it''s' }}",
    "{{ {1: {2: 3}} }}",
    "{{ {'a': 1}['a'] }}",
    "{{ 5 % 2 }}",
    "{% set a = '%' %}",
    '{% set a = "%}" %}',
    "{% if x %}{{ x }}{% endif %}",
    "{%- for i in y -%}{{ i }}{% endfor %}",
    "{% raw %}{{ x }}{% endraw %}",
    "{#c#}",
    "{# {{ x }} #}",
    "{{ '\\'' }}",
]
BROKEN = [
    "{{ {1: {2: 3}}x }}",
    "{{ x|no_such }}",
    "{{ x y }}",
    "{{ x",
    "{{{ x }}",
    "{% if x %}",
    "{% endif %}",
    "{% trans %}",
    "{% endtrans %}",
    "{% autoescape false %}",
    "{# never closed",
    "}}",
    "%}",
    "{",
]
TEXT = st.text(alphabet="ab \n}%#<>&", max_size=6)
PIECES = st.one_of(
    st.lists(st.tuples(TEXT, st.sampled_from(WHOLE)), max_size=6),
    st.lists(st.tuples(TEXT, st.sampled_from(WHOLE + BROKEN)), max_size=6),
)


def compiles(sandbox: BodySandbox, source: str) -> bool:
    try:
        sandbox.compile_body(source, "f.html")
    except LibraryFormatError:
        return False
    return True


def tag_tokens(sandbox: BodySandbox, source: str) -> list[tuple[str, str]]:
    """The lexer's tokens but text; a ``-}}`` token holds the blanks it strips after it."""
    tokens = sandbox.lexer.tokeniter(source, None)
    return [(t, v.strip()) for _, t, v in tokens if t != "data"]


@settings(max_examples=400, deadline=None)
@given(pieces=PIECES, tail=TEXT, other=st.lists(TEXT, min_size=7, max_size=7))
def test_sources_of_one_quick_shape_compile_alike_and_split_as_the_lexer_does(
    pieces: list[tuple[str, str]], tail: str, other: list[str]
) -> None:
    sandbox = BodySandbox()
    source = "".join(text + tag for text, tag in pieces) + tail
    shape = quick_shape(source)
    if shape is None:
        return
    # The same tags between other text (a run stays a run, an empty one stays empty).
    texts = [text for text, _ in pieces] + [tail]
    refilled = [(new or old) if old else "" for old, new in zip(texts, other, strict=False)]
    moved = "".join(t + tag for t, (_, tag) in zip(refilled, pieces, strict=False)) + refilled[-1]
    if quick_shape(moved) == shape:
        assert compiles(sandbox, moved) == compiles(sandbox, source)
    if compiles(sandbox, source):  # where the lexer reads it, its tags are the ones split here
        parts = quick_parts(source)
        assert parts is not None
        tags = "".join(part for part in parts if part != shapes.TEXT)
        assert tag_tokens(sandbox, source) == tag_tokens(sandbox, tags)


def test_the_quick_shape_gives_way_to_the_lexer_where_a_split_could_differ() -> None:
    for unsure in ('{{ "a}}b" }}', "{{ {1: {2: 3}} }}", '{% set a = "%}" %}', "{% raw %}", "{{ x"):
        assert quick_shape(f"<p>{unsure}</p>") is None
    assert quick_shape("<p>a {{ x }}</p>") == quick_shape("<p>b&amp;c {{ x }}</p>")
    assert quick_shape("<p>a {{ x }}</p>") != quick_shape("<p>a {{ y }}</p>")
    assert quick_shape("{{ x }}") != quick_shape("a{{ x }}")


UNITS = st.sampled_from(["a", "{{ a", "{{ 'a' ", "{{", "{#", "{% a", "{{ x }}", "x{", "}}", "{{ {"])


@settings(max_examples=60, deadline=None)
@given(head=st.sampled_from(["", "{{ ", "{% ", "{# ", "{{ '"]), unit=UNITS, spoiler=TEXT)
def test_the_quick_shape_of_a_hostile_body_takes_time_in_proportion_to_it(
    head: str, unit: str, spoiler: str
) -> None:
    """Each alternative of a tag starts with its own character, so a match never backtracks
    far: a megabyte of near-tags is read once, shaped or given to the lexer."""
    source = head + unit * (2**20 // len(unit)) + spoiler
    start = time.perf_counter()
    quick_shape(source)
    assert time.perf_counter() - start < 2.0, (head, unit, spoiler)


# The tag pattern as it was before its repetitions were made possessive: the reference.
PLAIN_TAG = re.compile(
    r"""\{\{(?:[^'"{}]|'[^'\\{}]*'|"[^"\\{}]*")*\}\}"""
    r"""|\{%(?:[^'"{}%]|'[^'\\{}]*'|"[^"\\{}]*")*%\}"""
    r"""|\{\#.*?\#\}""",
    re.S,
)


@settings(max_examples=1500, deadline=None)
@given(source=st.text(alphabet="{}%#'\"\\ a\n", max_size=24))
def test_a_tag_is_matched_as_the_plain_pattern_matches_it(source: str) -> None:
    for at in range(len(source)):
        ours, plain = shapes._WHOLE_TAG.match(source, at), PLAIN_TAG.match(source, at)
        assert (ours and ours.group()) == (plain and plain.group()), at
