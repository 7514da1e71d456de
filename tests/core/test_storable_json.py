"""storable.load_json: JSON text is a value, a located ``JSONDecodeError`` or ``UnstorableText``
(too deep), however it is wrong, and in linear time."""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from content_engine.core.errors import UnstorableText
from content_engine.core.storable import MAX_DEPTH, problem
from content_engine.core.storable import load_json as loads

# Storable characters: NUL and lone surrogates are refused (tests/core/test_storable.py).
CHARS = st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00")
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(CHARS, max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(CHARS, max_size=4), inner),
    max_leaves=20,
)


def depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    return 0


@given(VALUES)
def test_json_within_the_depth_reads_as_json_loads_reads_it(value: Any) -> None:
    text = json.dumps(value)
    assert loads(text) == json.loads(text)


@given(st.integers(min_value=0, max_value=3 * MAX_DEPTH), st.sampled_from(["[", '{"k": ']))
def test_nesting_past_the_depth_is_a_located_error(levels: int, opening: str) -> None:
    closing = "]" if opening == "[" else "}"
    text = opening * levels + "0" + closing * levels
    if levels <= MAX_DEPTH:
        assert depth(loads(text)) == levels
        return
    with pytest.raises(UnstorableText, match="nested deeper than 64 levels"):
        loads(text)


@settings(max_examples=500)
@given(st.text(alphabet='[]{}"\\:,0123456789 ae\n', max_size=300))
@example("1e310")
def test_any_text_is_a_value_or_a_decode_error(text: str) -> None:
    try:
        loads(text)
    except json.JSONDecodeError as exc:
        where = (exc.lineno, exc.colno)
        assert min(where) >= 1, where
    except UnstorableText as exc:
        # Too deep, or a number past a double's range ("1e310" reads as infinity).
        reasons = ("nested deeper", "not a number JSON can hold")
        assert any(reason in exc.message for reason in reasons)  # noqa: PT017 (either outcome)
    # Brackets inside strings do not count: quoting any text never makes it too deep.
    assert loads(json.dumps(text)) == text


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000,
        '"' + '\\"' * 50_000 + "\\",  # an unterminated string of escaped quotes
        '"' * 100_000,
        "9" * 100_000,  # past Python's int conversion limit: a ValueError in json.loads
        '{"a": [' + '"[", ' * 20_000 + "]}",
    ],
    ids=["brackets", "escaped-quotes", "quotes", "long-number", "brackets-in-strings"],
)
def test_hostile_text_is_refused_or_read_in_linear_time(text: str) -> None:
    # Generous: linear is milliseconds here; a quadratic pass over 100 k characters is minutes.
    started = time.perf_counter()
    with contextlib.suppress(json.JSONDecodeError, UnstorableText):
        loads(text)
    assert time.perf_counter() - started < 5


def test_a_number_past_the_conversion_limit_is_a_located_error_not_a_value_error() -> None:
    """Python refuses to convert a 5,000-digit integer with a bare ``ValueError``."""
    with pytest.raises(json.JSONDecodeError, match="Exceeds the limit"):
        loads('{"n": ' + "9" * 5_000 + "}")
    with pytest.raises(json.JSONDecodeError, match="not UTF-8"):
        loads(b'{"n": "\xff"}')


# Any character, NUL and lone surrogates included, and floats past a double's range.
ANY_CHARS = st.characters(codec=None)
ANY_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)  # NaN and Infinity: refused as words
    | st.text(ANY_CHARS, max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(ANY_CHARS, max_size=3), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=150)
@given(ANY_VALUES, st.booleans(), st.sampled_from(["", "1e400", "-1e999"]))
@example({"a": "\x00"}, True, "")
@example({"a": "\ud800"}, False, "")
@example({"a": "\\u0000"}, True, "")
def test_the_text_check_refuses_exactly_what_the_walk_refuses(
    value: Any, ascii_only: bool, huge: str
) -> None:
    """``load_json`` skips the walk over the parsed value when the text cannot hold what the
    store refuses: it must refuse the same values, with the same message, as the walk."""
    text = json.dumps([value], ensure_ascii=ascii_only)
    if huge:
        text = f"[{huge}, {text[1:]}"
    try:
        parsed = json.loads(text)
    except ValueError:
        return
    expected = problem(parsed)
    raw = text.encode("utf-8", errors="surrogatepass")
    if expected is None:
        assert loads(raw) == parsed
    else:
        with pytest.raises(UnstorableText) as refused:
            loads(raw)
        assert str(refused.value) == expected
