"""The sandbox bounds memory: every sized operation is refused before it allocates (issue 11,
class 2), and the work of one request as a whole is bounded by one budget.

Bodies run through the real assembler (with its ``_()``), each on a fresh compile. Memory is
measured with ``tracemalloc``'s peak: a refused operation must not have built its result.
"""

from __future__ import annotations

import contextlib
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from gettext import NullTranslations
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from content_engine.core.assembly import Assembler
from content_engine.core.errors import LibraryFormatError, TemplateError
from content_engine.core.models import Component, Document, Library, Publication, Slot, Variant
from content_engine.core.reader import make_reader
from content_engine.core.templates.compile import CompiledBody, compile_body
from content_engine.core.templates.sandbox import BodySandbox, Limits
from tests.support.factories import component, context, library, variant

LIMITS = Limits(max_seconds=2.0)
LARGEST = LIMITS.max_sequence
# What a refused operation may have allocated at most (the bodies' own values and bookkeeping);
# each huge case below would build at least 8 MiB, most of them gigabytes.
PEAK_BOUND = 24 * 2**20
SECONDS_BOUND = 10.0  # generous: a refusal takes milliseconds


def assembler_for(lib: Library, limits: Limits = LIMITS) -> Assembler:
    sandbox = BodySandbox(limits)

    def compile_variant(_: Component, v: Variant) -> CompiledBody:
        return compile_body(v.body, sandbox)

    return Assembler(lib, sandbox, compile_variant, lambda _: NullTranslations())


def render(body: str, limits: Limits = LIMITS, **customer: Any) -> str:
    lib = library(component("c", variant("v", f"<p>{body}</p>")))
    reader = make_reader(context(customer=customer), lib.settings)
    block = assembler_for(lib, limits).block("c", reader)
    assert block is not None
    return block.html.removeprefix("<p>").removesuffix("</p>")


@contextmanager
def bounded() -> Iterator[None]:
    """The body inside must be refused, quickly and without building what it asked for."""
    tracemalloc.start()
    start = time.monotonic()
    try:
        with pytest.raises(TemplateError, match=r"sandbox violation"):
            yield
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < PEAK_BOUND, f"peak {peak / 2**20:.1f} MiB"
    assert time.monotonic() - start < SECONDS_BOUND


