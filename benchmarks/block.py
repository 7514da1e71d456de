"""Benchmark 1: one block in process, ``Engine.block`` against a bare Jinja2 render.

In: an engine on a library, a component id and a context. Out: the median time per block of
``engine.block(component, context)`` (warm: compiled bodies cached, library loaded) and of the
baseline, rendered side by side.

The baseline is exactly this: the winning variant's ``CompiledBody.template`` (from
``engine.compile``, so the very template object the engine renders), rendered by Jinja2's
``Template.render`` with the variables the engine passes (customer, product, context, locale,
gettext), where everything the engine decides per request is precomputed once:
- each inline condition's keep/drop answer (``__ce_keep(i)`` is a list lookup), and
- each include's finished HTML (``__ce_include(i)`` returns the included block's ``html``,
  itself assembled with its own includes by the engine beforehand).
So the ratio prices selection, condition evaluation, include assembly (the inner renders),
the sandbox's bookkeeping and building the ``Block``; the outer template render is on both
sides. The two outputs are compared: a baseline that renders different HTML is an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from benchmarks.measure import paired_medians
from content_engine import Context, Engine
from content_engine.core.locales import babel_locale
from content_engine.core.templates.compile import INCLUDE_FN, KEEP_FN
from content_engine.core.templates.formatting import LOCALE_VAR


def reader_context() -> Context:
    """The context every block benchmark uses (scale too: the same shape at every size)."""
    return Context(
        locale="de-AT",
        region="AT",
        role="technician",
        segments=("installer-partner",),
        customer={"name": "Anna Huber", "employees": 12},
        product={"price": 12990, "installed_on": "2024-05-02"},
    )


@dataclass
class BlockProbe:
    component: str
    variant: str
    includes: int  # include calls in the whole block, nested ones too
    html_bytes: int
    ours: float
    bare: float


def bare_render(engine: Engine, component_id: str, context: Context) -> Callable[[], str]:
    """A function rendering the baseline described in the module docstring."""
    library = engine.library()
    block = engine.block(component_id, context)
    component = library.components[component_id]
    compiled = engine.compile(component, component.variants[block.variant])
    reader = engine.reader(context)
    keeps = [reader.inline_keeps(c) for c in compiled.conditions]
    included = [Markup(engine.block(target, context).html) for target in compiled.includes]
    gettext = engine.catalogs.for_locale(context.locale).gettext
    variables: dict[str, Any] = {
        "customer": context.customer,
        "product": context.product,
        "context": context.model_dump(mode="json"),
        "at": context.at,
        "now": context.at,
        LOCALE_VAR: babel_locale(context.locale, library.settings.default_locale),
        "_": gettext,
        "gettext": gettext,
        KEEP_FN: keeps.__getitem__,
        INCLUDE_FN: included.__getitem__,
    }
    template = compiled.template

    def render() -> str:
        return str(template.render(variables))

    if render() != block.html:
        raise AssertionError(
            f"the bare render of {component_id}/{block.variant} differs from the engine's block"
        )
    return render


def probe(engine: Engine, component_id: str, context: Context, repeat: int) -> BlockProbe:
    bare = bare_render(engine, component_id, context)
    block = engine.block(component_id, context)
    ours, base = paired_medians(lambda: engine.block(component_id, context), bare, repeat=repeat)
    return BlockProbe(
        component=component_id,
        variant=block.variant,
        includes=len(block.used) - 1,
        html_bytes=len(block.html.encode()),
        ours=ours,
        bare=base,
    )


def pick_components(engine: Engine, context: Context, limit: int = 1000) -> tuple[str, str]:
    """The first component whose block for ``context`` includes snippets 3 deep, and the
    first that includes nothing (ids in order, so the same ones at every library size)."""
    deep = flat = None
    for cid in sorted(engine.library().components)[: limit + 64]:
        if not cid.startswith("c."):
            continue
        used = len(engine.block(cid, context).used)
        if deep is None and used >= 4:  # the component, an l2, an l1 and an l0 snippet
            deep = cid
        if flat is None and used == 1:
            flat = cid
        if deep and flat:
            return deep, flat
    raise RuntimeError("the synthetic library has no component with (or without) includes")
