"""Forms in, models out: the workbench's form posts and preview queries, checked field by field.

In: an ``application/x-www-form-urlencoded`` body, or the query of a preview. Out: a
``Variant`` or a ``Context``, or a message for each wrong field in the visitor's language; the
text as typed is kept (``VariantDraft``, ``ReaderDraft``, ``ConsoleDraft``) so the page can
show it again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Annotated, Any, cast
from urllib.parse import parse_qsl, urlencode

from fastapi import Depends, Query, Request
from pydantic import ValidationError

from content_engine.core.errors import InputError, InvalidContext, UnstorableText
from content_engine.core.instants import format_instant, parse_instant
from content_engine.core.locales import normalize_tag
from content_engine.core.lookups import MAX_KEY_CHARS, check_lookup
from content_engine.core.models import (
    MAX_LOOKUP_KEYS,
    STATUSES,
    Conditions,
    Context,
    Library,
    Status,
    TranslatedFrom,
    Variant,
)
from content_engine.core.names import name_problem
from content_engine.core.storable import check, load_json
from content_engine.web.headers import headers_of
from content_engine.web.ui.session import CSRF_FIELD, VisitorDep
from content_engine.web.ui.templating import Translator

MAX_FIELDS = 100
MAX_JSON = 20_000
PRIORITY_RANGE = 1_000_000
_LISTS = ("segments", "roles", "regions", "channels")


class Form:
    """The fields of a posted form; newlines as ``\\n`` whatever the browser sent."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._first: dict[str, str] = {}
        for k, v in pairs:  # a field sent twice: its first value, as a browser's form has one
            self._first.setdefault(k, v.replace("\r\n", "\n").replace("\r", "\n"))

    def get(self, name: str, default: str = "") -> str:
        return self._first.get(name, default)

    def has(self, name: str) -> bool:
        return name in self._first

    def fields_of(self, draft: type[Any], *, strip: bool = False) -> dict[str, str]:
        """The text of each field of the ``draft`` dataclass as sent, its default when absent:
        every workbench form reads its draft this one way."""
        values = {f.name: self.get(f.name, cast(str, f.default)) for f in fields(draft)}
        return {k: v.strip() for k, v in values.items()} if strip else values


