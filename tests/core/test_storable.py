"""What the store cannot keep is refused at any depth: NUL, lone surrogates, NaN, deep nesting.

Checked against an oracle that asks the real encoders (``json.dumps(allow_nan=False)`` and
UTF-8), over hypothesis-generated nested JSON with bad text planted anywhere, keys included.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from content_engine.core.errors import InvalidContext, UnstorableText
from content_engine.core.models import Context, parse_context
from content_engine.core.storable import MAX_DEPTH, load_json, problem

BAD_CHARS = ["\x00", "\ud800", "\udfff", "\udc00", "\udbff"]
# Text hypothesis would not write by itself: its default alphabet leaves surrogates out.
TEXT = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ["", "Anna", "Ünïcödé", "\U0001f600", "\u2028", "a\\u0000b", "\t\r\n"]
)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | TEXT


def json_values(text: st.SearchStrategy[str] = TEXT) -> st.SearchStrategy[Any]:
    return st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | text,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
        max_leaves=30,
    )


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


def oracle_refuses(value: Any) -> bool:
    """What the real encoders and PostgreSQL make of it: independent of the code under test."""
    try:
        text = json.dumps(value, allow_nan=False, ensure_ascii=False)
        text.encode("utf-8")
    except (ValueError, UnicodeEncodeError):
        return True
    # A NUL in a value or a key: json.dumps writes it as the escape \u0000, which PostgreSQL
    # refuses (an escaped backslash before "u0000" is a text that merely looks like one).
    return re.search(r"(?<!\\)(?:\\\\)*\\u0000", text) is not None or depth(value) > MAX_DEPTH


@st.composite
def planted(draw: st.DrawFn) -> Any:
    """Nested JSON-like data with, maybe, one bad character in a value or a key somewhere."""
    value = draw(json_values())
    bad = draw(st.sampled_from(BAD_CHARS))
    where = draw(st.sampled_from(["nowhere", "value", "key", "wrap-key"]))
    if where == "nowhere":
        return value
    text = draw(TEXT)
    cut = draw(st.integers(0, len(text)))
    poisoned = text[:cut] + bad + text[cut:]
    wrappers = draw(st.integers(0, 10))
    inner: Any = poisoned if where == "value" else {poisoned: value}
    for _ in range(wrappers):
        inner = [inner] if draw(st.booleans()) else {"k": inner}
    return {"payload": inner} if where == "wrap-key" else [value, inner]


@settings(max_examples=500)
@given(planted())
def test_the_check_agrees_with_the_encoders(value: Any) -> None:
    assert (problem(value) is not None) == oracle_refuses(value)


@settings(max_examples=200)
@given(json_values())
def test_storable_json_loads_as_json_does(value: Any) -> None:
    text = json.dumps(value)
    if oracle_refuses(value):
        with pytest.raises(UnstorableText):
            load_json(text)
    else:
        assert json.dumps(load_json(text)) == text


def nested_text(levels: int, opener: str, leaf: str = '"x"') -> str:
    """JSON nested ``levels`` deep, built as text (``json.dumps`` would itself recurse)."""
    closer = {"[": "]", '{"a": ': "}"}[opener]
    return opener * levels + leaf + closer * levels


@settings(max_examples=60, deadline=None)
@given(
    levels=st.integers(MAX_DEPTH + 1, 200_000),
    opener=st.sampled_from(["[", '{"a": ']),
    closed=st.booleans(),
)
def test_any_nesting_past_the_limit_is_refused_never_a_recursion_error(
    levels: int, opener: str, closed: bool
) -> None:
    text = nested_text(levels, opener) if closed else opener * levels
    with pytest.raises((UnstorableText, json.JSONDecodeError)) as caught:
        load_json(text)
    if closed:
        assert caught.type is UnstorableText
        assert f"deeper than {MAX_DEPTH}" in str(caught.value)


def built(levels: int, leaf: Any) -> Any:
    """Python data ``levels`` deep, built without recursion (deeper than the interpreter's)."""
    value = leaf
    for i in range(levels):
        value = {"a": value} if i % 2 else [value]
    return value


@settings(max_examples=60, deadline=None)
@given(levels=st.integers(0, 100_000), bad=st.sampled_from([*BAD_CHARS, "fine"]))
def test_bad_text_at_any_depth_is_found(levels: int, bad: str) -> None:
    reason = problem(built(levels, f"x{bad}y"))
    if levels > MAX_DEPTH:
        assert reason is not None and "deeper than" in reason
    elif bad == "fine":
        assert reason is None
    else:
        assert reason is not None and ("NUL" in reason or "surrogate" in reason), reason


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ({"customer": {"name": "x\ud800y"}}, "surrogate (U+D800) (at customer.name)"),
        ({"customer": {"a\x00": 1}}, "NUL characters (at customer)"),
        ({"customer": {"list": [1, 2, {"deep": "\x00"}]}}, "(at customer.list.2.deep)"),
        ({"customer": {"x": math.nan}}, "nan is not a number"),
        ({"customer": {"x": -math.inf}}, "-inf is not a number"),
        ({"segments": ["a\udfff"]}, "surrogate (U+DFFF)"),
        ({"customer": built(70, "ok")}, "nested deeper than 64 levels"),
        ({"customer": {"\ud800" * 50: 1}}, "surrogate"),
    ],
)
def test_contexts_refuse_what_the_store_cannot_keep(data: dict[str, Any], said: str) -> None:
    with pytest.raises(ValidationError, match=r"text|number|nested") as caught:
        Context.model_validate({"locale": "de", **data})
    assert said in caught.value.errors()[0]["msg"]
    with pytest.raises(InvalidContext, match="invalid context"):
        parse_context({"locale": "de", **data})


def test_real_unicode_passes_through() -> None:
    customer = {"name": "Zoë Łukasz 山田 \U0001f600", "note": "\u2028 line", "n": 1.5}
    assert Context(locale="de", customer=customer).customer == customer
    assert load_json(json.dumps(customer)) == customer
    assert load_json(json.dumps(customer, ensure_ascii=False).encode()) == customer
    assert problem(built(MAX_DEPTH, "x")) is None


@pytest.mark.parametrize("text", ['{"a": NaN}', "[Infinity]", "-Infinity"])
def test_json_constants_json_has_not_are_refused(text: str) -> None:
    with pytest.raises(UnstorableText, match="not a number"):
        load_json(text)
