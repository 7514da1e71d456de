"""Form fields to models: what each field accepts, and the message for what it does not."""

from __future__ import annotations

import gettext
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from content_engine.core.models import Conditions, Variant
from content_engine.web.ui.forms import (
    Form,
    ReaderDraft,
    VariantDraft,
    context_of,
    variant_of,
)
from content_engine.web.ui.templating import Translator

_ = Translator(gettext.NullTranslations())


def test_form_normalises_line_endings_and_takes_the_first_value() -> None:
    form = Form([("body", "a\r\nb\rc"), ("body", "second"), ("empty", "")])
    assert form.get("body") == "a\nb\nc"
    assert form.get("empty") == ""
    assert form.get("missing", "x") == "x"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, {"key": "en"}),
        ({"locale": "de_at"}, {"conditions": Conditions(locale="de-AT")}),
        ({"segments": "a, b  c"}, {"conditions": Conditions(segments=("a", "b", "c"))}),
        ({"roles": " ", "regions": "DACH"}, {"conditions": Conditions(regions=("DACH",))}),
        ({"priority": " -3 "}, {"priority": -3}),
        ({"priority": ""}, {"priority": 0}),
        ({"status": "review"}, {"status": "review"}),
        ({"valid_from": "2026-01-31"}, {"valid_from": datetime(2026, 1, 31, tzinfo=UTC)}),
        # A bare date for valid_until means the end of that day, as in library files.
        ({"valid_until": "2026-01-31"}, {"valid_until": datetime(2026, 2, 1, tzinfo=UTC)}),
        (
            {"valid_until": "2026-01-31T08:00:00Z"},
            {"valid_until": datetime(2026, 1, 31, 8, tzinfo=UTC)},
        ),
    ],
)
def test_variant_fields(fields: dict[str, str], expected: dict[str, object]) -> None:
    draft = VariantDraft(key="en", body="<p/>", **fields)
    variant, errors = variant_of(draft, _)
    assert errors == {}
    assert variant is not None
    for name, value in expected.items():
        assert getattr(variant, name) == value


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"key": ""}, "key"),
        ({"key": "has space"}, "key"),
        ({"locale": "en-!!"}, "locale"),
        ({"priority": "1.5"}, "priority"),
        ({"priority": "2000000"}, "priority"),
        ({"status": "deleted"}, "status"),
        ({"valid_from": "tomorrow"}, "valid_from"),
        ({"body": "nul \x00 inside"}, "body"),
    ],
)
def test_variant_field_errors(fields: dict[str, str], field: str) -> None:
    draft = VariantDraft(**{"key": "en", "body": "<p/>", **fields})
    variant, errors = variant_of(draft, _)
    assert variant is None
    assert set(errors) == {field}
    assert errors[field]


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ({}, {"valid_from": "", "valid_until": "", "status": "draft"}),
        (
            {"valid_from": "2026-01-01", "valid_until": "2026-03-31"},
            {"valid_from": "2026-01-01", "valid_until": "2026-03-31"},
        ),
        (
            {"valid_from": "2026-01-01T08:30:00Z", "status": "published"},
            {"valid_from": "2026-01-01T08:30:00Z", "status": "draft"},
        ),
    ],
)
def test_a_stored_variant_in_the_editor_reads_as_an_author_wrote_it(
    stored: dict[str, str], shown: dict[str, str]
) -> None:
    variant = Variant(key="en", body="<p/>", version=4, **stored)  # type: ignore[arg-type]
    draft = VariantDraft.of_variant(variant)
    assert draft.expected_version == "4"
    for name, value in shown.items():
        assert getattr(draft, name) == value
    again, errors = variant_of(draft, _)
    assert errors == {} and again is not None
    assert (again.valid_from, again.valid_until) == (variant.valid_from, variant.valid_until)


@pytest.mark.parametrize(("text", "expected"), [("", None), ("7", 7), (" 12 ", 12)])
def test_expected_version(text: str, expected: int | None) -> None:
    assert VariantDraft(expected_version=text).expected() == expected


@pytest.mark.parametrize("text", ["x", "-1", "²", "1.0"])
def test_expected_version_refuses_anything_but_digits(text: str) -> None:
    from content_engine.core.errors import InputError

    with pytest.raises(InputError):
        VariantDraft(expected_version=text).expected()


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"locale": "de_AT"}, {"locale": "de-AT"}),
        ({"locale": "en", "segments": "a,b"}, {"segments": ("a", "b")}),
        ({"locale": "en", "region": "at"}, {"region": "AT"}),
        ({"locale": "en", "customer": '{"employees": 300}'}, {"customer": {"employees": 300}}),
        ({"locale": "en", "at": "2026-11-23"}, {"at": datetime(2026, 11, 23, tzinfo=UTC)}),
    ],
)
def test_reader_fields(fields: dict[str, str], expected: dict[str, object]) -> None:
    context, errors = context_of(ReaderDraft(**fields), _)
    assert errors == {}
    assert context is not None
    for name, value in expected.items():
        assert getattr(context, name) == value


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({}, "locale"),
        ({"locale": "en", "customer": "{"}, "customer"),
        ({"locale": "en", "product": '"a string"'}, "product"),
        ({"locale": "en", "at": "later"}, "at"),
        ({"locale": "!!"}, "locale"),
    ],
)
def test_reader_field_errors(fields: dict[str, str], field: str) -> None:
    context, errors = context_of(ReaderDraft(**fields), _)
    assert context is None
    assert field in errors


def test_reader_query_keeps_only_filled_fields() -> None:
    draft = ReaderDraft(locale="de-AT", role="buyer", customer='{"a": 1}')
    assert draft.query() == "locale=de-AT&role=buyer&customer=%7B%22a%22%3A+1%7D"


class _Broken(gettext.NullTranslations):
    def gettext(self, message: str) -> str:
        return "Version {nummer}" if message == "Version {n}" else message


def test_a_translation_that_does_not_fit_falls_back_to_english_and_warns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    translate = Translator(_Broken())
    assert translate("Version {n}", n=3) == "Version 3"
    assert "does not fit" in caplog.text
    assert translate("Version {n}") == "Version {nummer}"  # nothing to fill in


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["customer", "product"]),
    st.one_of(
        st.text(alphabet='[]{}":,\\ 0123456789-eE.truefalsn', max_size=400),
        st.integers(min_value=1, max_value=4000).map(lambda n: "[" * n),
        st.integers(min_value=1, max_value=4000).map(lambda n: '{"a":' * n + "1" + "}" * n),
    ),
)
def test_any_json_field_is_a_value_or_a_field_error(name: str, text: str) -> None:
    """Whatever is typed into a JSON field: a context or an error on that field, no exception."""
    context, errors = context_of(ReaderDraft(locale="en", **{name: text}), _)
    assert (context is None) == bool(errors)
    if errors:
        assert set(errors) <= {name}
