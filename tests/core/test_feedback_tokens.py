"""Feedback tokens (CONTRACT 9): signed, bound to what was shown, valid 90 days, hostile input."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from content_engine.core.errors import FeedbackRefused, InvalidToken
from content_engine.core.feedback import (
    MAX_COMMENT,
    FeedbackKey,
    check_answer,
    read_token,
    token_for_block,
)
from content_engine.core.models import Block, Context, FeedbackScales, Library
from content_engine.core.reader import make_reader

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
KEY = FeedbackKey("k1", b"s" * 32, NOW)
OTHER = FeedbackKey("k1", b"t" * 32, NOW)  # the same id, another secret: another deployment
BLOCK = Block(component="promo.x", variant="a", version=3, locale="en", html="<p>A</p>")
READER = make_reader(Context(locale="en", role="buyer", reader_id="r-1"), Library().settings)


def _token() -> str:
    return token_for_block(KEY, BLOCK, READER, NOW)


def test_a_token_names_what_was_shown_and_to_whom_only_by_pseudonym() -> None:
    shown = read_token(_token(), {"k1": KEY}, NOW)
    assert (shown.kind, shown.component, shown.variant, shown.version) == (
        "block",
        "promo.x",
        "a",
        3,
    )
    assert shown.role == "buyer" and shown.locale == "en"
    assert shown.reader is not None and "r-1" not in _token()


def test_the_same_block_reader_and_day_give_the_same_token() -> None:
    assert _token() == token_for_block(KEY, BLOCK, READER, NOW + timedelta(hours=5))
    other = make_reader(Context(locale="en", role="buyer", reader_id="r-2"), Library().settings)
    assert _token() != token_for_block(KEY, BLOCK, other, NOW)


def test_a_token_from_another_key_is_refused() -> None:
    with pytest.raises(InvalidToken):
        read_token(token_for_block(OTHER, BLOCK, READER, NOW), {"k1": KEY}, NOW)
    with pytest.raises(InvalidToken):
        read_token(_token(), {"k2": KEY}, NOW)


def _altered(token: str, **changes: object) -> str:
    prefix, kid, payload, mac = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data.update(changes)
    raw = json.dumps(data, separators=(",", ":")).encode()
    return ".".join([prefix, kid, base64.urlsafe_b64encode(raw).rstrip(b"=").decode(), mac])


@pytest.mark.parametrize(
    "changes",
    [{"c": "legal.warranty"}, {"v": "b"}, {"n": 4}, {"a": "b"}, {"i": 2_000_000_000}],
)
def test_an_altered_token_is_refused(changes: dict[str, object]) -> None:
    # Replaying a token on another component (or variant, version, arm, date) means altering it.
    with pytest.raises(InvalidToken):
        read_token(_altered(_token(), **changes), {"k1": KEY}, NOW)


def test_a_token_expires_after_90_days() -> None:
    token = _token()
    assert read_token(token, {"k1": KEY}, NOW + timedelta(days=89))
    with pytest.raises(FeedbackRefused) as refused:
        read_token(token, {"k1": KEY}, NOW + timedelta(days=90))
    assert refused.value.code == "expired_feedback_token"


@given(st.text(max_size=500))
@settings(max_examples=60)
def test_any_text_is_refused_as_invalid_never_anything_else(text: str) -> None:
    with pytest.raises(InvalidToken):
        read_token(text, {"k1": KEY}, NOW)


@given(st.integers(0, 400))
@settings(max_examples=40)
def test_a_flipped_byte_anywhere_is_refused(position: int) -> None:
    token = _token()
    index = position % len(token)
    swapped = "A" if token[index] != "A" else "B"
    with pytest.raises(InvalidToken):
        read_token(token[:index] + swapped + token[index + 1 :], {"k1": KEY}, NOW)


@pytest.mark.parametrize(
    ("metric", "score", "comment", "code"),
    [
        ("nps", 11, None, "score_out_of_range"),
        ("nps", -1, None, "score_out_of_range"),
        ("csat", 0, None, "score_out_of_range"),
        ("ces", 8, None, "score_out_of_range"),
        ("mood", 3, None, "invalid_feedback"),
        ("csat", 3, "x" * 1_000_000, "comment_too_long"),
    ],
)
def test_answers_off_the_scale_or_too_long_are_refused(
    metric: str, score: int, comment: str | None, code: str
) -> None:
    with pytest.raises(FeedbackRefused) as refused:
        check_answer(metric, score, comment, FeedbackScales())
    assert refused.value.code == code


def test_the_library_sets_the_scales() -> None:
    scales = FeedbackScales(csat=(1, 10), ces=(1, 5))
    check_answer("csat", 10, "x" * MAX_COMMENT, scales)
    with pytest.raises(FeedbackRefused):
        check_answer("ces", 6, None, scales)
