"""Filters format for the reader's locale with Babel (CONTRACT 4)."""

from __future__ import annotations

import html

import pytest
from babel.numbers import format_decimal

from content_engine.core.locales import babel_locale
from content_engine.core.templates.compile import compile_body
from content_engine.core.templates.formatting import LOCALE_VAR
from content_engine.core.templates.sandbox import BodySandbox

SANDBOX = BodySandbox()
AT = "2026-01-15T14:30:00Z"


def fmt(expr: str, locale: str, **data: object) -> tuple[str, list[str]]:
    compiled = compile_body("{{ " + expr + " }}", SANDBOX)
    variables = {LOCALE_VAR: babel_locale(locale), **data}
    return SANDBOX.run(compiled.template, variables, "t")


@pytest.mark.parametrize(
    ("expr", "locale", "expected"),
    [
        ("v|currency('EUR')", "de-DE", "1.234,50\u00a0€"),
        ("v|currency('EUR')", "de-AT", "€\u00a01.234,50"),
        ("v|currency('EUR')", "fr", "1\u202f234,50\u00a0€"),
        ("v|currency('USD')", "en-US", "$1,234.50"),
        ("v|number", "de-DE", "1.234,5"),
        ("v|number", "en-US", "1,234.5"),
        ("0.256|percent", "de-DE", "26\u00a0%"),
        ("0.256|percent", "en-US", "26%"),
        ("d|date", "de-DE", "15.01.2026"),
        ("d|date", "de-AT", "15.01.2026"),
        ("d|date('long')", "de-AT", "15. Jänner 2026"),
        ("d|date('long')", "de-DE", "15. Januar 2026"),
        ("d|date('long')", "fr", "15 janvier 2026"),
        ("d|date", "en-US", "Jan 15, 2026"),
        ("d|datetime('short')", "de-DE", "15.01.26, 14:30"),
        ("'2026-03-01'|date('long')", "en-US", "March 1, 2026"),
        ("'1234.5'|decimal", "fr", "1\u202f234,5"),
    ],
)
def test_filters_format_for_the_locale(expr: str, locale: str, expected: str) -> None:
    text, warnings = fmt(expr, locale, v=1234.5, d=AT)
    assert text == expected
    assert warnings == []


@pytest.mark.parametrize("locale", ["de-CH", "de-DE", "fr-CH", "en-IN", "ar-EG", "hi"])
def test_numbers_group_with_the_pinned_cldr_symbols(locale: str) -> None:
    """Grouping symbols change between CLDR releases (de-CH: ’ until CLDR 45, ' in 49): the
    expectation comes from the data of the CLDR the locked Babel carries, escaped as output."""
    group = babel_locale(locale).number_symbols["latn"]["group"]
    text, _ = fmt("v|number", locale, v=1234.5)
    assert html.unescape(text) == format_decimal(1234.5, locale=babel_locale(locale))
    assert html.unescape(text).startswith(f"1{group}234")
    assert "'" not in text  # an apostrophe group separator is escaped like any output


def test_unformattable_value_is_shown_as_is_with_a_warning() -> None:
    text, warnings = fmt("v|currency('EUR')", "de", v="call us")
    assert text == "call us"
    assert warnings == ["currency: 'call us' is not a number; shown as is"]
    text, warnings = fmt("v|date", "de", v="next Tuesday")
    assert (text, warnings) == ("next Tuesday", ["date: 'next Tuesday' is not a date; shown as is"])
