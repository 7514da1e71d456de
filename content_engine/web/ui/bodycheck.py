"""A body as the editor types it, checked as saving it would check it, problem by problem.

In: the engine, a component, the variant's key (empty for a new one) and the body's text.
Out: ``Mark``s, each with its line and columns in that text, for the body editor to underline
while the editor types: malformed XHTML and template syntax (``compile_body``, the save's first
check), includes of components that do not exist and includes that would close a cycle or go
too deep (the include graph the save checks, ``engine.editor.include_problems``), and what the
save would take out of the body (``sanitize_body``, as warnings). Nothing is stored.

Lines and columns are 1-based and count characters (code points), as the save's messages do;
``end_column`` is exclusive. Where a check names no column (a template's syntax error names
its line only), the mark spans its line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from content_engine.core.errors import LibraryFormatError, NotFound
from content_engine.core.integrity import Problem
from content_engine.core.markup.sanitize import sanitize_body
from content_engine.core.models import Component, Variant
from content_engine.core.names import name_problem
from content_engine.core.templates.compile import INCLUDE_TAG, compile_body
from content_engine.engine import Engine

# As the API takes a variant's body (``web.schemas``): a longer one is not checked as typed.
MAX_BODY_CHARS = 1_000_000
# A text that is all errors is not worth hundreds of underlines: the first ones say enough.
MAX_MARKS = 100
FILE = "<body>"
_UNSAVED_KEY = "unsaved-variant"

Severity = Literal["error", "warning"]

# A start tag of an include, with its attributes; comments are blanked out before this runs.
_INCLUDE = re.compile(rf"<{INCLUDE_TAG}\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>")
_COMPONENT = re.compile(r"\scomponent\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_HIDDEN = re.compile(r"<!--.*?-->|<!\[CDATA\[.*?\]\]>", re.S)
_LOCATION = re.compile(r"^[^\n]*?:\d+(?::\d+)?: ")


@dataclass(frozen=True)
class Mark:
    """One problem at its place in the text."""

    severity: Severity
    code: str
    message: str
    line: int
    column: int
    end_line: int
    end_column: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Text:
    """The body's lines, to turn offsets into lines and columns and back."""

    def __init__(self, body: str) -> None:
        self.body = body
        self.lines = body.split("\n")
        self.starts = [0]
        for line in self.lines[:-1]:
            self.starts.append(self.starts[-1] + len(line) + 1)

    def position(self, offset: int) -> tuple[int, int]:
        """Line and column (1-based) of a character offset."""
        low, high = 0, len(self.starts) - 1
        while low < high:  # the last line starting at or before ``offset``
            middle = (low + high + 1) // 2
            if self.starts[middle] <= offset:
                low = middle
            else:
                high = middle - 1
        return low + 1, offset - self.starts[low] + 1

    def mark(
        self, severity: Severity, code: str, message: str, line: int, column: int | None
    ) -> Mark:
        """A mark from ``column`` to the end of its word; the whole line without a column.

        Past the end of the line (the parser stopped at its end), the line's last tag or
        word is marked: that is what it was reading.
        """
        line = min(max(line, 1), len(self.lines))
        text = self.lines[line - 1]
        if column is None or not text.strip():
            return Mark(severity, code, message, line, 1, line, len(text) + 1)
        start = min(max(column, 1), len(text) + 1) - 1
        if start >= len(text.rstrip()):
            stripped = text.rstrip()
            tag = stripped.rfind("<")
            word = len(stripped) - len(stripped.split()[-1])
            start = tag if tag >= 0 else word
            return Mark(severity, code, message, line, start + 1, line, len(stripped) + 1)
        end = start
        while end < len(text) and not text[end].isspace() and (end == start or text[end] != "<"):
            end += 1
        return Mark(severity, code, message, line, start + 1, line, max(end, start + 1) + 1)


@dataclass(frozen=True)
class IncludeAt:
    """An include's ``component`` value: the id, and the offsets of the value in the text."""

    target: str
    start: int
    end: int


def includes_at(body: str) -> list[IncludeAt]:
    """Every ``<ce-include component="...">`` outside comments and CDATA, in order."""
    visible = _HIDDEN.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), body)
    found = []
    for tag in _INCLUDE.finditer(visible):
        value = _COMPONENT.search(tag.group(0))
        if value is None:
            continue
        group = 1 if value.group(1) is not None else 2
        start, end = tag.start() + value.start(group), tag.start() + value.end(group)
        found.append(IncludeAt(body[start:end].strip(), start, end))
    return found


def _message(exc: LibraryFormatError) -> str:
    """The refusal without its ``file:line:col:`` prefix: the mark says where."""
    return _LOCATION.sub("", exc.message, count=1)


def _variant(component: Component, key: str, body: str) -> Variant:
    """The text as a variant of ``component``; a key that is not a valid one yet (a new
    variant's, still being typed) becomes one the component does not have."""
    if not key or name_problem("variant key", key) is not None:
        key = _UNSAVED_KEY
        while key in component.variants:
            key += "-"
    current = component.variants.get(key)
    base = current.model_copy(update={"version": 0}) if current else Variant(key=key)
    return base.model_copy(update={"body": body})


def check_body(engine: Engine, component_id: str, key: str, body: str) -> list[Mark]:
    """What saving ``body`` as ``component_id``/``key`` would refuse or take out, each at its
    place; an empty list when it would be saved as it is."""
    library = engine.library()
    component = library.components.get(component_id)
    if component is None:
        raise NotFound(f"unknown component {component_id!r}")
    text = Text(body)
    try:
        compile_body(body, engine.sandbox, FILE)
        removals = sanitize_body(body, FILE).removals
    except LibraryFormatError as exc:
        return [text.mark("error", exc.code, _message(exc), exc.line or 1, exc.column)]
    marks = [
        text.mark("warning", "removed_on_save", f"{r.what}: saving takes it out", r.line, None)
        for r in removals
    ]
    marks += _include_marks(engine, component, key, body, text)
    marks.sort(key=lambda m: (m.line, m.column))
    return marks[:MAX_MARKS]


def _include_marks(
    engine: Engine, component: Component, key: str, body: str, text: Text
) -> list[Mark]:
    """Unknown includes at their ``component`` value; a cycle or excess depth the body's
    includes would make, at each include that leads into it."""
    includes = includes_at(body)
    if not includes:
        return []
    library = engine.library()
    variant = _variant(component, key, body)
    changed = component.model_copy(
        update={"variants": {**component.variants, variant.key: variant}}
    )
    problems = engine.editor.include_problems(library, changed)
    marks = []
    for include in includes:
        for problem in _problems_of(include, problems, component.id, library.components):
            line, column = text.position(include.start)
            end_line, end_column = text.position(include.end)
            marks.append(
                Mark("error", problem.code, problem.message, line, column, end_line, end_column)
            )
    return marks


def _problems_of(
    include: IncludeAt, problems: list[Problem], own: str, known: Mapping[str, Any]
) -> list[Problem]:
    """The graph's problems that this include causes or leads into."""
    if include.target not in known:
        message = f"unknown component {include.target!r}: no component has this id"
        return [Problem(code="missing_include", message=message, component=own)]
    found = []
    for problem in problems:
        if (
            problem.code == "include_cycle" and include.target in _cycle(problem.message)
        ) or problem.code == "include_too_deep":
            found.append(problem)
    return found


def _cycle(message: str) -> set[str]:
    """The components an ``include cycle a > b > a`` message names."""
    return set(message.removeprefix("include cycle ").split(" > "))
