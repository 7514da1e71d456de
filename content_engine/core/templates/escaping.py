"""The filters that keep a body's output escaped, and which filters may see ``Markup`` whole.

In: values a body prints into attributes or passes to ``|safe``. Out: escaped ``Markup``.
``Markup`` (a captured piece of the body's own markup, a macro's output, ``|tojson``) can be
printed or joined whole but never cut, replaced or reformatted: every other filter, method,
slice or ``%`` gets its plain text (``plain``), which is then escaped. Otherwise
``{% filter replace('b', 'script') %}<b>...`` would rebuild markup the sanitizer took out.
Attribute values with placeholders go through ``ce_attr`` / ``ce_safe_url`` (see ``compile``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from markupsafe import Markup, escape

from content_engine.core.markup.sanitize import url_problem
from content_engine.core.templates.notes import note_warning


def plain(value: Any) -> Any:
    """A ``Markup`` as its plain text (escaped again when printed); anything else as it is."""
    return str(value) if isinstance(value, Markup) else value


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
