"""Experiments (CONTRACT 9): arms drawn by reader id, weights honoured, lint of untied arms."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from content_engine.core.experiments import draw
from content_engine.core.lint import ambiguity_problems
from content_engine.core.models import Arm, Component, Context, Library, Variant
from content_engine.core.reader import make_reader
from content_engine.core.selection import choose, explain

ARMS_80_20 = (Arm(key="a", weight=4), Arm(key="b", weight=1))


def _component(*variants: Variant) -> Component:
    return Component(id="promo.x", type="promotion", variants={v.key: v for v in variants})


def _reader(**context: object) -> object:
    return make_reader(Context.model_validate({"locale": "en", **context}), Library().settings)


def test_weights_80_20_give_shares_within_one_percent_over_20000_readers() -> None:
    drawn = [draw("exp", f"reader-{n}", ARMS_80_20) for n in range(20_000)]
    share = drawn.count("a") / len(drawn)
    assert abs(share - 0.8) < 0.01, share


def test_equal_weights_split_evenly_and_each_experiment_draws_on_its_own() -> None:
    arms = (Arm(key="a", weight=1), Arm(key="b", weight=1))
    one = [draw("one", str(n), arms) for n in range(4_000)]
    other = [draw("other", str(n), arms) for n in range(4_000)]
    assert abs(one.count("a") / 4_000 - 0.5) < 0.03
    # Another experiment id gives an independent draw, not the same split again.
    same = sum(x == y for x, y in zip(one, other, strict=True)) / 4_000
    assert abs(same - 0.5) < 0.04


@given(st.text(min_size=1, max_size=50))
@settings(max_examples=20)
def test_the_draw_is_a_pure_function_of_experiment_and_reader(reader_id: str) -> None:
    assert draw("exp", reader_id, ARMS_80_20) == draw("exp", reader_id, ARMS_80_20)
    assert draw("exp", reader_id, ARMS_80_20) in {"a", "b"}


ARM_A = Variant(key="a", experiment="cta", weight=1, body="<p>A</p>")
ARM_B = Variant(key="b", experiment="cta", weight=1, body="<p>B</p>")


@pytest.mark.parametrize(
    ("context", "by"),
    [
        ({"reader_id": "r-1"}, "reader_id"),
        ({"customer": {"id": 42}}, "customer.id"),
        ({"reader_id": "r-1", "customer": {"id": 42}}, "reader_id"),
    ],
)
def test_the_arm_is_drawn_by_reader_id_else_customer_id(context: dict, by: str) -> None:
    component = _component(ARM_A, ARM_B)
    reader = _reader(**context)
    variant, assignment = choose(component.id, component.variants.values(), reader)
    assert assignment is not None and assignment.by == by
    assert variant is not None and variant.key == assignment.arm
    reader_id = context.get("reader_id") or str(context["customer"]["id"])  # type: ignore[index]
    assert assignment.arm == draw("cta", str(reader_id), assignment.arms)


def test_without_a_reader_id_the_first_arm_and_a_warning() -> None:
    component = _component(ARM_B, ARM_A)
    selection = explain(component, _reader())
    assert selection.winner == "a"
    assert selection.experiment is not None and selection.experiment.by == "none"
    assert selection.ambiguous == []  # arms tie by design
    assert any("no reader_id nor customer.id" in w for w in selection.warnings)


def test_only_tied_arms_are_drawn_between() -> None:
    # b states a role: for a technician it is more specific and wins alone, no draw.
    specific = ARM_B.model_copy(
        update={"conditions": ARM_B.conditions.model_copy(update={"roles": ("technician",)})}
    )
    component = _component(ARM_A, specific)
    variant, assignment = choose(
        component.id, component.variants.values(), _reader(role="technician", reader_id="x")
    )
    assert variant is not None and variant.key == "b"
    assert assignment is not None and [a.key for a in assignment.arms] == ["b"]


def test_lint_reports_untied_arms_and_not_tied_ones() -> None:
    tied = Library(components={"promo.x": _component(ARM_A, ARM_B)})
    assert ambiguity_problems(tied, tied.components["promo.x"]) == []
    louder = ARM_B.model_copy(update={"priority": 5})
    untied = Library(components={"promo.x": _component(ARM_A, louder)})
    problems = ambiguity_problems(untied, untied.components["promo.x"])
    assert [p.code for p in problems] == ["experiment_untied"]
    assert "a do not tie" in problems[0].message


def test_an_experiment_arm_tied_with_a_plain_variant_is_still_ambiguous() -> None:
    plain = Variant(key="c", body="<p>C</p>")
    library = Library(components={"promo.x": _component(ARM_A, ARM_B, plain)})
    problems = ambiguity_problems(library, library.components["promo.x"])
    assert [p.code for p in problems] == ["ambiguous_variants"]


def test_coverage_lists_the_arms_a_slot_is_drawn_between() -> None:
    from content_engine.core.coverage import coverage
    from content_engine.core.models import Publication, Slot

    library = Library(
        components={"promo.x": _component(ARM_A, ARM_B)},
        publications={
            "p": Publication(id="p", title="P", slots=(Slot(component="promo.x", required=True),))
        },
    )
    (row,) = coverage(library, "p").rows
    assert row.covered
    assert [(e.component, e.experiment, e.arms) for e in row.experiments] == [
        ("promo.x", "cta", ["a", "b"])
    ]
