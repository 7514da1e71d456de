"""Checking a body by its shape refuses what compiling refuses, and skips only Jinja's code
generator for a body shaped like one that compiled."""

from __future__ import annotations

import pytest

from content_engine.core.errors import LibraryFormatError
from content_engine.core.integrity import BodyJob, Problem, check_jobs, compile_job
from content_engine.core.templates.compile import check_body, compile_body
from content_engine.core.templates.sandbox import BodySandbox

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
