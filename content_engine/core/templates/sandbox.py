"""The Jinja2 sandbox editors' placeholders run in, with limits and warning capture.

In: a body's source (to check or compile), or a compiled body, its render variables and the
request's ``Budget``. Out: the template and the names it reads; or text and the warnings the
render raised, or ``TemplateError`` when a body breaks the sandbox or a limit. Undefined names
render empty and are reported as warnings.

Memory and time are bounded before they are spent (``bounded``, within ``limits``); escaping
holds whatever a body does: ``{% autoescape %}`` is refused, ``|safe`` is ignored, and
``Markup`` is never cut or reformatted (``escaping``). See docs/security.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

from jinja2 import ChainableUndefined, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError
from jinja2.exceptions import TemplateError as JinjaTemplateError
from jinja2.ext import Extension

from content_engine.core.budget import Budget, BudgetSpent
from content_engine.core.errors import ContentEngineError, LibraryFormatError, TemplateError
from content_engine.core.templates import formatting
from content_engine.core.templates.bounded import BoundedSandbox, budget_in_force, drawing_on
from content_engine.core.templates.escaping import ESCAPING_FILTERS
from content_engine.core.templates.limits import Limits
from content_engine.core.templates.notes import collecting, note_warning
from content_engine.core.templates.shapes import quick_shape

# Settings, the pools and the tests name the bounds through the sandbox they bound.
__all__ = ["BodySandbox", "Limits", "RecordingUndefined"]


# The output's chunks between two looks at the clock. Whatever can take long between two
# chunks (a loop, a call, a filter, an attribute) looks at it itself (``bounded``); this is
# the backstop, and reading the clock for each of a body's ~50 chunks was a tenth of a render.
CLOCK_EVERY = 16

# Tags whose text is more than output: the i18n extension makes it a message to translate.
_TEXT_READING_TAGS = frozenset({"trans", "pluralize", "endtrans"})


class RecordingUndefined(ChainableUndefined):
    """Renders empty, and notes its name in the current render's warnings when used."""

    __slots__ = ()

    def _note(self) -> None:
        note_warning(f"undefined name {self._undefined_name!r} rendered empty")

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


class BodySandbox(BoundedSandbox):
    """The sandbox bodies compile and render in: bounded, escaping, with Babel's filters.

    Render through ``run``: outside it only the bound on one value holds, not the render's
    total.
    """

    def __init__(self, limits: Limits | None = None) -> None:
        super().__init__(
            limits or Limits(),
            autoescape=True,
            undefined=RecordingUndefined,
            extensions=["jinja2.ext.i18n", "jinja2.ext.loopcontrols"],
            keep_trailing_newline=True,
            finalize=None,
        )
        formatting.install(self)
        self.filters.update(ESCAPING_FILTERS)
        self.guard_all()
        # ``quick_shape`` knows Jinja's default delimiters, and no line statements.
        self._default_syntax = (
            (self.block_start_string, self.block_end_string) == ("{%", "%}")
            and (self.variable_start_string, self.variable_end_string) == ("{{", "}}")
            and (self.comment_start_string, self.comment_end_string) == ("{#", "#}")
            and self.line_statement_prefix is None
            and self.line_comment_prefix is None
        )

    def check_syntax(self, source: str, filename: str, line_offset: int = 0) -> None:
        """Parse without compiling, so a syntax error points into the editor's own text."""
        with _syntax_errors(filename, line_offset):
            tree = self.parse(source)
            for node in tree.find_all(nodes.EvalContextModifier):
                _refuse_autoescape(node, filename, line_offset)

    def shape_of(self, source: str) -> str | None:
        """``source`` with its template text left out: every tag, placeholder and comment as
        Jinja's lexer reads it, each run of text as one mark.

        Jinja parses and generates code from tokens; a text token only ever becomes a
        constant in the output, so whether a source compiles is decided by its shape (line
        numbers aside, which only name where an error is). ``None``, to compile in full, when
        the lexer refuses the source or it has ``{% trans %}``, which reads its text.
        """
        if any(
            type(ext).filter_stream is not Extension.filter_stream
            or type(ext).preprocess is not Extension.preprocess
            for ext in self.extensions.values()
        ):
            return None  # an extension that rewrites the tokens could read the text too
        if self._default_syntax:
            quick = quick_shape(source)
            if quick is not None:
                return quick
        parts: list[str] = []
        try:
            for _line, token, value in self.lexer.tokeniter(self.preprocess(source), None):
                if token == "data":
                    parts.append("\x00")
                elif token == "name" and value in _TEXT_READING_TAGS:
                    return None
                else:
                    parts.append(f"{token}\x01{value}\x02")
        except (JinjaTemplateError, RecursionError, MemoryError):
            return None
        return "".join(parts)

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
            template = self.from_string(tree)
        # Jinja gives a template a ``ChainMap`` over the sandbox's globals, which every render
        # copies into its context key by key; the globals are all set when the sandbox is
        # made (``guard_all``), so one flat copy serves every render the same.
        template.globals = dict(template.globals)
        return template, frozenset(names)

    def run(
        self,
        template: Any,
        variables: dict[str, Any],
        where: str,
        budget: Budget | None = None,
    ) -> tuple[str, list[str]]:
        """Render within the limits; return the text and the warnings it raised.

        The render draws on ``budget`` (its request's), or on the render it is included in.
        """
        sink: list[str] = []
        limits = self.limits
        render = Budget(
            "render",
            seconds=limits.max_seconds,
            chars=limits.max_work_chars,
            largest=limits.max_sequence,
            parent=budget_in_force() or budget,
        )
        with collecting(sink), drawing_on(render):
            parts: list[str] = []
            size = 0
            try:
                render.check_left()
                for chunk in template.generate(variables):
                    size += len(chunk)
                    if size > limits.max_output_chars:
                        _fail(where, f"output over {limits.max_output_chars} characters")
                    parts.append(chunk)
                    if not len(parts) % CLOCK_EVERY:
                        render.check_clock()
                render.check_clock()
            except BudgetSpent as exc:
                _fail(where, f"sandbox violation: {exc}", limit=exc.limit or "render")
            except SecurityError as exc:
                _fail(where, f"sandbox violation: {exc}")
            except ContentEngineError:
                raise  # an include's own error, already named
            except RecursionError:
                _fail(where, "recursion too deep")
            except MemoryError:  # not reached by the bounds above; kept so it is never a 500
                _fail(where, "out of memory")
            except (JinjaTemplateError, Exception) as exc:
                # Whatever else a body makes Python raise is that body's failure, not the server's.
                _fail(where, f"{type(exc).__name__}: {exc}")
            finally:
                render.close()
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
    except (RecursionError, SyntaxError, MemoryError):
        # Jinja's parser recurses per nesting level and Python caps nested blocks at 20: a
        # body nested thousands deep is refused as the editor's error, not the server's.
        raise LibraryFormatError(
            "template syntax: expressions or blocks nested too deeply", file=filename, line=1
        ) from None


def _fail(where: str, why: str, limit: str | None = None) -> NoReturn:
    details = {"where": where, "reason": why} | ({"limit": limit} if limit else {})
    raise TemplateError(f"{where}: {why}", details=details)
