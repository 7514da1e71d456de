"""What the body editor offers to complete, from the library as it is now.

In: the engine (its current library and body sandbox). Out: ``hints``, plain data for the
editor's completions: the component ids an ``<ce-include component="...">`` may name; the
values each ``data-*`` condition may take (the library's vocabulary: roles, regions, segments,
channels, and its locales); the names a placeholder can read (those the assembly offers every
body, with the fields of ``context`` and the fields other bodies read of ``customer`` and
``product``) and the filters the sandbox allows; and the elements and attributes the XHTML
subset keeps. Everything here is a completion, not a rule: the check (``bodycheck``) decides.
"""

from __future__ import annotations

import re
from typing import Any

from content_engine.core.conditions import INLINE_ATTRIBUTES
from content_engine.core.markup.sanitize import (
    ALLOWED_ELEMENTS,
    ELEMENT_ATTRIBUTES,
    GLOBAL_ATTRIBUTES,
)
from content_engine.core.models import Context, Library
from content_engine.core.table import heads_of
from content_engine.core.templates.formatting import FILTERS
from content_engine.engine import Engine

# What the assembly hands every body to read (``core.assembly``), with what each one is.
NAMES = {
    "customer": "the context's customer data",
    "product": "the context's product data",
    "context": "the whole context as data",
    "at": "the context's moment",
    "now": "the context's moment (same as at)",
    "_": "translate: _('text')",
    "gettext": "translate: gettext('text')",
    "ngettext": "ngettext(singular, plural, n)",
}
# Filters the sandbox installs for its own escaping: a body has no use for them.
INTERNAL_FILTERS = frozenset({"ce_attr", "ce_safe_url", "safe"})
# A library of tens of thousands of components still gets a page of bounded size.
MAX_COMPONENTS = 20_000
MAX_FIELDS = 500
_FIELD = re.compile(r"\b(customer|product)\.([A-Za-z_][A-Za-z0-9_]*)")


def _fields(library: Library) -> dict[str, list[str]]:
    """The fields of ``customer`` and ``product`` that bodies and segment rules read."""
    found: dict[str, set[str]] = {"customer": set(), "product": set()}
    texts = [v.body for c in library.components.values() for v in c.variants.values()]
    texts += [rule.model_dump_json() for rule in library.settings.segment_rules]
    for text in texts:
        for name, field in _FIELD.findall(text):
            found[name].add(field)
    return {name: sorted(fields)[:MAX_FIELDS] for name, fields in found.items()}


def _elements() -> list[dict[str, Any]]:
    common = sorted(GLOBAL_ATTRIBUTES | set(INLINE_ATTRIBUTES))
    return [
        {"name": name, "attributes": sorted(ELEMENT_ATTRIBUTES.get(name, frozenset())) + common}
        for name in sorted(ALLOWED_ELEMENTS)
    ]


def hints(engine: Engine) -> dict[str, Any]:
    """The completions for a body of the current library (see the module's docstring)."""
    library = engine.library()
    known = engine.known_values()
    dimensions = {"segments": "segment", "role": "role", "region": "region", "channel": "channel"}
    values = {
        attribute: list(library.settings.locales)
        if dimension == "locale"
        else list(known[dimensions[dimension]])
        for attribute, dimension in INLINE_ATTRIBUTES.items()
    }
    components = sorted(heads_of(library.components), key=lambda c: c.id)[:MAX_COMPONENTS]
    filters = sorted(set(engine.sandbox.filters) - INTERNAL_FILTERS)
    return {
        "components": [{"id": c.id, "title": c.title, "type": c.type} for c in components],
        "conditions": values,
        "names": [{"name": n, "detail": d} for n, d in NAMES.items()],
        "fields": {"context": sorted(Context.model_fields), **engine.derived(_fields)},
        "filters": [{"name": f, "locale": f in FILTERS} for f in filters],
        "elements": _elements(),
    }
