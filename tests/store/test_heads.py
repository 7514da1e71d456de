"""A library loaded as heads holds exactly what a load of whole models holds, at its revision."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from content_engine.core.errors import NotFound
from content_engine.core.models import Component, Library, Variant
from content_engine.core.table import ComponentTable
from content_engine.core.working import split_components
from content_engine.store import Repository
from content_engine.store.versions import newest_components, present

RUNS = itertools.count()
ACTS = st.sampled_from(["draft", "review", "published", "archived", "delete", "unpublish"])
STEPS = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from(["en", "de", "fr"]), ACTS),
    min_size=1,
    max_size=25,
)


@pytest.fixture
def repo(db_url: str) -> Iterator[Repository]:
    repository = Repository(db_url)
    yield repository
    repository.close()


def act(repo: Repository, cid: str, key: str, step: str, n: int) -> None:
    """One editor's act on ``cid/key`` based on what is stored now; ``archive`` archives the
    component (a later save brings it back)."""
    try:
        current: Variant | None = repo.get_variant(cid, key)
    except NotFound:
        current = None
    if step in ("delete", "unpublish"):
        if current is not None:
            change = repo.delete_variant if step == "delete" else repo.unpublish_variant
            change(cid, key, expected_version=current.version)
        return
    variant = Variant(key=key, status=step, body=f"<p>{cid} {key} {n}</p>")  # type: ignore[arg-type]
    repo.save_variant(cid, variant, expected_version=current.version if current else None)


def whole(repo: Repository) -> tuple[dict[str, Component], dict[str, dict[str, Variant]]]:
    """The live components and working overlay as a load of whole models makes them."""
    with repo._read() as conn:
        components, overlay = split_components(*newest_components(conn))
    return present(components), overlay


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=STEPS, archived=st.sets(st.sampled_from(["a", "b", "c"])))
def test_heads_load_the_library_a_whole_load_does(
    repo: Repository, steps: list[tuple[str, str, str]], archived: set[str]
) -> None:
    # Each example adds components of its own: the whole database is compared every time.
    run = next(RUNS)
    ids = {name: f"r{run}-{name}" for name in "abc"}
    for cid in ids.values():
        repo.save_component(Component(id=cid, type="snippet", tags=("t",)), expected_version=None)
    for n, (name, key, step) in enumerate(steps):
        act(repo, ids[name], key, step, n)
    for name in sorted(archived):
        cid = ids[name]
        repo.archive_component(cid, expected_version=repo.get_component(cid).version)
    state = repo.live_and_working(lazy=True)
    components, overlay = whole(repo)
    assert isinstance(state.library.components, ComponentTable)
    assert dict(state.library.components.items()) == components
    assert {cid: dict(found) for cid, found in state.working.items()} == overlay
    for cid, component in components.items():  # one by one too, as serving fetches them
        assert state.library.components[cid] == component


def test_a_component_fetched_after_later_writes_is_the_one_of_its_revision(
    repo: Repository,
) -> None:
    repo.import_library(Library(components={"a": Component(id="a", type="snippet")}))
    act(repo, "a", "en", "published", 1)
    state = repo.live_and_working(lazy=True)
    act(repo, "a", "en", "published", 2)
    act(repo, "a", "de", "published", 3)
    held = state.library.components["a"]
    assert list(held.variants) == ["en"] and held.variants["en"].body == "<p>a en 1</p>"
    assert (
        repo.live_and_working(lazy=True).library.components["a"].variants["en"].body
        == "<p>a en 2</p>"
    )


def test_a_library_read_after_its_repository_closed_keeps_no_connection(db_url: str) -> None:
    repo = Repository(db_url)
    repo.import_library(Library(components={"a": Component(id="a", type="snippet")}))
    act(repo, "a", "en", "published", 1)
    state = repo.live_and_working(lazy=True)
    repo.close()
    assert state.library.components["a"].variants["en"].body == "<p>a en 1</p>"
    assert repo.engine.pool.checkedin() == 0, "the read's connection is not left pooled"
