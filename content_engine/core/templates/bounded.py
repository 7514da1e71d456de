"""A Jinja sandbox in which every operation is sized, and charged, before it builds anything.

In: what a running body does (its operators, method calls, filters, tests, loops, slices and
prints) and the render's ``Budget``, set by ``drawing_on`` for the render under way. Out: the
operation's result, or ``BudgetSpent`` / ``SecurityError`` before the memory or time is spent.

Each operation that builds by a size is sized first (``sizes``) and charged to the render's
budget (``budget``), a part of its request's; loops, calls, attributes and filters check the
clock. The code generator (``codegen``) compiles in the calls Jinja has no hook for. Filters,
methods, slices and ``%`` see a ``Markup``'s plain text (``escaping``). See docs/security.md.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from time import monotonic
from types import FunctionType
from typing import Any, TypeVar, cast

from jinja2.exceptions import SecurityError
from jinja2.runtime import Context as JinjaContext
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedFormatter
from jinja2.utils import Namespace, generate_lorem_ipsum
from markupsafe import Markup, escape

from content_engine.core.budget import Budget, BudgetSpent
from content_engine.core.templates import sizes
from content_engine.core.templates.codegen import CheckedCodeGenerator
from content_engine.core.templates.escaping import MARKUP_AWARE_FILTERS, plain
from content_engine.core.templates.limits import Limits

T = TypeVar("T")
_SEQUENCES = (str, bytes, list, tuple)  # what ``*`` repeats and ``+`` joins
_SCALARS = (str, bytes, int, float, type(None))  # compared in time linear in the other side
_COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "gteq": operator.ge,
    "lt": operator.lt,
    "lteq": operator.le,
    "in": lambda a, b: a in b,
    "notin": lambda a, b: a not in b,
}
# Attributes of a dict: ``d.items`` is the method, every other name is looked up as a key.
_DICT_ATTRIBUTES = frozenset(dir(dict))
# A list item is a pointer (8 bytes) where a character of text is one: budgets count it as 8.
ITEM_WEIGHT = 8

# Filters that hand values on without printing or comparing them: a large value (customer
# data) may pass through them; every other filter's arguments are sized as text first.
PASSING_FILTERS = frozenset(
    {
        "abs",
        "attr",
        "batch",
        "count",
        "d",
        "default",
        "first",
        "items",
        "last",
        "length",
        "list",
        "map",
        "random",
        "reject",
        "rejectattr",
        "reverse",
        "round",
        "select",
        "selectattr",
        "slice",
    }
)
# Filters whose result is a new list (sized in items).
LIST_FILTERS = frozenset({"batch", "slice", "list", "sort", "unique", "reverse", "dictsort"})
# Tests that compare their two arguments (the others look at one value's kind or state).
COMPARING_TESTS = frozenset(
    {"eq", "equalto", "==", "ne", "!=", "lt", "lessthan", "<", "le", "<=", "gt"}
    | {"greaterthan", ">", "ge", ">=", "in"}
)
# Filters whose time grows faster than their input, with the longest text each may take.
SLOW_FILTERS = {"wordwrap": 100_000}
# Filters sized before they run (``_filter_size``); every other one is charged after.
PRESIZED_FILTERS = frozenset({"join", "sum", *SLOW_FILTERS, *sizes.PRESIZED_FILTERS})


_budget: ContextVar[Budget | None] = ContextVar("ce_render_budget", default=None)


def _check_clock() -> None:
    budget = _budget.get()
    # The deadline compared here, the error made by the budget: called for every loop step,
    # call, attribute and filter, one level of Python calls less is a twentieth of a render.
    if budget is not None and monotonic() > budget.deadline:
        budget.check_clock()


def _timed(items: Iterable[T]) -> Iterator[T]:
    # Every step: one step may run a slow filter, and the check costs ~0.1 µs.
    for item in items:
        _check_clock()
        yield item


# Set on the engine's own functions handed to a render (``_``, ``ngettext``, the inline
# conditions' and includes' calls): ``call`` runs them directly, without Jinja's checks of an
# unknown callable (whether it is safe, whether it wants the context), which cost more than
# the translation itself. A body cannot set attributes (the sandbox is immutable).
TRUSTED = "__ce_trusted__"
F = TypeVar("F", bound=Callable[..., Any])


def trusted(fn: F) -> F:
    """``fn``, marked as one of the engine's own render functions (see ``TRUSTED``)."""
    setattr(fn, TRUSTED, True)
    return fn


def budget_in_force() -> Budget | None:
    """The budget of the render under way in this thread or task, if any."""
    return _budget.get()


@contextmanager
def drawing_on(budget: Budget) -> Iterator[None]:
    """Charge what the bounded operations inside build to ``budget``."""
    active = _budget.set(budget)
    try:
        yield
    finally:
        _budget.reset(active)


