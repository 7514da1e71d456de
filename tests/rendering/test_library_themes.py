"""A library's themes render in the body sandbox; the engine's own themes stay trusted.

A page.html from a library folder is content: template injection payloads (the shared
``ssti`` test data, and attribute chains built by hypothesis) must never reach Python's
internals or the host. Each payload that tries to run a command would create a marker file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import jinja2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from content_engine.core.errors import ContentEngineError, LibraryFormatError, RenderError
from content_engine.core.models import parse_context
from content_engine.core.templates.sandbox import Limits
from content_engine.engine.facade import Engine
from content_engine.rendering import RenderEnvironment, get_renderer
from content_engine.rendering import html as html_module
from content_engine.rendering.html import load_theme
from tests.support import testdata
from tests.support.engine_factory import make_engine, write_files

from .conftest import block, document

MakeEnv = Callable[..., RenderEnvironment]

# What reaching Python's internals looks like when printed. (A function's or a bound method's
# repr may show, as in bodies: naming a callable is not calling it.)
LEAKS = (
    "<module",
    "__builtins__",
    "__globals__",
    "<class 'type'",
    "<cell",
    "subclasses",
    "root:x:",
)


def marker_payloads(marker: Path) -> list[str]:
    """Ways out of a template towards a shell, each creating ``marker`` if it worked."""
    cmd = f"touch {marker}"
    return [
        f"{{{{ cycler.__init__.__globals__.os.popen('{cmd}').read() }}}}",
        f"{{{{ joiner.__init__.__globals__.os.system('{cmd}') }}}}",
        f"{{{{ namespace.__init__.__globals__.os.popen('{cmd}').read() }}}}",
        f"{{{{ lipsum.__globals__['os'].popen('{cmd}').read() }}}}",
        f"{{{{ self.__init__.__globals__.__builtins__.__import__('os').popen('{cmd}') }}}}",
        "{{ self._TemplateReference__context.cycler.__init__.__globals__.os"
        f".system('{cmd}') }}}}",
        f"{{{{ context.__class__.__init__.__globals__['os'].system('{cmd}') }}}}",
        f"{{{{ blocks[0].__class__.__init__.__globals__['os'].system('{cmd}') }}}}",
        f"{{{{ css.__class__.__mro__[1].__subclasses__() }}}}{{{{ '{cmd}' }}}}",
        f"{{{{ range.__globals__.os.system('{cmd}') }}}}",
        "{{ (blocks|first)|attr('__class__')|attr('__init__')|attr('__globals__') }}",
        "{% for c in ''.__class__.__mro__[1].__subclasses__() %}{% if c.__name__ == 'Popen' %}"
        f"{{{{ c('{cmd}', shell=True) }}}}{{% endif %}}{{% endfor %}}",
        f"{{{{ '{{0.__class__.__init__.__globals__[os].system}}'.format(cycler) }}}}{cmd}",
        f"{{% set x = cycler.__init__.__globals__ %}}{{{{ x.os.system('{cmd}') }}}}",
    ]


def render_theme(make_env: MakeEnv, page: str) -> str:
    env = make_env({"renderers/evil/page.html": page.encode()})
    doc = document([block("a.one", "<p>One</p>")], layout="evil", customer={"name": "Ann"})
    return get_renderer("html").render(doc, env).content.decode()


def assert_inert(make_env: MakeEnv, page: str, marker: Path | None = None) -> None:
    """The payload fails as a sandbox violation or renders without any internals."""
    try:
        out = render_theme(make_env, page)
    except ContentEngineError:
        pass
    else:
        assert not any(leak in out for leak in LEAKS), (page, out[:300])
    if marker is not None:
        assert not marker.exists(), page


def test_a_library_theme_is_sandboxed_and_the_engines_is_not(make_env: MakeEnv) -> None:
    env = make_env({"renderers/evil/page.html": b"{{ title }}"})
    assert load_theme(env, "evil").sandboxed
    assert not load_theme(env, "default").sandboxed  # the engine's own, trusted
    # A library's default/page.html replaces the engine's, and is sandboxed like any other.
    env = make_env({"renderers/default/page.html": b"{{ title }}"})
    assert load_theme(env, "default").sandboxed


def test_the_issue_payload_runs_no_command(make_env: MakeEnv, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    page = f"{{{{ cycler.__init__.__globals__.os.popen('touch {marker}').read() }}}}"
    with pytest.raises(RenderError, match=r"sandbox violation|undefined"):
        render_theme(make_env, page)
    assert not marker.exists()


def test_marker_payloads_run_nothing(make_env: MakeEnv, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    for page in marker_payloads(marker):
        assert_inert(make_env, page, marker)


def test_shared_ssti_fuzz_lines_are_inert_in_a_theme(make_env: MakeEnv) -> None:
    """PayloadsAllTheThings' Jinja lines (MIT), each as a whole library page.html."""
    text = testdata.path("ssti/ssti_fuzz_EXCERPT_python_jinja.txt").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert len(lines) > 10
    for line in lines:
        assert_inert(make_env, line)


def test_shared_sandbox_vectors_hold_in_a_theme(make_env: MakeEnv) -> None:
    """pallets/jinja's security tests (BSD-3): what must raise there prints nothing here."""
    cases = testdata.load_json("ssti/jinja2_sandbox_vectors.json")["cases"]
    for case in cases:
        # Names the vectors expect (foo, cls) are bound with ``set``.
        page = "{% set foo = 42 %}{% set cls = 1 %}" + case["template"]
        assert_inert(make_env, page)
        if case["expect"] == "SecurityError":
            try:
                out = render_theme(make_env, page)
            except ContentEngineError:
                continue
            assert out == "", (page, out)


