"""The per-customer benchmark's baseline: a hand-written FastAPI route for one customer's block.

In: ``CE_BENCH_CUSTOMER_BODY`` (a file holding the component's body, the very text the engine
renders) and ``CE_BENCH_LOCALES`` (the engine's ``locales/`` folder, for ``_('Model')``). Out:
``POST /v1/blocks`` taking the same JSON as ours (components and a context with the customer
and product), parsed with pydantic, the body rendered with Jinja2 (autoescaping, compiled once)
and Babel (``date`` and ``currency`` filters, ``Locale`` objects parsed once per locale, the
gettext catalog of the locale), answered as the same JSON list. What a developer would write
for this one block, as fast as they would reasonably make it: ``async def``, no thread pool.

It does none of what the engine does besides: no key check, no variant selection, no inline
conditions (the ``data-region`` cells all stay), no size or time budgets, no sandbox.
"""

from __future__ import annotations

import gettext
import io
import os
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from fastapi import FastAPI
from jinja2 import Environment, pass_context
from jinja2.runtime import Context as JinjaContext
from pydantic import BaseModel, Field

BODY = Path(os.environ["CE_BENCH_CUSTOMER_BODY"]).read_text(encoding="utf-8")
LOCALES = Path(os.environ["CE_BENCH_LOCALES"])


class ContextIn(BaseModel):
    locale: str
    region: str | None = None
    role: str | None = None
    segments: list[str] = Field(default_factory=list)
    customer: dict[str, Any] = Field(default_factory=dict)
    product: dict[str, Any] = Field(default_factory=dict)


class BlocksIn(BaseModel):
    context: ContextIn
    components: list[str] = Field(min_length=1, max_length=200)


class BlockOut(BaseModel):
    component: str
    variant: str
    version: int
    locale: str
    html: str
    warnings: list[str]


@lru_cache(maxsize=64)
def babel_locale(tag: str) -> Locale:
    return Locale.parse(tag.replace("-", "_"))


@lru_cache(maxsize=64)
def translations(tag: str) -> gettext.NullTranslations:
    path = LOCALES / tag.split("-")[0] / "LC_MESSAGES" / "messages.po"
    if not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as fh:
        catalog = read_po(fh)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@pass_context
def date_filter(ctx: JinjaContext, value: Any) -> str:
    return dates.format_date(date.fromisoformat(str(value)), locale=ctx["locale"])


@pass_context
def currency_filter(ctx: JinjaContext, value: Any, code: str) -> str:
    return numbers.format_currency(value, code, locale=ctx["locale"])


environment = Environment(autoescape=True)
environment.filters["date"] = date_filter
environment.filters["currency"] = currency_filter
template = environment.from_string(BODY)

app = FastAPI()


@app.post("/v1/blocks", response_model=list[BlockOut])
async def blocks(body: BlocksIn) -> list[BlockOut]:
    ctx = body.context
    html = template.render(
        customer=ctx.customer,
        product=ctx.product,
        locale=babel_locale(ctx.locale),
        _=translations(ctx.locale).gettext,
    )
    return [
        BlockOut(
            component=c, variant="default", version=1, locale=ctx.locale, html=html, warnings=[]
        )
        for c in body.components
    ]
