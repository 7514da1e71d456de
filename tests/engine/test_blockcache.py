"""The engine's block cache: a cached block is returned exactly when assembling again would give
the same bytes, and never otherwise (reader dimensions, data the templates read, schedules)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from content_engine.core.models import Variant
from content_engine.engine.blockcache import BlockCache, Dependence
from content_engine.engine.facade import Engine
from tests.support.engine_factory import make_engine, write_files
from tests.support.factories import context

LIBRARY = {
    "library.yaml": """
        default_locale: en
        locales: [en, de]
        regions: {DACH: [DE, AT]}
        segment_rules:
          - segment: enterprise
            when: {all: [{attr: customer.employees, op: ">=", value: 250}]}
        """,
    # Reads no data: the same block for every reader with the same dimensions.
    "c/plain/component.yaml": "id: plain\ntype: snippet\n",
    "c/plain/any.html": '<p>plain <span data-region="DACH">dach</span></p>\n',
    "c/plain/ent.html": "---\nsegments: [enterprise]\n---\n<p>plain for enterprises</p>\n",
    # Reads the customer: cached per customer.
    "c/hello/component.yaml": "id: hello\ntype: snippet\n",
    "c/hello/any.html": "<p>Hello {{ customer.name }}</p>\n",
    # Reads the time: never the same entry for another moment.
    "c/clock/component.yaml": "id: clock\ntype: snippet\n",
    "c/clock/any.html": "<p>{{ now.isoformat() }}</p>\n",
    # A schedule: the winter offer ends, the spring one starts, at the same instant; the page
    # itself has no schedule but includes the offer.
    "c/offer/component.yaml": "id: offer\ntype: snippet\n",
    "c/offer/winter.html": "---\nvalid_until: 2026-12-01T00:00:00Z\n---\n<p>winter</p>\n",
    "c/offer/spring.html": "---\nvalid_from: 2026-12-01T00:00:00Z\n---\n<p>spring</p>\n",
    "c/page/component.yaml": "id: page\ntype: snippet\n",
    "c/page/any.html": '<div><ce-include component="offer"/></div>\n',
}


@pytest.fixture
def engine(db_url: str, tmp_path: Path) -> Iterator[Engine]:
    with make_engine(db_url) as engine:
        engine.import_library(write_files(tmp_path / "lib", LIBRARY))
        yield engine


def test_same_dimensions_get_the_same_block_object(engine: Engine) -> None:
    first = engine.block("plain", context(region="AT", customer={"name": "A"}))
    again = engine.block("plain", context(region="AT", customer={"name": "B"}, at="2027-01-01"))
    assert again is first, "a block that reads no data does not depend on customer or time"


@pytest.mark.parametrize(
    "other",
    [
        {"locale": "de"},
        {"region": "US"},
        {"role": "buyer"},
        {"channel": "web"},
        {"segments": ("partner",)},
        # Not a stated segment but one the library's rule derives from the data.
        {"customer": {"employees": 300}},
    ],
)
def test_other_dimensions_are_assembled_anew(engine: Engine, other: dict[str, Any]) -> None:
    base = engine.block("plain", context(region="AT"))
    fields = {"region": "AT", **other}
    locale = fields.pop("locale", "en")
    assert engine.block("plain", context(locale, **fields)) is not base


def test_derived_segments_choose_the_variant(engine: Engine) -> None:
    assert engine.block("plain", context(customer={"employees": 10})).variant == "any"
    assert engine.block("plain", context(customer={"employees": 300})).variant == "ent"
    assert engine.block("plain", context(customer={"employees": 12})).variant == "any"


def test_preview_and_published_are_kept_apart(engine: Engine) -> None:
    published = engine.block("plain", context())
    assert engine.block("plain", context(), preview=True) is not published


def test_a_block_reading_the_customer_is_cached_per_customer(engine: Engine) -> None:
    anna = engine.block("hello", context(customer={"name": "Anna"}))
    assert engine.block("hello", context(customer={"name": "Bert"})).html == "<p>Hello Bert</p>\n"
    again = engine.block("hello", context(customer={"name": "Anna"}, at="2027-01-01"))
    assert again.html == anna.html == "<p>Hello Anna</p>\n"


def test_a_block_reading_the_time_follows_the_time(engine: Engine) -> None:
    one = engine.block("clock", context(at="2026-11-23T10:00:00Z"))
    two = engine.block("clock", context(at="2026-11-23T10:00:01Z"))
    assert (one.html, two.html) == (
        "<p>2026-11-23T10:00:00+00:00</p>\n",
        "<p>2026-11-23T10:00:01+00:00</p>\n",
    )


@pytest.mark.parametrize("component", ["offer", "page"])
def test_a_schedule_boundary_ends_the_entry(engine: Engine, component: str) -> None:
    early = engine.block(component, context(at="2026-11-01T00:00:00Z"))
    assert "winter" in early.html
    assert engine.block(component, context(at="2026-11-30T23:59:59Z")) is early
    late = engine.block(component, context(at="2026-12-01T00:00:00Z"))
    assert "spring" in late.html
    # And back again: the entry made after the boundary does not hold before it.
    assert "winter" in engine.block(component, context(at="2026-11-15T00:00:00Z")).html


def test_a_write_starts_from_an_empty_cache(engine: Engine) -> None:
    before = engine.block("plain", context())
    variant = engine.library().components["plain"].variants["any"]
    engine.editor.save_variant(
        "plain",
        Variant.model_validate(variant.model_dump() | {"body": "<p>edited</p>"}),
        expected_version=variant.version,
    )
    after = engine.block("plain", context())
    assert "plain" in before.html
    assert after.html.strip() == "<p>edited</p>"


def test_the_cache_is_bounded(engine: Engine) -> None:
    cache = BlockCache(max_entries=3)
    block = engine.block("plain", context())
    reader = engine.reader(context())
    depends = Dependence(since=None, until=None, reads=frozenset(), data=None)
    cache.put("plain", reader, block, depends)
    for region in ("DE", "AT", "FR", "IT", "US"):
        cache.put("plain", engine.reader(context(region=region)), block, depends)
    assert len(cache) == 3
    assert cache.get("plain", engine.reader(context(region="US"))) is block
    assert cache.get("plain", engine.reader(context(region="DE"))) is None
    assert cache.get("plain", reader) is None
