"""A budget and its parts: a render draws on its request, and names the limit that binds."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from content_engine.core.budget import Budget, BudgetSpent


def request(seconds: float = 10.0, chars: int = 1000, largest: int = 500) -> Budget:
    return Budget("request", seconds=seconds, chars=chars, largest=largest)


def test_a_part_holds_no_more_than_its_whole_has_left() -> None:
    whole = request(chars=1000)
    whole.spend(400, "earlier blocks")
    whole.spend(300, "more blocks")
    part = Budget("render", seconds=10.0, chars=5000, largest=5000, parent=whole)
    assert part.chars == 300
    assert part.largest == 500
    with pytest.raises(BudgetSpent, match="request's size budget") as caught:
        part.spend(301, "text")
    assert caught.value.limit == "request"


def test_a_part_ends_at_its_wholes_deadline_at_the_latest() -> None:
    whole = request(seconds=0.0)
    part = Budget("render", seconds=60.0, chars=10, largest=10, parent=whole)
    time.sleep(0.01)
    with pytest.raises(BudgetSpent, match="request's time limit") as caught:
        part.check_clock()
    assert caught.value.limit == "request"


def test_the_part_names_its_own_limit_when_it_binds_first() -> None:
    whole = request(seconds=60.0, chars=1000)
    part = Budget("render", seconds=0.0, chars=10, largest=10, parent=whole)
    time.sleep(0.01)
    with pytest.raises(BudgetSpent, match="render's time limit"):
        part.check_clock()
    part.spend(8, "a")
    with pytest.raises(BudgetSpent, match="render's size budget"):
        part.spend(8, "b")


def test_one_value_over_the_largest_is_refused_whatever_is_left() -> None:
    with pytest.raises(BudgetSpent, match="over the size limit of 500 for one value"):
        request(chars=10**9).spend(501, "ljust()")


@given(spends=st.lists(st.integers(min_value=0, max_value=300), max_size=20))
def test_what_the_parts_spent_is_charged_to_the_whole(spends: list[int]) -> None:
    whole = request(chars=1000, largest=300)
    spent = 0
    for size in spends:
        part = Budget("render", seconds=10.0, chars=400, largest=300, parent=whole)
        try:
            part.spend(size, "text")
            spent += size
        except BudgetSpent:
            spent += size  # the refused charge counts too: nothing more may start
        finally:
            part.close()
        assert whole.chars == 1000 - spent
        if whole.chars <= 0:
            with pytest.raises(BudgetSpent):
                Budget("render", seconds=1, chars=1, largest=1, parent=whole).check_left()
            break
