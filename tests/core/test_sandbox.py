"""Placeholders run sandboxed: SSTI payloads reach no Python internals, work is bounded."""

from __future__ import annotations

import time

import pytest

from content_engine.core.errors import ContentEngineError, LibraryFormatError, TemplateError
from content_engine.core.templates.compile import compile_body
from content_engine.core.templates.sandbox import BodySandbox, Limits
from tests.support import testdata

SANDBOX = BodySandbox(Limits(max_seconds=0.5))
# What a leak of Python internals would print.
INTERNALS = (
    "<class",
    "__globals__",
    "<function",
    "<built-in",
    "subclasses",
    "root:",
    "os.",
    "<module",
)


def run(body: str, **variables: object) -> str:
    compiled = compile_body(body, SANDBOX)
    text, _ = SANDBOX.run(compiled.template, {**variables, "__ce_keep": lambda _: True}, "test")
    return text


def payloads() -> list[str]:
    """PayloadsAllTheThings ssti.fuzz, Jinja/Python excerpt (MIT)."""
    text = testdata.path("ssti/ssti_fuzz_EXCERPT_python_jinja.txt").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_payloads_in_customer_data_are_printed_as_text() -> None:
    found = payloads()
    assert len(found) >= 15
    for payload in found:
        out = run("<p>{{ customer.name }}</p>", customer={"name": payload})
        assert "49" not in out or "49" in payload
        assert "{{" not in payload or "{{" in out  # printed, never evaluated
        assert "<" not in out[3:-4]  # escaped


def test_payloads_as_editor_bodies_reach_no_internals() -> None:
    for payload in payloads():
        for body in (payload, f"<p>{payload}</p>"):
            try:
                out = run(body, request=None, config={"SECRET": "s3cret"})
            except (TemplateError, LibraryFormatError):
                continue  # refused: fine
            for marker in INTERNALS:
                assert marker not in out, (payload, out)


def test_jinja_security_vectors() -> None:
    """pallets/jinja tests/test_security.py, transcribed (BSD-3)."""
    cases = testdata.load_json("ssti/jinja2_sandbox_vectors.json")["cases"]
    checked = 0
    for case in cases:
        template, expect = case["template"], case["expect"]
        if "context" in case and case["context"] not in ("", "foo=42"):
            continue  # needs Python objects a body never sees
        try:
            out = run(template, foo=42)
        except TemplateError:
            assert expect == "SecurityError" or expect.startswith("TemplateSyntaxError"), template
            checked += 1
            continue
        except ContentEngineError:
            assert expect.startswith("TemplateSyntaxError"), template
            checked += 1
            continue
        assert "<class" not in out
        if expect not in ("SecurityError",) and "Environment(" not in case.get("env", ""):
            assert out == expect, template
        checked += 1
    assert checked >= 8


def test_customer_data_cannot_be_mutated_by_a_body() -> None:
    with pytest.raises(TemplateError, match="sandbox violation"):
        run("{{ customer.clear() }}", customer={"name": "A"})


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("{{ 'a' * 100000000 }}", "size limit"),
        ("{{ [1, 2] * 100000000 }}", "size limit"),
        ("{{ 2 ** 1000000 }}", "exponent"),
        ("{{ range(10**9)|list|length }}", "range of"),
        ("{% for i in range(99999) %}{{ 'x' * 99999 }}{% endfor %}", "output over"),
        ("{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}{% endfor %}", "time"),
        ("{% macro r(n) %}{{ r(n + 1) }}{% endmacro %}{{ r(0) }}", "recursion"),
    ],
)
def test_limits_fail_fast_with_a_clear_error(body: str, why: str) -> None:
    start = time.monotonic()
    with pytest.raises(TemplateError, match=why):
        run(body)
    assert time.monotonic() - start < 5


@pytest.mark.parametrize(
    "body",
    [
        "{{ " + "[" * 5000 + "]" * 5000 + " }}",
        "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}",
        "{{ 1" + " + 1" * 20000 + " }}",
        "{{ x" + ".a" * 20000 + " }}",
        "{{ x" + "|e" * 5000 + " }}",
        "{% if 1 %}" * 200 + "x" + "{% endif %}" * 200,
        "{% for i in [1] %}" * 30 + "x" + "{% endfor %}" * 30,
    ],
)
def test_bodies_nested_too_deeply_are_refused_as_the_editors_error(body: str) -> None:
    with pytest.raises(LibraryFormatError, match="nested too deeply"):
        compile_body(f"<p>{body}</p>", SANDBOX)
