"""The sandbox's shortcuts on the hot path keep its meaning and its bounds: the engine's own
functions called directly, dict items looked up at once, the clock read every few chunks."""

from __future__ import annotations

import time

import pytest

from content_engine.core.errors import TemplateError
from content_engine.core.templates.bounded import trusted
from content_engine.core.templates.compile import compile_body
from content_engine.core.templates.sandbox import CLOCK_EVERY, BodySandbox, Limits

SANDBOX = BodySandbox(Limits(max_seconds=0.5))


def run(body: str, sandbox: BodySandbox = SANDBOX, **variables: object) -> tuple[str, list[str]]:
    compiled = compile_body(body, sandbox)
    return sandbox.run(compiled.template, {**variables, "__ce_keep": lambda _: True}, "t")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("{{ customer.name }}", "Ada"),
        ("{{ customer['name'] }}", "Ada"),
        ("{{ customer.items()|list|length }}", "2"),  # the method, not a key "items"
        ("{{ customer.keys|default('-') is callable }}", "True"),
        ("{{ customer.missing }}|{{ customer.missing.deeper }}", "|"),
    ],
)
def test_dict_lookups_mean_what_jinja_makes_them_mean(body: str, expected: str) -> None:
    text, warnings = run(body, customer={"name": "Ada", "items": "not the method"})
    assert text == expected
    assert bool(warnings) == ("missing" in body)


def test_only_the_engines_own_functions_skip_the_callable_checks() -> None:
    calls: list[tuple[object, ...]] = []

    @trusted
    def own(*args: object) -> str:
        calls.append(args)
        return "ok"

    text, _ = run("{% for i in [1, 2] %}{{ own(i) }}{% endfor %}", own=own)
    assert (text, calls) == ("okok", [(1,), (2,)])  # loop variables are not handed over
    # A body cannot mark a value of its own: a namespace with the attribute is no function.
    with pytest.raises(TemplateError):
        run("{% set ns = namespace() %}{% set ns.__ce_trusted__ = true %}{{ ns() }}")


def test_a_render_past_its_time_is_stopped_between_clock_readings() -> None:
    """Fewer chunks than ``CLOCK_EVERY``, each slow to print (printing reads no clock): the
    check after the last chunk still refuses a render that took longer than its limit."""
    sandbox = BodySandbox(Limits(max_seconds=0.5))

    class Slow:
        def __str__(self) -> str:
            time.sleep(0.2)
            return "x"

    assert CLOCK_EVERY > 4
    with pytest.raises(TemplateError, match="time limit"):
        run("{{ s }}-{{ s }}-{{ s }}-{{ s }}", sandbox, s=Slow())
    text, _ = run("{{ s }}", sandbox, s=Slow())
    assert text == "x"


def test_a_loop_that_never_ends_is_still_stopped() -> None:
    sandbox = BodySandbox(Limits(max_seconds=0.2))
    start = time.monotonic()
    with pytest.raises(TemplateError, match="time limit"):
        run(
            "{% for i in range(999999) %}{% for j in range(999999) %}{% endfor %}{% endfor %}",
            sandbox,
        )
    assert time.monotonic() - start < 5
