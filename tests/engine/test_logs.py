"""Log lines: one line whatever the message holds, and a long one keeps its end."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from content_engine.engine.logs import MAX_TEXT, printable


@given(st.text(max_size=3 * MAX_TEXT))
def test_any_message_is_one_bounded_line(text: str) -> None:
    line = printable(text)
    assert "\n" not in line and "\r" not in line and "\x00" not in line
    assert len(line) <= 4 * (MAX_TEXT + 5)  # each kept character is at most \xNN


def test_a_long_traceback_keeps_its_last_line() -> None:
    trace = "Traceback (most recent call last):\n" + "  frame\n" * 5000 + "KeyError: 'revision'"
    line = printable(trace)
    assert line.startswith("Traceback") and line.endswith("KeyError: 'revision'")
    assert " ... " in line