START = ["cycler", "joiner", "namespace", "lipsum", "self", "context", "blocks", "css", "range"]
START += ["title", "publication", "blocks[0]", "context.customer", "''", "[]", "{}", "(1).real"]
ATTRS = [
    "__class__", "__init__", "__globals__", "__mro__", "__subclasses__", "__builtins__",
    "__import__", "__dict__", "__base__", "__bases__", "__self__", "__func__", "__code__",
    "__reduce__", "__getattribute__", "_TemplateReference__context", "os", "popen", "system",
    "environment", "globals", "model_fields", "model_config", "html", "func_globals",
    "gi_frame", "f_globals", "mro", "format", "eval", "exec",
]  # fmt: skip


@st.composite
def attribute_chains(draw: st.DrawFn) -> str:
    expr = draw(st.sampled_from(START))
    for _ in range(draw(st.integers(1, 6))):
        attr = draw(st.sampled_from(ATTRS))
        form = draw(st.sampled_from([".{}", "['{}']", "|attr('{}')"]))
        expr = f"({expr}){form.format(attr)}" if form.startswith("|") else expr + form.format(attr)
        if draw(st.booleans()):
            expr += "()"
        if draw(st.booleans()):
            expr += "[1]"
    return f"{{{{ {expr} }}}}"


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(page=attribute_chains())
def test_no_attribute_chain_reaches_internals(make_env: MakeEnv, page: str) -> None:
    assert_inert(make_env, page)


def test_autoescape_off_is_refused_in_a_library_theme(make_env: MakeEnv) -> None:
    with pytest.raises(LibraryFormatError, match="autoescape"):
        render_theme(
            make_env, "{% autoescape false %}{{ context.customer.name }}{% endautoescape %}"
        )


PART = "{{ cycler.__init__.__globals__ }}"


def test_an_included_library_file_is_sandboxed_too(make_env: MakeEnv) -> None:
    env = make_env(
        {
            "renderers/evil/page.html": b"{% include 'evil/part.html' %}",
            "renderers/evil/part.html": PART.encode(),
        }
    )
    out = get_renderer("html").render(document([], layout="evil"), env).content.decode()
    assert out == ""
    # The very template, outside the sandbox, prints the globals: the check above can fail.
    assert "__builtins__" in jinja2.Environment().from_string(PART).render()


def test_a_library_theme_may_extend_the_engines(make_env: MakeEnv) -> None:
    """Sandboxed is not crippled: the engine's template renders inside the sandbox."""
    page = render_theme(make_env, '{% extends "default/page.html" %}')
    assert '<section class="ce-block"' in page and "<p>One</p>" in page


def test_values_are_escaped_and_undefined_names_warn(make_env: MakeEnv) -> None:
    env = make_env({"renderers/evil/page.html": b"{{ context.customer.name }}{{ nope }}"})
    doc = document([], layout="evil", customer={"name": "<b>Ann</b>"})
    result = get_renderer("html").render(doc, env)
    assert result.content == b"&lt;b&gt;Ann&lt;/b&gt;"
    assert any("nope" in w for w in result.warnings)


def test_an_imported_theme_cannot_reach_the_host(db_url: str, tmp_path: Path) -> None:
    """End to end: a library folder imported into a real database, rendered by the engine."""
    marker = tmp_path / "pwned"
    root = write_files(
        tmp_path / "lib",
        {
            "library.yaml": "default_locale: en\n",
            "c/comp.a/component.yaml": "id: comp.a\ntype: snippet\n",
            "c/comp.a/en.html": "<p>A</p>\n",
            "publications/pub.yaml": "title: P\nlayout: evil\nslots: [{component: comp.a}]\n",
            "renderers/evil/page.html": marker_payloads(marker)[0],
        },
    )
    engine: Engine
    with make_engine(db_url) as engine:
        engine.import_library(root)
        for fmt in ("html", "pdf"):
            with pytest.raises(RenderError, match="sandbox violation"):
                engine.render("pub", parse_context({"locale": "en"}), format=fmt)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("page", "limits", "why"),
    [
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            {"max_seconds": 0.5},
            "time limit|took over",
        ),
        ("{% for i in range(1000) %}{{ title }}{% endfor %}", {"max_output_chars": 500}, "output"),
    ],
)
def test_a_library_theme_is_bounded_like_a_body(
    make_env: MakeEnv,
    monkeypatch: pytest.MonkeyPatch,
    page: str,
    limits: dict[str, float],
    why: str,
) -> None:
    monkeypatch.setattr(html_module, "THEME_LIMITS", Limits(**limits))
    # A page no other test uses, so its environment is built with these limits.
    with pytest.raises(RenderError, match=why):
        render_theme(make_env, page + "{# bounded #}")


def test_a_library_theme_renders_a_page_larger_than_one_body(make_env: MakeEnv) -> None:
    """A page holds many blocks and inlined assets: its theme's bounds are the page's, so a
    page of several million characters renders through a library theme as through the
    engine's own."""
    page = "{% for b in blocks %}<section>{{ b.html }}</section>{% endfor %}{{ css }}"
    env = make_env({"renderers/big/page.html": page.encode()})
    # One block over a body's largest value (its includes assembled), twelve in all over what
    # one body's render may build.
    sizes = [1_500_000] + [900_000] * 11
    blocks = [block(f"a.b{i}", "<p>" + "x" * size + "</p>") for i, size in enumerate(sizes)]
    out = get_renderer("html").render(document(blocks, layout="big"), env).content.decode()
    assert out.count("<section>") == len(sizes)
    assert len(out) > sum(sizes)