async def read_form(request: Request, max_fields: int = MAX_FIELDS) -> Form:
    media = (headers_of(request.scope).content_type or "").partition(";")[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        raise InputError("a form must be sent as application/x-www-form-urlencoded")
    body = await request.body()
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=max_fields, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise InputError("the form could not be read (not UTF-8, or too many fields)") from None
    return Form(pairs)


def checked_form_of(max_fields: int) -> Callable[..., Coroutine[Any, Any, Form]]:
    """A dependency: the posted form (at most ``max_fields`` fields), once its CSRF token
    proved it came from one of our pages."""

    async def checked(request: Request, visitor: VisitorDep) -> Form:
        form = await read_form(request, max_fields)
        visitor.check_csrf(form.get(CSRF_FIELD) or None)
        return form

    return checked


checked_form = checked_form_of(MAX_FIELDS)
CheckedForm = Annotated[Form, Depends(checked_form)]


def words(text: str) -> tuple[str, ...]:
    return tuple(text.replace(",", " ").split())


# --- variants ------------------------------------------------------------------------------


@dataclass
class VariantDraft:
    """The variant editor's fields as typed (all text)."""

    key: str = ""
    body: str = ""
    locale: str = ""
    segments: str = ""
    roles: str = ""
    regions: str = ""
    channels: str = ""
    priority: str = "0"
    status: str = "draft"
    valid_from: str = ""
    valid_until: str = ""
    # The version the edit is based on; empty when creating a variant.
    expected_version: str = ""
    # The variant this one is a translation of, as ``KEY@VERSION`` (CONTRACT 10); kept on edit.
    translated_from: str = ""

    @classmethod
    def of_variant(cls, variant: Variant) -> VariantDraft:
        """A stored variant in the editor; saving it again makes a draft unless changed."""
        cond = variant.conditions
        return cls(
            key=variant.key,
            body=variant.body,
            locale=cond.locale or "",
            **{d: " ".join(getattr(cond, d) or ()) for d in _LISTS},
            priority=str(variant.priority),
            status="draft",
            valid_from=_instant(variant.valid_from, end_of_day=False),
            valid_until=_instant(variant.valid_until, end_of_day=True),
            expected_version=str(variant.version),
            translated_from=source_text(variant.translated_from),
        )

    @classmethod
    def of_form(cls, form: Form, **fixed: str) -> VariantDraft:
        return cls(**{**form.fields_of(cls), **fixed})

    def expected(self) -> int | None:
        text = self.expected_version.strip()
        if not text:
            return None
        if not (text.isascii() and text.isdigit()):
            raise InputError(f"expected_version must be a version number, not {text!r}")
        return int(text)

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def _instant(value: datetime | None, *, end_of_day: bool) -> str:
    """As an author writes it in a file (``instants.format_instant``), as text."""
    return "" if value is None else str(format_instant(value, end_of_day=end_of_day))


def variant_of(draft: VariantDraft, _: Translator) -> tuple[Variant | None, dict[str, str]]:
    """The ``Variant`` the fields describe, or what is wrong with each field."""
    errors: dict[str, str] = {}
    if name_problem("variant key", draft.key):
        errors["key"] = _(
            "A key is letters, digits, '.', '-' or '_', starting with a letter or digit."
        )
    locale = None
    if draft.locale.strip():
        try:
            locale = normalize_tag(draft.locale.strip())
        except InvalidContext as exc:
            errors["locale"] = exc.message
    priority = 0
    try:
        priority = int(draft.priority.strip() or "0")
        if abs(priority) > PRIORITY_RANGE:
            raise ValueError
    except ValueError:
        errors["priority"] = _(
            "The priority is a whole number between -{limit} and {limit}.", limit=PRIORITY_RANGE
        )
    if draft.status not in STATUSES:
        errors["status"] = _("Choose one of the statuses.")
    instants = {}
    for name, end_of_day in (("valid_from", False), ("valid_until", True)):
        try:
            instants[name] = parse_instant(getattr(draft, name), end_of_day=end_of_day)
        except ValueError:
            errors[name] = _("A date (2026-01-31) or a time (2026-01-31T08:00:00Z), or empty.")
    translated_from = None
    if draft.translated_from.strip():
        translated_from = source_of(draft.translated_from.strip())
        if translated_from is None:
            errors["body"] = _("The variant this one was translated from is not a KEY@VERSION.")
    if errors:
        return None, errors
    try:
        conditions = Conditions(
            locale=locale, **{d: words(getattr(draft, d)) or None for d in _LISTS}
        )
        variant = Variant(
            key=draft.key,
            conditions=conditions,
            priority=priority,
            status=cast(Status, draft.status),  # checked against STATUSES above
            body=draft.body,
            translated_from=translated_from,
            **instants,
        )
    except ValidationError as exc:
        return None, field_errors(exc, "body")
    return variant, {}


def source_text(source: TranslatedFrom | None) -> str:
    """``translated_from`` as the form carries it: ``KEY@VERSION``, or empty."""
    return "" if source is None else f"{source.variant}@{source.version}"


def source_of(text: str) -> TranslatedFrom | None:
    """``KEY@VERSION`` back to a ``TranslatedFrom``; ``None`` for anything else."""
    key, at, version = text.rpartition("@")
    if not at or not (version.isascii() and version.isdigit()) or len(version) > 9:
        return None
    try:
        return TranslatedFrom(variant=key, version=int(version))
    except ValidationError:
        return None


def field_errors(exc: ValidationError, fallback: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors():
        loc = [str(p) for p in error["loc"]]
        name = next((p for p in reversed(loc) if not p.isdigit()), fallback)
        message = str(error["msg"]).removeprefix("Value error, ")
        errors.setdefault(name, message)
    return errors


# --- readers -------------------------------------------------------------------------------

Text = Annotated[str, Query(max_length=200)]
JsonText = Annotated[str, Query(max_length=MAX_JSON)]


@dataclass
class ReaderDraft:
    """The preview form's fields as typed: who is reading, where and when."""

    locale: str = ""
    segments: str = ""
    role: str = ""
    region: str = ""
    channel: str = ""
    customer: str = ""
    product: str = ""
    at: str = ""
    # Keys for the data sources, one ``name=value`` a line (``serial=HP200-0042``).
    lookup: str = ""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    def query(self) -> str:
        """The filled fields as a query string (for the PDF link of the same reader)."""
        return urlencode({k: v for k, v in asdict(self).items() if v})


def reader_query(
    locale: Text = "",
    segments: Text = "",
    role: Text = "",
    region: Text = "",
    channel: Text = "",
    customer: JsonText = "",
    product: JsonText = "",
    at: Text = "",
    lookup: JsonText = "",
) -> ReaderDraft:
    return ReaderDraft(locale, segments, role, region, channel, customer, product, at, lookup)


ReaderQuery = Annotated[ReaderDraft, Depends(reader_query)]


def context_of(
    draft: ReaderDraft, _: Translator, lookup: dict[str, str] | None = None
) -> tuple[Context | None, dict[str, str]]:
    """The ``Context`` of the preview form, or what is wrong with each field; ``lookup``
    stands for the form's lookup lines (the console has a field of its own)."""
    errors: dict[str, str] = {}
    data: dict[str, Any] = {"locale": draft.locale.strip()}
    if not data["locale"]:
        errors["locale"] = _("A locale is needed, such as en, de or de-AT.")
    if words(draft.segments):
        data["segments"] = words(draft.segments)
    for name in ("role", "region", "channel"):
        value = getattr(draft, name).strip()
        if value:
            data[name] = value
    if draft.at.strip():
        try:
            data["at"] = parse_instant(draft.at.strip())
        except ValueError:
            errors["at"] = _("A date (2026-01-31) or a time (2026-01-31T08:00:00Z), or empty.")
    for name in ("customer", "product"):
        text = getattr(draft, name).strip()
        if not text:
            continue
        try:
            # Checked as it will sit in the context, one level down: the context's own check
            # would otherwise blame the whole form for a field nested one level too deep.
            value = check({name: load_json(text)})[name]
        except UnstorableText as exc:
            errors[name] = exc.message
            continue
        except json.JSONDecodeError as exc:
            errors[name] = _(
                "Not valid JSON (line {line}, column {column}): {message}",
                line=exc.lineno,
                column=exc.colno,
                message=exc.msg,
            )
            continue
        if not isinstance(value, dict):
            errors[name] = _(
                "A JSON object is needed, such as {example}.", example='{"name": "Anna"}'
            )
            continue
        data[name] = value
    try:
        found = lookup_pairs(draft.lookup, _) if lookup is None else lookup
        if found:
            data["lookup"] = check_lookup(found)
    except (InputError, InvalidContext) as exc:
        errors["lookup"] = exc.message
    if errors:
        return None, errors
    try:
        return Context.model_validate(data), {}
    except ValidationError as exc:
        return None, field_errors(exc, "locale")


def lookup_pairs(text: str, _: Translator) -> dict[str, str]:
    """The lookup lines (``serial=HP200-0042``, one a line, blank lines left out) as a mapping;
    an ``InputError`` in the visitor's language for a line that is no pair or a name twice.
    The values are checked by ``check_lookup`` as every edge checks them."""
    pairs: dict[str, str] = {}
    for line in text.split("\n"):
        if not line.strip():
            continue
        name, eq, value = line.partition("=")
        name, value = name.strip(), value.strip()
        if not eq or not name:
            raise InputError(_("One name=value a line, such as serial=HP200-0042."))
        if name in pairs:
            raise InputError(_("The lookup key {name} is given twice.", name=name[:64]))
        if len(pairs) == MAX_LOOKUP_KEYS:
            raise InputError(_("At most {n} lookup keys.", n=MAX_LOOKUP_KEYS))
        pairs[name] = value
    return pairs


# --- the agent's console -------------------------------------------------------------------

# The library's role for service staff, if it has one: the console's default reader role.
SERVICE_ROLES = ("service-agent", "agent")
DEFAULT_PUBLICATION = "service.sheet"


@dataclass
class ConsoleDraft:
    """The console's fields as typed: which publication, whose data, in which language."""

    publication: str = ""
    key: str = ""
    value: str = ""
    locale: str = ""
    role: str = ""

    @classmethod
    def of_form(cls, form: Form) -> ConsoleDraft:
        return cls(**form.fields_of(cls))

    @classmethod
    def default(cls, library: Library, keys: tuple[str, ...]) -> ConsoleDraft:
        """A new console: the service sheet (or the first publication), the first key."""
        publications = sorted(library.publications)
        publication = DEFAULT_PUBLICATION if DEFAULT_PUBLICATION in publications else ""
        roles = library.settings.roles
        return cls(
            publication=publication or next(iter(publications), ""),
            key=next(iter(keys), ""),
            locale=library.settings.default_locale,
            role=next((r for r in SERVICE_ROLES if r in roles), ""),
        )

    def shown(self) -> ConsoleDraft:
        """The fields as the page may show them again: no control characters, and no
        more of a value than a lookup key can hold (a 10 kB paste is not echoed whole)."""

        def clean(text: str, limit: int) -> str:
            return "".join(c for c in text if c >= " " and c != "\x7f")[:limit]

        return ConsoleDraft(
            **{f.name: clean(getattr(self, f.name), MAX_KEY_CHARS) for f in fields(self)}
        )


def console_context(
    draft: ConsoleDraft, library: Library, keys: tuple[str, ...], _: Translator
) -> tuple[Context | None, dict[str, str]]:
    """The ``Context`` the console asks with (live content, the one lookup key), or what is
    wrong with each field."""
    errors: dict[str, str] = {}
    if draft.publication not in library.publications:
        errors["publication"] = _("Choose one of the publications.")
    if draft.key not in keys:
        errors["key"] = _("Choose one of the lookup keys.")
    if draft.role and draft.role not in library.settings.roles:
        errors["role"] = _("Choose one of the roles, or none.")
    value = draft.value.strip()
    if not value:
        errors["value"] = _("Type the {key} to look up.", key=draft.key[:64] or "value")
    reader = ReaderDraft(locale=draft.locale, role=draft.role)
    lookup = {draft.key: value} if value and "key" not in errors else {}
    context, reader_errors = context_of(reader, _, lookup)
    if "lookup" in reader_errors:
        errors.setdefault("value", reader_errors.pop("lookup"))
    errors.update(reader_errors)
    return (None, errors) if errors else (context, {})
