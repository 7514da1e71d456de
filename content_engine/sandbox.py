"""The Jinja2 sandbox editors' placeholders run in, with limits and warning capture.

In: compiled body templates and render variables. Out: text, or ``TemplateError`` when a body
breaks the sandbox or a limit. Undefined names render empty and are reported as warnings.

Escaping holds whatever a body does: ``{% autoescape %}`` is refused, ``|safe`` is ignored, and
``Markup`` (a captured piece of the body's own markup, a macro's output, ``|tojson``) can be
printed or joined whole but never cut, replaced or reformatted: slicing it, calling its methods,
``%`` on it or passing it to a filter works on its plain text, which is then escaped. Otherwise
``{% filter replace('b', 'script') %}<b>...`` would rebuild markup the sanitizer took out.
Attribute values with placeholders go through ``ce_attr`` / ``ce_safe_url`` (see ``compile``).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, NoReturn

from jinja2 import ChainableUndefined, TemplateSyntaxError, nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.exceptions import SecurityError
from jinja2.exceptions import TemplateError as JinjaTemplateError
from jinja2.runtime import Context as JinjaContext
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedFormatter
from markupsafe import Markup, escape

from . import formatting
from .errors import LibraryFormatError, TemplateError
from .sanitize import url_problem


@dataclass(frozen=True)
class Limits:
    """Bounds on one body's render; a body over them fails as a sandbox violation."""

    max_output_chars: int = 1_000_000
    max_seconds: float = 2.0
    max_sequence: int = 100_000  # longest string or list built by ``*``
    max_exponent: int = 1_000


_warnings: ContextVar[list[str] | None] = ContextVar("ce_render_warnings", default=None)
_deadline: ContextVar[float] = ContextVar("ce_render_deadline", default=float("inf"))


def _check_clock() -> None:
    if time.monotonic() > _deadline.get():
        raise SecurityError("render time limit reached")


def _timed(items: range) -> Iterator[int]:
    for n, item in enumerate(items):
        if n % 256 == 0:
            _check_clock()
        yield item


class RecordingUndefined(ChainableUndefined):
    """Renders empty, and notes its name in the current render's warnings when used."""

    __slots__ = ()

    def _note(self) -> None:
        sink = _warnings.get()
        if sink is not None:
            message = f"undefined name {self._undefined_name!r} rendered empty"
            if message not in sink:
                sink.append(message)

    def __str__(self) -> str:
        self._note()
        return ""

    def __html__(self) -> str:
        self._note()
        return ""

    def __iter__(self) -> Iterator[Any]:
        self._note()
        return iter(())

    def __bool__(self) -> bool:
        self._note()
        return False

    def __len__(self) -> int:
        self._note()
        return 0


class _CodeGenerator(CodeGenerator):
    """Jinja's code generator, except that slices go through ``getitem`` like indexes do.

    Jinja compiles ``x[1:3]`` to a plain Python subscript, out of the sandbox's sight; a slice
    of ``Markup`` is ``Markup``, and pieces of a body's markup could be put together anew.
    """

    @optimizeconst
    def visit_Getitem(self, node: nodes.Getitem, frame: Frame) -> None:
        if not isinstance(node.arg, nodes.Slice):
            super().visit_Getitem(node, frame)
            return
        self.write("environment.getitem(")
        self.visit(node.node, frame)
        self.write(", slice(")
        for n, part in enumerate((node.arg.start, node.arg.stop, node.arg.step)):
            self.write(", " if n else "")
            if part is None:
                self.write("None")
            else:
                self.visit(part, frame)
        self.write("))")


