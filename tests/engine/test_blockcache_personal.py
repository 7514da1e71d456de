"""The block cache and a reader's own data (lookup keys, fetched values, ``data``): the same
customer with the same data gets the cached block again; any other value, never."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from content_engine.core.models import Context
from content_engine.engine.blockcache import BlockCache, Dependence, personal_key
from content_engine.engine.facade import Engine
from content_engine.settings import Settings
from tests.support.engine_factory import ROOT, write_files
from tests.support.factories import context

LIBRARY = {
    "library.yaml": "default_locale: en\nlocales: [en]\n",
    "c/sheet/component.yaml": "id: sheet\ntype: snippet\n",
    "c/sheet/en.html": "<p>{{ installation.model }} for {{ customer.name }}</p>\n",
    "c/plain/component.yaml": "id: plain\ntype: snippet\n",
    "c/plain/en.html": "<p>plain</p>\n",
}
SOURCES = """\
sources:
  installation: {kind: file, path: installations.csv, key: serial, required: true}
  customer: {kind: file, path: customers.csv, key: id, from: installation.owner}
"""
INSTALLATIONS = "serial,model,owner\nA-1,Pro,C-1\nA-2,Eco,C-2\nA-3,Pro,C-1\n"
CUSTOMERS = "id,name\nC-1,Anna\nC-2,Ben\n"


@pytest.fixture
def deploy(tmp_path: Path) -> Path:
    return write_files(
        tmp_path / "deploy",
        {"sources.yaml": SOURCES, "installations.csv": INSTALLATIONS, "customers.csv": CUSTOMERS},
    )


@pytest.fixture
def engine(db_url: str, tmp_path: Path, deploy: Path) -> Iterator[Engine]:
    settings = Settings(db_url=db_url, home=ROOT, sources=str(deploy / "sources.yaml"))
    with Engine(settings) as engine:
        engine.import_library(write_files(tmp_path / "lib", LIBRARY))
        yield engine


def by_serial(serial: str) -> Context:
    return context(lookup={"serial": serial})


def test_the_same_customer_with_the_same_data_hits_the_cache(engine: Engine) -> None:
    first = engine.block("sheet", by_serial("A-1"))
    assert first.html == "<p>Pro for Anna</p>\n"
    assert engine.block("sheet", by_serial("A-1")) is first
    other = engine.block("sheet", by_serial("A-2"))
    assert other.html == "<p>Eco for Ben</p>\n"
    # Another serial, the very same values: still its own entry (the lookup keys are data too).
    assert engine.block("sheet", by_serial("A-3")) is not first
    assert engine.block("sheet", by_serial("A-3")).html == first.html
    given = context(data={"installation": {"model": "Max"}}, customer={"name": "Cleo"})
    assert engine.block("sheet", given).html == "<p>Max for Cleo</p>\n"
    assert engine.block("sheet", given) is engine.block("sheet", given)


def test_changed_data_at_the_source_is_never_served_from_the_cache(
    engine: Engine, deploy: Path
) -> None:
    assert engine.block("sheet", by_serial("A-1")).html == "<p>Pro for Anna</p>\n"
    (deploy / "installations.csv").write_text(
        INSTALLATIONS.replace("A-1,Pro", "A-1,Maxi"), encoding="utf-8"
    )
    assert engine.block("sheet", by_serial("A-1")).html == "<p>Maxi for Anna</p>\n"


def test_several_blocks_of_one_request_are_kept_under_its_data(engine: Engine) -> None:
    one = engine.blocks(["sheet", "plain"], by_serial("A-2"))
    two = engine.blocks(["sheet", "plain"], by_serial("A-2"))
    assert all(a is b for a, b in zip(one, two, strict=True))
    assert engine.blocks(["sheet"], by_serial("A-1"))[0] is not one[0]


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text("ab é0", max_size=4),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text("xyz", max_size=2), inner, max_size=3)
    ),
    max_leaves=8,
)
ROWS = st.dictionaries(st.sampled_from(["model", "serial", "owner", "since"]), JSON, max_size=4)


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(one=ROWS, two=ROWS)
def test_contexts_differing_in_any_fetched_field_never_share_an_entry(
    engine: Engine, one: dict[str, Any], two: dict[str, Any]
) -> None:
    assume(canonical(one) != canonical(two))  # JSON tells 1, 1.0 and true apart; Python does not
    first = context(data={"installation": one}, lookup={"serial": "A-1"})
    second = context(data={"installation": two}, lookup={"serial": "A-1"})
    assert personal_key(first, None) != personal_key(second, None)
    assert personal_key(first, {"x": one}) != personal_key(first, {"x": two})
    block = engine.block("sheet", first)
    assert engine.block("sheet", second) is not block
    assert engine.block("sheet", first) is block


def test_personal_entries_are_bounded_apart_from_the_shared_ones(engine: Engine) -> None:
    cache = BlockCache(max_entries=3, max_personal=2)
    block = engine.block("plain", context())
    depends = Dependence(since=None, until=None, reads=frozenset(), data=None)
    for region in ("DE", "AT", "FR"):
        cache.put("plain", engine.reader(context(region=region)), block, depends)
    reader = engine.reader(context())
    keys = [personal_key(context(data={"n": {"v": n}}), None) for n in range(10)]
    for key in keys:
        cache.put("plain", reader, block, depends, key)
    assert len(cache) == 5
    assert cache.get("plain", engine.reader(context(region="DE"))) is block  # not crowded out
    assert cache.get("plain", reader, keys[-1]) is block
    assert cache.get("plain", reader, keys[0]) is None
    assert cache.get("plain", reader) is None  # a personal entry is never a shared one