class _BoundedFormatter(SandboxedFormatter):
    """``str.format`` in the sandbox: each field is sized (width, precision) before it is built."""

    def format_field(self, value: Any, format_spec: str) -> Any:
        sandbox = cast(BoundedSandbox, self._env)
        sandbox.allocate(sizes.spec_size(format_spec, value, sandbox.largest()), "a format field")
        return super().format_field(value, format_spec)

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        cast(BoundedSandbox, self._env).check_text(value)
        return super().convert_field(value, conversion)


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """An immutable sandbox that bounds the time and memory of what runs in it.

    Immutable: one body must not change the customer data the next body sees. Every operation
    that builds by a size (``*``, ``+``, ``~``, ``%``, ``str.format``, ``ljust`` and the other
    sized methods, ``center``/``indent``/``wordwrap``/``batch``... and printing itself) works
    out what it would build and charges it to the render's ``Budget`` before building it, so
    an over-limit body fails with a sandbox error and never with a ``MemoryError``. Outside
    ``drawing_on`` only the bound on one value holds, not the render's total.
    """

    # Constant folding would build ``'a' * 10**9`` at compile time unless these are intercepted;
    # ``%`` so that formatting into a piece of markup works on its plain text.
    intercepted_binops = frozenset({"*", "**", "%", "+"})
    code_generator_class = CheckedCodeGenerator

    def __init__(self, limits: Limits, **options: Any) -> None:
        # No constant folding at compile time: nothing a body computes runs outside the
        # render's limits, and compiling (every body, at each import) is 14 % quicker.
        super().__init__(optimized=False, **options)
        # Every printed value is sized first (a list of shared lists prints as a huge text).
        self.finalize = self.ce_piece
        self.limits = limits

    def guard_all(self) -> None:
        """Put every filter and test installed so far, and ``range``, under the bounds."""
        for name, fn in list(self.filters.items()):
            self.filters[name] = self._guard_filter(name, fn)
        for name, fn in list(self.tests.items()):
            self.tests[name] = self._guard_test(name, cast(Callable[..., Any], fn))
        self.globals.pop("range", None)
        self.globals["range"] = self._range

    def _range(self, *args: int) -> Iterator[int]:
        r = range(*args)
        try:
            size = len(r)
        except OverflowError:  # more items than a C ssize_t holds
            size = self.limits.max_sequence + 1
        if size > self.limits.max_sequence:
            raise SecurityError(f"range of {size:,} items is over the limit")
        return _timed(r)

    # --- the budget -------------------------------------------------------------------------

    def largest(self) -> int:
        """The most characters (or items) one value may hold in the render under way."""
        budget = _budget.get()
        return self.limits.max_sequence if budget is None else budget.largest

    def allocate(self, size: int, what: str, *, items: bool = False) -> None:
        """Charge ``size`` characters for ``what`` before it is built; raise if over a limit.

        ``items``: ``size`` counts list items, each charged as ``ITEM_WEIGHT`` characters.
        """
        budget = _budget.get()
        if budget is not None:
            budget.spend(size, what, weight=ITEM_WEIGHT if items else 1)
        elif size > self.limits.max_sequence:
            raise BudgetSpent(f"{what} would build {size:,} characters: over the size limit", "")

    def charge_result(self, result: Any, what: str, *, deep: bool) -> None:
        """Charge what an operation that grows at most linearly has just built.

        Its input bounds it, so it is counted after the fact; counted it must be, or a loop
        keeping such results alive (``ns.l + [text|upper]``) would grow without limit. ``deep``:
        the result's items are new too (a ``split``), not references to existing values.
        """
        budget = _budget.get()
        if budget is None:
            return
        if isinstance(result, str | bytes):
            size = len(result)
        elif isinstance(result, list | tuple | dict | set):
            if deep:
                size = sizes.held_size(result, max(budget.chars, 0))
            else:
                size = len(result) * ITEM_WEIGHT
        elif isinstance(result, Namespace):  # ``namespace(**data)`` copies the data
            size = len(sizes.namespace_attrs(result)) * ITEM_WEIGHT
        else:
            return
        budget.charge(size, what)

    def check_text(self, value: Any) -> None:
        """Refuse a value whose text (a nested list, say) is larger than one value may be."""
        if isinstance(value, int | float | None):
            return
        largest = self.largest()
        if sizes.text_size(value, largest) > largest:
            raise BudgetSpent(
                f"a value of {type(value).__name__} would print as over {largest:,} characters",
                "render",
            )

    def ce_text(self, text: str) -> str:
        """Template text being written: charged each time (loops write it many times)."""
        budget = _budget.get()
        if budget is not None:
            size = len(text)
            if size <= budget.chars and size <= budget.largest:
                budget.chars -= size  # what ``spend`` does when nothing is over a limit
            else:
                budget.spend(size, "template text")  # raises, saying which limit
        return text

    def ce_piece(self, value: T) -> T:
        """A value about to be printed or joined by ``~``: charged at its text's size."""
        budget = _budget.get()
        if isinstance(value, str) and budget is not None:  # the common case, as ``ce_text``
            size = len(value)
            if size <= budget.chars and size <= budget.largest:
                budget.chars -= size
            else:
                budget.spend(size, "a printed value")
            return value
        size = len(value) if isinstance(value, str) else sizes.text_size(value, self.largest())
        self.allocate(size, "a printed value")
        return value

    def ce_compared(self, value: T) -> T:
        self.check_text(value)
        return value

    def ce_compare(self, op: str, left: Any, right: Any) -> Any:
        self.check_compared(left, right)
        return _COMPARISONS[op](left, right)

    def check_compared(self, left: Any, right: Any) -> None:
        """Refuse a comparison only when both sides are too large: it costs about as much as
        its smaller side (``x in orders`` stays usable on large data)."""
        if not isinstance(left, _SCALARS) and not isinstance(right, _SCALARS):
            largest = self.largest()
            if min(sizes.text_size(left, largest), sizes.text_size(right, largest)) > largest:
                raise BudgetSpent(f"a comparison of two values over {largest:,} characters", "")

    def ce_iter(self, items: Iterable[T]) -> Iterator[T]:
        """A loop's items, with the clock checked as they come (a loop may print nothing)."""
        return _timed(items)

    def _guard_filter(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """A filter whose arguments are sized, and its result when it builds by a size.

        Unless the filter is markup-aware, it gets the plain text of any ``Markup`` argument
        (see ``escaping``) and its string result is escaped again.
        """
        textual = name not in MARKUP_AWARE_FILTERS
        sized = name not in PASSING_FILTERS
        passes = 1 if getattr(fn, "jinja_pass_arg", None) is not None else 0
        # Worked out once per filter, not per call: whether it is sized before it runs.
        sized_first = name in PRESIZED_FILTERS
        what = f"the {name} filter"
        items = name in LIST_FILTERS

        @functools.wraps(fn)  # keeps jinja's pass_context marks
        def guarded(*args: Any, **kwargs: Any) -> Any:
            _check_clock()
            markup = textual and any(isinstance(a, Markup) for a in (*args, *kwargs.values()))
            if markup:  # ``plain`` changes nothing else
                args = tuple(map(plain, args))
                kwargs = {k: plain(v) for k, v in kwargs.items()}
            head, values = args[:passes], list(args[passes:])
            if name in ("join", "sum") and values:
                values[0] = self._materialized(values[0])
            size = self._filter_size(name, values, kwargs) if sized_first else None
            if size is not None:
                self.allocate(size, what, items=items)
            for value in (*values, *kwargs.values()) if sized else ():
                self.check_text(value)
            result = fn(*head, *values, **kwargs)
            if size is None:
                self.charge_result(result, what, deep=sized)
            # A filter block writes its filter's result unescaped: escape it here.
            if markup and isinstance(result, str) and not isinstance(result, Markup):
                return escape(result)
            return result

        return guarded

    def _filter_size(self, name: str, values: list[Any], kwargs: dict[str, Any]) -> int | None:
        largest = self.largest()
        text = values[0] if values and isinstance(values[0], str) else ""
        if name in SLOW_FILTERS and len(text) > SLOW_FILTERS[name]:
            # Pure Python with no clock inside, and slower than linear on long whitespace.
            raise BudgetSpent(
                f"the {name} filter takes at most {SLOW_FILTERS[name]:,} characters", "render"
            )
        if name == "join":
            separator = values[1] if len(values) > 1 else kwargs.get("d", "")
            return sizes.joined_size(str(separator), values[0], largest)
        if name == "sum":
            start = values[2] if len(values) > 2 else kwargs.get("start", 0)
            if not isinstance(start, list | tuple | str):
                return None
            total = len(start) + sum(len(v) for v in values[0] if isinstance(v, list | tuple))
            return total + len(values[0]) * total // 8  # each step copies what is summed so far
        return sizes.filter_size(name, values, kwargs, largest)

    def _materialized(self, items: Any) -> list[Any]:
        if isinstance(items, list):
            return items
        found = sizes.materialize(items, self.largest())
        if found is None:
            raise BudgetSpent("an iterable has more items than one value may hold", "render")
        return found

    def _guard_test(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """A test, with the clock checked; one that compares sizes its two sides first."""
        compares = name in COMPARING_TESTS

        @functools.wraps(fn)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            _check_clock()
            if compares and len(args) >= 2:
                self.check_compared(args[0], args[1])
            return fn(*args, **kwargs)

        return guarded

    # --- jinja's hooks ----------------------------------------------------------------------
    # Loops that print nothing never reach the output check; these hooks see every attribute,
    # item, call and loop step, so the clock is checked there too.
    def getattr(self, obj: Any, attribute: str) -> Any:
        _check_clock()
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            # What Jinja's lookup comes to for ``customer.name`` (no such attribute of a
            # dict, so the item), without raising and catching its AttributeError first.
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(plain(obj), attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _check_clock()
        obj = plain(obj)
        if isinstance(argument, slice) and isinstance(obj, _SEQUENCES):
            size = len(range(*argument.indices(len(obj))))
            self.allocate(size, "a slice", items=not isinstance(obj, str | bytes))
        return super().getitem(obj, argument)

    def call(__self, __context: JinjaContext, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _check_clock()
        if type(__obj) is FunctionType and getattr(__obj, TRUSTED, None) is True:
            kwargs.pop("_loop_vars", None)  # what ``Context.call`` would drop
            kwargs.pop("_block_vars", None)
            return __obj(*args, **kwargs)
        owner = getattr(__obj, "__self__", None)
        if owner is __self:  # the checks the code generator puts in: they size for themselves
            return __context.call(__obj, *args, **kwargs)
        if owner is None and __obj is not generate_lorem_ipsum and not isinstance(__obj, type):
            # A function or macro (the body's, ``_``, an include): what it builds is checked
            # inside it; only methods of values build by their arguments.
            return super().call(__context, __obj, *args, **kwargs)
        if isinstance(owner, str | bytes) and getattr(__obj, "__name__", "") == "join" and args:
            args = (__self._materialized(args[0]), *args[1:])
            __self.allocate(sizes.joined_size(owner, args[0], __self.largest()), "join()")
        # Arguments may be printed or compared by the method; the list itself only when each
        # of its items is compared (large customer data stays usable through its methods).
        if isinstance(owner, list | tuple) and getattr(__obj, "__name__", "") in ("count", "index"):
            __self.check_text(owner)
        for value in (*args, *kwargs.values()):
            __self.check_text(value)
        what = f"{getattr(__obj, '__name__', 'a call')}()"
        size = sizes.method_size(__obj, args, kwargs)
        if size is not None:
            __self.allocate(size, what)
        result = super().call(__context, __obj, *args, **kwargs)
        if size is None:  # a string's methods build new items; a dict's get() hands one on
            __self.charge_result(result, what, deep=isinstance(owner, str | bytes))
        return result

    def call_binop(self, context: JinjaContext, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, _SEQUENCES) and isinstance(n, int):
                    items = not isinstance(seq, str | bytes)
                    self.allocate(len(seq) * max(n, 0), "a repeated sequence", items=items)
            if isinstance(left, int) and isinstance(right, int):
                self._check_bits(left.bit_length() + right.bit_length())
        elif operator == "+":
            if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
                items = not isinstance(left, str | bytes)
                self.allocate(len(left) + len(right), "'+'", items=items)
        elif operator == "**":
            if isinstance(right, int | float) and abs(right) > self.limits.max_exponent:
                raise SecurityError("an exponent is over the limit")
            if isinstance(left, int) and isinstance(right, int) and right > 0:
                self._check_bits(left.bit_length() * right)
        elif operator == "%":
            left = plain(left)
            if isinstance(left, str | bytes):
                size = sizes.percent_size(left, right, self.largest())
                self.allocate(size, "'%' formatting")
        return super().call_binop(context, operator, left, right)

    def _check_bits(self, bits: int) -> None:
        if bits > self.limits.max_int_bits:
            raise SecurityError(f"an integer of about {bits:,} bits is over the limit")

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """``str.format``/``format_map`` of a body: sandboxed by Jinja, sized by us."""
        if super().wrap_str_format(value) is None:
            return None
        text, is_map = value.__self__, value.__name__ == "format_map"

        def bounded(*args: Any, **kwargs: Any) -> str:
            if not is_map:
                return self.format_string(text, kwargs, args)
            if kwargs or len(args) != 1:
                raise TypeError("format_map() takes exactly one mapping")
            return self.format_string(text, args[0])

        return functools.update_wrapper(bounded, value)

    def format_string(self, text: str, kwargs: Any, args: tuple[Any, ...] = ()) -> str:
        """``str.format`` as the sandbox allows it: no walking to attributes like ``__class__``,
        and no field wider than the render may build."""
        return str(_BoundedFormatter(self).vformat(text, args, kwargs))