class BodySandbox(ImmutableSandboxedEnvironment):
    """A sandbox that also bounds the work a single expression may do.

    Immutable: one body must not change the customer data the next body sees.
    """

    # Constant folding would build ``'a' * 10**9`` at compile time unless these are intercepted;
    # ``%`` so that formatting into a piece of markup works on its plain text.
    intercepted_binops = frozenset({"*", "**", "%"})
    code_generator_class = _CodeGenerator

    def __init__(self, limits: Limits | None = None) -> None:
        super().__init__(
            autoescape=True,
            undefined=RecordingUndefined,
            extensions=["jinja2.ext.i18n", "jinja2.ext.loopcontrols"],
            keep_trailing_newline=True,
            finalize=None,
            # No constant folding at compile time: nothing a body computes runs outside the
            # render's limits, and compiling (every body, at each import) is 14 % quicker.
            optimized=False,
        )
        self.limits = limits or Limits()
        formatting.install(self)
        self.filters.update(ESCAPING_FILTERS)
        for name, fn in list(self.filters.items()):
            if name not in MARKUP_AWARE_FILTERS:
                self.filters[name] = _on_plain_text(fn)
        self.globals.pop("range", None)
        self.globals["range"] = self._range

    def _range(self, *args: int) -> Iterator[int]:
        r = range(*args)
        if len(r) > self.limits.max_sequence:
            raise SecurityError(f"range of {len(r)} items is over the limit")
        return _timed(r)

    # Loops that print nothing never reach the output check; these hooks see every attribute,
    # item, call and range step, so the clock is checked there too.
    def getattr(self, obj: Any, attribute: str) -> Any:
        _check_clock()
        return super().getattr(_plain(obj), attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _check_clock()
        return super().getitem(_plain(obj), argument)

    def call(__self, __context: JinjaContext, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _check_clock()
        return super().call(__context, __obj, *args, **kwargs)

    def call_binop(self, context: JinjaContext, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                sized = isinstance(seq, str | list | tuple | bytes) and isinstance(n, int)
                if sized and len(seq) * n > self.limits.max_sequence:
                    raise SecurityError("a repeated sequence would be over the size limit")
        if (
            operator == "**"
            and isinstance(right, int | float)
            and abs(right) > self.limits.max_exponent
        ):
            raise SecurityError("an exponent is over the limit")
        if operator == "%":
            left = _plain(left)
        return super().call_binop(context, operator, left, right)

    def format_string(self, text: str, kwargs: dict[str, Any]) -> str:
        """``str.format`` as the sandbox allows it: no walking to attributes like ``__class__``."""
        return str(SandboxedFormatter(self).vformat(text, (), kwargs))

    def check_syntax(self, source: str, filename: str, line_offset: int = 0) -> None:
        """Parse without compiling, so a syntax error points into the editor's own text."""
        with _syntax_errors(filename, line_offset):
            tree = self.parse(source)
        for node in tree.find_all(nodes.EvalContextModifier):
            _refuse_autoescape(node, filename, line_offset)

    def compile_body(
        self, source: str, filename: str, line_offset: int = 0
    ) -> tuple[Any, frozenset[str]]:
        """The template, and every name it reads (what its output can depend on).

        The names are every variable loaded anywhere, loop variables included: a superset of
        the free ones, found in one walk (``jinja2.meta`` runs a whole code generator).
        """
        names: set[str] = set()
        with _syntax_errors(filename, line_offset):
            tree = self.parse(source)
            for node in tree.find_all((nodes.Name, nodes.EvalContextModifier)):
                if isinstance(node, nodes.EvalContextModifier):
                    _refuse_autoescape(node, filename, line_offset)
                elif isinstance(node, nodes.Name) and node.ctx == "load":
                    names.add(node.name)
            return self.from_string(tree), frozenset(names)

    def run(self, template: Any, variables: dict[str, Any], where: str) -> tuple[str, list[str]]:
        """Render within the limits; return the text and the warnings it raised."""
        sink: list[str] = []
        limits = self.limits
        deadline = time.monotonic() + limits.max_seconds
        token = _warnings.set(sink)
        clock = _deadline.set(min(deadline, _deadline.get()))
        parts: list[str] = []
        size = 0
        try:
            for chunk in template.generate(variables):
                size += len(chunk)
                if size > limits.max_output_chars:
                    _fail(where, f"output over {limits.max_output_chars} characters")
                if time.monotonic() > deadline:
                    _fail(where, f"render took over {limits.max_seconds} s")
                parts.append(chunk)
        except SecurityError as exc:
            _fail(where, f"sandbox violation: {exc}")
        except TemplateError:
            raise
        except (JinjaTemplateError, ArithmeticError, ValueError, TypeError, LookupError) as exc:
            _fail(where, f"{type(exc).__name__}: {exc}")
        except RecursionError:
            _fail(where, "recursion too deep")
        finally:
            _warnings.reset(token)
            _deadline.reset(clock)
        return "".join(parts), sink


def _refuse_autoescape(node: nodes.Node, filename: str, line_offset: int) -> NoReturn:
    raise LibraryFormatError(
        "template syntax: {% autoescape %} is not allowed: placeholders are always escaped",
        file=filename,
        line=(node.lineno or 1) + line_offset,
    )


@contextmanager
def _syntax_errors(filename: str, line_offset: int) -> Iterator[None]:
    try:
        yield
    except TemplateSyntaxError as exc:
        raise LibraryFormatError(
            f"template syntax: {exc.message}", file=filename, line=(exc.lineno or 1) + line_offset
        ) from None


def _fail(where: str, why: str) -> NoReturn:
    raise TemplateError(f"{where}: {why}", details={"where": where, "reason": why})


def _plain(value: Any) -> Any:
    """A ``Markup`` as its plain text (escaped again when printed); anything else as it is."""
    return str(value) if isinstance(value, Markup) else value


def _on_plain_text(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A filter that gets the plain text of any ``Markup`` argument (see the module's doc)."""

    @functools.wraps(fn)  # keeps jinja's pass_context marks
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        markup = any(isinstance(a, Markup) for a in (*args, *kwargs.values()))
        result = fn(*map(_plain, args), **{k: _plain(v) for k, v in kwargs.items()})
        # A filter block writes its filter's result unescaped: escape it here.
        if markup and isinstance(result, str) and not isinstance(result, Markup):
            return escape(result)
        return result

    return wrapper


def _text_of(value: Any) -> str:
    """What a rendered attribute value says (a filter block hands it over escaped)."""
    return value.unescape() if isinstance(value, Markup) else str(value)


def attr_filter(value: Any) -> Markup:
    """An attribute value, escaped whole: no ``Markup`` inside it can close the quotes."""
    return escape(_text_of(value))


def safe_url_filter(value: Any, images: bool = False) -> Markup:
    """A rendered URL if its scheme is allowed (``sanitize.url_problem``), else ``#``."""
    text = _text_of(value)
    bad = url_problem(text, image=bool(images))
    if bad is not None:
        note_warning(f"a {bad} URL in an attribute was replaced by '#'")
        return Markup("#")
    return escape(text)


def safe_filter(value: Any) -> Any:
    """``|safe`` does nothing in a body: its markup was checked when it was saved, values never."""
    note_warning("|safe is ignored: placeholder values are always escaped")
    return value if isinstance(value, Markup) else str(value)


ESCAPING_FILTERS: dict[str, Callable[..., Any]] = {
    "ce_attr": attr_filter,
    "ce_safe_url": safe_url_filter,
    "safe": safe_filter,
}
# Filters that take Markup as it is: they escape, or pass a value through whole.
MARKUP_AWARE_FILTERS = frozenset(
    {"ce_attr", "ce_safe_url", "safe", "e", "escape", "forceescape", "default", "d"}
)


def note_warning(message: str) -> None:
    """Add a warning to the render in progress (used by filters that fall back)."""
    sink = _warnings.get()
    if sink is not None and message not in sink:
        sink.append(message)


SafeCallable = Callable[..., Markup]
