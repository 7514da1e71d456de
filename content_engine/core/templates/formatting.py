"""Locale-aware template filters: ``date``, ``datetime``, ``number``, ``decimal``, ``percent``,
``currency(code)``, formatted with Babel for the reader's locale.

Values from customer and product data arrive as JSON (strings and numbers); they are parsed
leniently, and a value that cannot be formatted is shown as it is with a warning.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from babel import Locale, dates, numbers
from jinja2 import pass_context
from jinja2.runtime import Context as JinjaContext

from content_engine.core.templates.notes import note_warning

if TYPE_CHECKING:
    from jinja2 import Environment

LOCALE_VAR = "__ce_locale"


def _locale(ctx: JinjaContext) -> Locale:
    value = ctx.get(LOCALE_VAR)
    return value if isinstance(value, Locale) else Locale.parse("en")


def _warn(message: str) -> None:
    note_warning(message)


def _as_datetime(value: Any) -> datetime | date | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except ValueError:
            return None
    return None


def _as_number(value: Any) -> int | float | Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return None
    return None


def _formatter(
    convert: Callable[[Any], Any], kind: str
) -> Callable[[Callable[..., str]], Callable[..., str]]:
    def wrap(fmt: Callable[..., str]) -> Callable[..., str]:
        name = fmt.__name__.removesuffix("_filter")

        @pass_context
        def jinja_filter(ctx: JinjaContext, value: Any, *args: Any, **kwargs: Any) -> str:
            converted = convert(value)
            if converted is None:
                if value is not None and str(value) != "":
                    _warn(f"{name}: {str(value)[:40]!r} is not a {kind}; shown as is")
                return "" if value is None else str(value)
            try:
                return fmt(converted, _locale(ctx), *args, **kwargs)
            except (ValueError, TypeError, KeyError, numbers.UnknownCurrencyFormatError) as exc:
                _warn(f"{name}: cannot format {str(value)[:40]!r}: {exc}")
                return str(value)

        jinja_filter.__name__ = name
        return jinja_filter

    return wrap


@_formatter(_as_datetime, "date")
def date_filter(value: date, locale: Locale, format: str = "medium") -> str:
    return dates.format_date(value, format=format, locale=locale)


@_formatter(_as_datetime, "date")
def datetime_filter(value: date, locale: Locale, format: str = "medium") -> str:
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    return dates.format_datetime(value, format=format, tzinfo=UTC, locale=locale)


@_formatter(_as_number, "number")
def number_filter(value: Any, locale: Locale) -> str:
    return numbers.format_decimal(value, locale=locale)


@_formatter(_as_number, "number")
def decimal_filter(value: Any, locale: Locale, format: str | None = None) -> str:
    return numbers.format_decimal(value, format=format, locale=locale)


@_formatter(_as_number, "number")
def percent_filter(value: Any, locale: Locale, format: str | None = None) -> str:
    return numbers.format_percent(value, format=format, locale=locale)


@_formatter(_as_number, "number")
def currency_filter(value: Any, locale: Locale, currency: str = "EUR") -> str:
    return numbers.format_currency(value, str(currency).upper(), locale=locale)


FILTERS: dict[str, Callable[..., str]] = {
    "date": date_filter,
    "datetime": datetime_filter,
    "number": number_filter,
    "decimal": decimal_filter,
    "percent": percent_filter,
    "currency": currency_filter,
}


def install(env: Environment) -> None:
    env.filters.update(FILTERS)