# Each operation that builds by a size: its body with ``N`` for the size, and what Python
# itself builds for a small N (``None`` where the result is not deterministic).
SIZED: list[tuple[str, Callable[[int], Any] | None]] = [
    ("{{ 'ab'.ljust(N) }}", lambda n: "ab".ljust(n)),
    ("{{ 'ab'.rjust(N, '-') }}", lambda n: "ab".rjust(n, "-")),
    ("{{ 'ab'.center(N) }}", lambda n: "ab".center(n)),
    ("{{ '7'.zfill(N) }}", lambda n: "7".zfill(n)),
    ("{{ 'a\tb'.expandtabs(N) }}", lambda n: "a\tb".expandtabs(n)),
    ("{{ 'ab' * N }}", lambda n: "ab" * n),
    ("{{ N * 'ab' }}", lambda n: n * "ab"),
    ("{{ ([0] * N)|length }}", lambda n: n),
    ("{{ '%0*d' % (N, 7) }}", lambda n: str(7).zfill(n)),
    ("{{ '%0Nd' % 7 }}", lambda n: f"%0{n}d" % 7),
    ("{{ '%(x)Ns' % {'x': 'y'} }}", lambda n: f"%(x){n}s" % {"x": "y"}),
    ("{{ '%.Nf' % 1.5 }}", lambda n: f"%.{n}f" % 1.5),
    ("{{ '{:>N}'.format('x') }}", lambda n: f"{'x':>{n}}"),
    ("{{ '{:>{w}}'.format('x', w=N) }}", lambda n: f"{'x':>{n}}"),
    ("{{ '{x:.{p}f}'.format_map({'x': 2.5, 'p': N}) }}", lambda n: f"{2.5:.{n}f}"),
    ("{{ _('{x:>N}', x=1) }}", lambda n: f"{1:>{n}}"),
    ("{{ _('{x:0>{w}}', x=1, w=N) }}", lambda n: f"{1:0>{n}}"),
    ("{{ 'x'|center(N) }}", lambda n: "x".center(n)),
    ("{{ 'a\nb'|indent(N) }}", lambda n: "a\n" + " " * n + "b"),
    ("{{ '%0*d'|format(N, 7) }}", lambda n: str(7).zfill(n)),
    ("{{ [1, 2]|batch(N, 0)|list|length }}", lambda n: -(-2 // n) if n else None),
    ("{{ [1, 2]|slice(N)|list|length }}", lambda n: n + 0 // n),
    ("{{ range(N)|list|length }}", lambda n: n),
    ("{{ range(N)|join('ab')|length }}", lambda n: len("ab".join(map(str, range(n))))),
    ("{{ 'x'.join(['ab'] * N)|length }}", lambda n: len("x".join(["ab"] * n))),
    ("{{ (1).to_bytes(N, 'big')|length }}", lambda n: len((1).to_bytes(n, "big"))),
    ("{{ lipsum(N, html=false, min=1, max=3)|length > 0 }}", None),
    ("{{ 'ab' ~ 'c'.ljust(N) }}", lambda n: "ab" + "c".ljust(n)),
    # a separator or an attribute as large as N, for each word of the text
    ("{{ ('a ' * 600)|wordwrap(1, true, 'x'.ljust(N // 600))|length > 0 }}", None),
    ("{{ ('a.io ' * 600)|urlize(none, false, 'x'.ljust(N // 600))|length > 0 }}", None),
    ("{{ ('a' * 3).replace('a', 'b'.ljust(N)) }}", lambda n: "aaa".replace("a", "b".ljust(n))),
]
HUGE = st.one_of(
    st.integers(min_value=LARGEST + 1, max_value=10**15),
    st.sampled_from([10**9, 10**12, 2**63, 150_000_000]),
)


def body_of(template: str, n: int) -> str:
    return template.replace("N", str(n))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(SIZED), n=HUGE)
def test_any_sized_operation_with_a_huge_size_is_refused_before_it_allocates(
    case: tuple[str, Callable[[int], Any] | None], n: int
) -> None:
    with bounded():
        render(body_of(case[0], n))


@settings(max_examples=120, deadline=None)
@given(case=st.sampled_from(SIZED), n=st.integers(min_value=0, max_value=3000))
def test_the_same_operations_with_ordinary_sizes_render_as_python_does(
    case: tuple[str, Callable[[int], Any] | None], n: int
) -> None:
    template, python = case
    try:
        expected = python(n) if python else None
    except ArithmeticError:  # Python refuses this size too: so does the body, as its error
        with pytest.raises(TemplateError):
            render(body_of(template, n))
        return
    out = render(body_of(template, n))
    if expected is not None:
        assert out == str(escape(expected if isinstance(expected, str) else str(expected)))


# The issue's own examples, each of which built hundreds of MiB (tests/web reuses them).
ISSUE_BOMBS = [
    '{{ "x".ljust(150000000) }}',
    "{{ '%0150000000d' % 1 }}",
    "{{ '{:>150000000}'.format('x') }}",
    "{{ _('{x:>150000000}', x=1) }}",
    "{{ 'x'|center(150000000) }}",
    '{{ "x".ljust(10 ** 12) }}',
]


def test_the_examples_of_the_issue_are_refused() -> None:
    for body in ISSUE_BOMBS:
        with bounded():
            render(body)


# Operations that grow step by step, each step within the bound on one value: the budget of
# the render as a whole stops them.
GROWING = [
    # doubling a string with ``~`` and a list with ``+``
    "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}"
    "{% endfor %}",
    "{% set ns = namespace(s=[1]) %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}"
    "{% endfor %}",
    "{% set ns = namespace(s='xy') %}{% for i in range(64) %}{% set ns.s = ns.s * 2 %}{% endfor %}",
    "{% set ns = namespace(n=3) %}{% for i in range(64) %}{% set ns.n = ns.n * ns.n %}{% endfor %}",
    "{{ ((10 ** 999) ** 999) ** 999 }}",
    # keeping many values of the largest size alive
    "{% set ns = namespace(l=[]) %}{% for i in range(1000) %}"
    "{% set ns.l = ns.l + ['x'.ljust(900000) ~ i] %}{% endfor %}",
    # text buffered by a macro, a set block, a filter block, a call block
    "{% macro m() %}{% for i in range(99999) %}" + "y" * 500 + "{% endfor %}{% endmacro %}"
    "{{ m()|length }}",
    "{% set t %}{% for i in range(99999) %}" + "y" * 500 + "{% endfor %}{% endset %}{{ t|length }}",
    "{% filter length %}{% for i in range(99999) %}" + "y" * 500 + "{% endfor %}{% endfilter %}",
    "{% macro m() %}{{ caller() }}{{ caller() }}{% endmacro %}"
    "{% macro d(n) %}{% if n %}{% call m() %}{{ d(n - 1) }}{% endcall %}{% else %}x{% endif %}"
    "{% endmacro %}{{ d(40)|length }}",
    # a filter whose time grows faster than its input (textwrap on long whitespace)
    "{{ (' ' * 900000)|wordwrap|length }}",
    # a separator and an iterable, each under the bound
    "{{ ('x' * 999999).join(['a'] * 999) }}",
    "{{ range(999)|join('x' * 999999) }}",
    # many fields, each under the bound
    "{{ ('%(a)99999s' * 1000) % {'a': 1} }}",
    "{{ ('{0:>99999}' * 1000).format(1) }}",
    "{{ (('{:>99999}' * 1000)|length) }}{{ _('{x:>99999}' * 1000, x=1)|length }}",
    "{% for i in range(100000) %}{{ 'x'.ljust(99999)|length }}{{ 'y'.rjust(99999)[:1] }}"
    "{% endfor %}",
]


@pytest.mark.parametrize("body", GROWING)
def test_growth_step_by_step_is_stopped_by_the_render_budget(body: str) -> None:
    with bounded():
        render(body)


@pytest.mark.parametrize(
    "body",
    [
        "{% for i in range(1000) %}{{ customer.text|title|length }}{% endfor %}",
        "{% for i in range(1000) %}{{ customer.text|striptags|length }}{% endfor %}",
        "{% for i in range(1000) %}{% if customer.text|unique|list %}{% endif %}{% endfor %}",
        "{% for i in customer.text %}{{ customer.text|length }}{% endfor %}",
    ],
)
def test_slow_steps_in_a_loop_stop_at_the_render_time_limit(body: str) -> None:
    """Each step costs a fraction of a second: the clock (or the budget) stops the loop."""
    limits = Limits(max_seconds=0.5)
    start = time.monotonic()
    with pytest.raises(TemplateError, match=r"time limit|size budget"):
        render(body, limits, text="a <b>c</b> " * 60_000)
    assert time.monotonic() - start < 20 * limits.max_seconds


def test_customer_data_larger_than_one_printed_value_stays_usable() -> None:
    """Values over the size of one printed value pass through lookups, loops and the filters
    that hand them on; only printing, joining or comparing them whole is refused."""
    orders = [{"id": n, "name": f"order {n} " + "x" * 40} for n in range(30_000)]
    body = (
        "{{ customer.orders|length }} {{ customer.get('orders')|selectattr('id', 'eq', 7)"
        "|map(attribute='name')|first }} {{ (customer.orders|last).id }}"
        "{% for o in customer.orders %}{% if o.id == 3 %} {{ o.name[:7] }}{% endif %}{% endfor %}"
        " {{ 'gold' in customer.orders }} {{ customer.orders[5] in customer.orders }}"
        " {{ 5 < customer.orders|length < 10 ** 6 }}"
        " {{ customer.orders is defined and customer.orders is iterable }}"
        " {{ customer.orders|select('eq', 3)|list|length }}"
    )
    out = render(body, orders=orders)
    assert out == "30000 order 7 " + "x" * 40 + " 29999 order 3 False True True True 0"
    with bounded():
        render("{{ customer.orders }}", orders=orders)


@pytest.mark.parametrize(
    "unit", ["%(", "%(a", "%*", "%.*", "%%", "%(a)s", "%-0 +#9.9d", "{:", "{0:>9}"]
)
def test_format_strings_are_sized_in_linear_time(unit: str) -> None:
    """Sizing a format string reads it once: 200,000 repeats of a piece cost no more."""
    start = time.monotonic()
    for body in (
        f"{{{{ ({unit!r} * 200000) % {{'a': 1}} }}}}",
        f"{{{{ ({unit!r} * 200000).format(1) }}}}",
    ):
        with contextlib.suppress(TemplateError):
            render(body)
    assert time.monotonic() - start < SECONDS_BOUND


KEPT = "{% set ns = namespace(l=[]) %}{% for i in range(100000) %}{% set ns.l = ns.l + [X] %}"


@pytest.mark.parametrize(
    "result",
    [
        "customer.text|upper",
        "customer.text|trim|title",
        "customer.text|list",
        "customer.text.split()",
        "customer.text[1:]",
        "customer.text.strip('x')",
        "dict(customer)",
        "namespace(t=customer.text, **customer)",
        "customer.text|replace('a', 'b')",
    ],
)
def test_results_kept_alive_in_a_loop_are_counted(result: str) -> None:
    """Each step builds something bounded by its input; kept, they count against the budget."""
    with bounded():
        render(KEPT.replace("X", result) + "{% endfor %}", text="a b " * 25_000)


SHARED = "{% set a = [0] * 300000 %}{% set b = [a] * 300000 %}"
# Small in memory (two lists), a million million items as text.
NESTED_USES = [
    "{{ b }}",
    "{{ b|join(',') }}",
    "{{ b|tojson }}",
    "{{ b|pprint }}",
    "{{ b|string }}",
    "{{ 'x' ~ b }}",
    "{{ '%s' % (b,) }}",
    "{{ '{}'.format(b) }}",
    "{{ '{!r}'.format(b) }}",
    "{{ b|sum(start=[])|length }}",
    "{{ _('{x}', x=b) }}",
    "{% set c = [0] * 300000 %}{% set d = [c] * 300000 %}{{ b == d }}",
    "{% set c = [0] * 300000 %}{% set d = [c] * 300000 %}{{ b in [d] }}",
    "{% set c = [0] * 300000 %}{% set d = [c] * 300000 %}{{ b is eq(d) }}",
    "{% set c = [0] * 300000 %}{% set d = [c] * 300000 %}{{ [b, d]|unique|list|length }}",
    "{% set c = [b, b, b, b, b, b, b, b, b, b] %}{{ c }}",
    "{% for x in b %}{% for y in x %}{% endfor %}{% endfor %}",
    "{{ dict(k=b)|dictsort }}",
]


@pytest.mark.parametrize("use", NESTED_USES)
def test_shared_nested_lists_are_sized_as_the_text_they_would_print(use: str) -> None:
    with bounded():
        render(SHARED + use)


# Arguments as Jinja source: small and huge numbers, text, literals of other kinds.
ARGS = st.one_of(
    st.integers(min_value=-3, max_value=40).map(str),
    st.sampled_from(["10 ** 7", "10 ** 12", "-(10 ** 9)", "2 ** 63"]),
    st.text(max_size=8).map(repr),
    st.sampled_from(["'x' * 1000", "[1, 2, 3]", "{'a': 1}", "none", "'<b>'", "0.5", "true"]),
)
FILTERS = sorted(BodySandbox().filters)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(FILTERS),
    value=st.sampled_from(["'ab cd\\nef'", "[3, 1, 2]", "{'b': 1, 'a': 2}", "7", "none", "''"]),
    args=st.lists(ARGS, max_size=3),
)
def test_any_filter_with_any_arguments_renders_or_fails_as_the_block(
    name: str, value: str, args: list[str]
) -> None:
    """Never an exception other than the block's error, never a large allocation."""
    literal = ", ".join(args)
    body = f"{{{{ {value}|{name}({literal}) }}}}"
    tracemalloc.start()
    try:
        with contextlib.suppress(TemplateError, LibraryFormatError):
            render(body)  # a LibraryFormatError: our literal was not Jinja syntax
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < PEAK_BOUND, body


# --- one request, one budget ----------------------------------------------------------------

SLOW = "{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}{% endfor %}"
LARGE = "{{ 'x'.ljust(900000) }}"


def publication_of(body: str, slots: int, *, required: bool = False) -> tuple[Library, Publication]:
    publication = Publication(
        id="many",
        title="Many",
        slots=tuple(Slot(component="c", required=required) for _ in range(slots)),
    )
    lib = library(component("c", variant("v", f"<p>{body}</p>")))
    return lib.model_copy(update={"publications": {"many": publication}}), publication


def assemble(lib: Library, publication: Publication, limits: Limits) -> Document:
    budget = limits.request_budget()
    reader = make_reader(context(), lib.settings)
    return assembler_for(lib, limits).document(publication, reader, budget)


def test_the_slots_of_a_publication_share_the_request_time_budget() -> None:
    limits = Limits(max_seconds=0.2, max_request_seconds=1.0)
    lib, publication = publication_of(SLOW, 100)
    start = time.monotonic()
    document = assemble(lib, publication, limits)
    elapsed = time.monotonic() - start
    assert document.blocks == []
    assert len(document.warnings) == 100
    by_request = [w for w in document.warnings if "request's time limit" in w]
    # At most request / body slots can have used their whole limit; 100 x 0.2 s would be 20 s.
    assert len(by_request) >= 100 - 1.0 / 0.2 - 1
    assert elapsed < 10, elapsed


def test_the_slots_of_a_publication_share_the_request_size_budget() -> None:
    limits = Limits(max_request_chars=10_000_000)
    lib, publication = publication_of(LARGE, 10)
    document = assemble(lib, publication, limits)
    per_block = 2 * 900_000  # the string built, then printed
    assert len(document.blocks) == limits.max_request_chars // per_block == 5
    assert len(document.warnings) == 5
    assert all("request's size budget" in w for w in document.warnings)


def test_a_required_slot_over_the_request_budget_fails_the_request() -> None:
    limits = Limits(max_request_chars=2_000_000)
    lib, publication = publication_of(LARGE, 5, required=True)
    with pytest.raises(TemplateError, match="request's size budget") as caught:
        assemble(lib, publication, limits)
    assert caught.value.details["limit"] == "request"


def test_includes_draw_on_the_render_that_includes_them() -> None:
    limits = Limits(max_work_chars=2_500_000)
    big = component("big", variant("v", f"<p>{LARGE}</p>"))
    host = component(
        "host",
        variant("v", "<div>" + '<ce-include component="big"></ce-include>' * 4 + "</div>"),
    )
    lib = library(host, big)
    with pytest.raises(TemplateError, match="render's size budget"):
        assembler_for(lib, limits).block("host", make_reader(context(), lib.settings))
