"""Rows become models without validation, exactly as pydantic's own construction builds them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import BaseModel

from content_engine.core.models import Component, Conditions, Variant
from content_engine.store import Repository, mapping
from tests.support.factories import component, library, variant


@pytest.mark.parametrize("model", [Variant, Component])
def test_the_models_built_from_rows_have_nothing_construct_would_add(
    model: type[BaseModel],
) -> None:
    # ``mapping._built`` skips what model_construct does for these; a model that gains any
    # of them must be built by model_construct again.
    assert model.__pydantic_post_init__ is None
    assert not model.__private_attributes__
    assert all(f.alias is None and f.validation_alias is None for f in model.model_fields.values())


def test_built_is_what_model_construct_builds() -> None:
    values = {
        "key": "en",
        "conditions": Conditions(locale="en"),
        "priority": 2,
        "experiment": None,
        "weight": 1.0,
        "status": "published",
        "valid_from": datetime(2026, 1, 1, tzinfo=UTC),
        "valid_until": None,
        "body": "<p>x</p>",
        "translated_from": None,
        "version": 3,
    }
    fields = set(Variant.model_fields)
    ours = mapping._built(Variant, fields, dict(values))
    theirs = Variant.model_construct(fields, **values)
    assert ours.__dict__ == theirs.__dict__ and list(ours.__dict__) == list(Variant.model_fields)
    for name in ("__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__"):
        assert getattr(ours, name) == getattr(theirs, name)
    assert ours == Variant.model_validate(values) and ours.model_dump() == theirs.model_dump()
    changed = ours.model_copy(update={"body": "<p>y</p>"})
    assert fields == set(Variant.model_fields), "a copy never changes the shared set"
    assert changed.body == "<p>y</p>" and ours.body == "<p>x</p>"


def test_a_loaded_library_equals_the_validated_one(db_url: str) -> None:
    stored = library(
        component(
            "a",
            variant("en", locale="en", valid_from="2026-01-01", valid_until="2026-12-31"),
            variant("de", locale="de", segments=["x", "y"], priority=3, status="draft"),
            variant(
                "fr", locale="fr", regions="DACH", translated_from={"variant": "en", "version": 1}
            ),
            type="article",
            tags=("t1", "t2"),
        ),
        component("b", variant("en", locale="en")),
    )
    with Repository(db_url) as repository:
        repository.import_library(stored)
        live, working = repository.live_and_working().library, repository.load_library(working=True)
    for loaded in (live, working):
        for cid, held in loaded.components.items():
            assert Component.model_validate(held.model_dump()) == held
            expected = stored.components[cid]
            assert held.meta_equals(expected)
            for key, v in held.variants.items():
                assert v.content_equals(expected.variants[key]), (cid, key)
    a = working.components["a"].variants
    assert a["fr"].translated_from is not None and a["fr"].translated_from.variant == "en"
    assert a["en"].valid_until == datetime(2027, 1, 1, tzinfo=UTC)
    assert a["en"].conditions is working.components["b"].variants["en"].conditions
