"""The store's live versions and working copies agree with the rule, and nothing is lost."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from content_engine.core.errors import ConflictError, NotFound
from content_engine.core.models import Component, Library, Variant
from content_engine.core.working import VersionRoles, roles_of
from content_engine.store import Repository
from content_engine.store.tables import VariantVersion

STEPS = st.lists(
    st.sampled_from(["draft", "review", "published", "archived", "delete", "unpublish"]),
    min_size=1,
    max_size=8,
)


@pytest.fixture
def repo(db_url: str) -> Iterator[Repository]:
    repository = Repository(db_url)
    repository.import_library(Library(components={"c": Component(id="c", type="snippet")}))
    yield repository
    repository.close()


def apply(repo: Repository, key: str, step: str, n: int) -> None:
    """One editor's act on ``c/key``, based on what is stored now."""
    try:
        current: Variant | None = repo.get_variant("c", key)
    except NotFound:  # deleted or never made
        current = None
    expected = current.version if current else None
    if step == "delete":
        if current is not None:
            repo.delete_variant("c", key, expected_version=current.version)
    elif step == "unpublish":
        if current is not None:
            repo.unpublish_variant("c", key, expected_version=current.version)
    else:
        variant = Variant(key=key, status=step, body=f"<p>{n}</p>")  # type: ignore[arg-type]
        repo.save_variant("c", variant, expected_version=expected)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=STEPS, tag=st.uuids())
def test_snapshot_and_history_agree_on_live_and_working(
    repo: Repository, steps: list[str], tag: object
) -> None:
    key = f"k{str(tag)[:8]}"
    for n, step in enumerate(steps):
        apply(repo, key, step, n)
    rows = stored_rows(repo, key)
    if not rows:
        return  # nothing was ever written
    roles = repo.version_roles("c", key)
    assert roles == roles_of(rows)
    state = repo.live_and_working()
    live = state.library.components["c"].variants.get(key)
    newest = state.working_library().components["c"].variants.get(key)
    if roles.live is not None:
        assert live is not None and (live.version, live.status) == (roles.live, "published")
        assert repo.get_variant_and_live("c", key)[1] == roles.live
    elif live is not None:  # no reader gets it; it is there so explain can say why
        assert live.status != "published" and live == newest
    if roles.working is not None:
        assert newest is not None and newest.version == roles.working
    assert (key in state.working.get("c", {})) == (
        roles.live is not None and roles.working is not None
    )


def stored_rows(repo: Repository, key: str) -> list[tuple[int, str, bool]]:
    """Every row of ``c/key`` as stored, deletions included, oldest first."""
    query = (
        select(VariantVersion.version, VariantVersion.status, VariantVersion.deleted)
        .where(VariantVersion.component_id == "c", VariantVersion.key == key)
        .order_by(VariantVersion.version)
    )
    with repo.engine.connect() as conn:
        return [(int(r.version), str(r.status), bool(r.deleted)) for r in conn.execute(query)]


def test_unpublish_archives_the_live_version_and_keeps_the_working_copy(
    repo: Repository,
) -> None:
    v1 = repo.save_variant("c", Variant(key="de", body="<p>live</p>"), expected_version=None)
    draft = Variant(key="de", status="draft", body="<p>draft</p>")
    v2 = repo.save_variant("c", draft, expected_version=v1.version)
    with pytest.raises(ConflictError):
        repo.unpublish_variant("c", "de", expected_version=v1.version)
    newest = repo.unpublish_variant("c", "de", expected_version=v2.version)
    assert (newest.version, newest.status, newest.body) == (4, "draft", "<p>draft</p>")
    history = repo.variant_history("c", "de")
    assert [(v.version, v.status, v.body) for v in history] == [
        (1, "published", "<p>live</p>"),
        (2, "draft", "<p>draft</p>"),
        (3, "archived", "<p>live</p>"),
        (4, "draft", "<p>draft</p>"),
    ]
    assert repo.version_roles("c", "de") == VersionRoles(None, 4)
    # Nothing live: nothing to take offline, nothing written.
    revision = repo.revision()
    assert repo.unpublish_variant("c", "de", expected_version=4).version == 4
    assert repo.revision() == revision


def race(repo: Repository, at: int, n: int) -> dict[str, Variant | ConflictError]:
    """Publish version ``at`` and save a draft based on it, in two threads at once."""
    start = threading.Barrier(2)
    outcome: dict[str, Variant | ConflictError] = {}

    def publish() -> None:
        start.wait()
        published = repo.get_variant("c", "de", at).model_copy(update={"status": "published"})
        try:
            outcome["publish"] = repo.save_variant("c", published, expected_version=at)
        except ConflictError as exc:
            outcome["publish"] = exc

    def save() -> None:
        start.wait()
        edit = Variant(key="de", status="draft", body=f"<p>edit {n}</p>")
        try:
            outcome["save"] = repo.save_variant("c", edit, expected_version=at)
        except ConflictError as exc:
            outcome["save"] = exc

    threads = [threading.Thread(target=publish), threading.Thread(target=save)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcome


def test_a_publish_racing_a_draft_save_loses_nothing(repo: Repository) -> None:
    """Both are based on the same version: exactly one is written, the other is refused, and
    every version written is in the history."""
    base = repo.save_variant("c", Variant(key="de", body="<p>v1</p>"), expected_version=None)
    draft = repo.save_variant(
        "c", Variant(key="de", status="draft", body="<p>v2</p>"), expected_version=base.version
    )
    rounds = 10
    for n in range(rounds):
        outcome = race(repo, draft.version, n)
        written = [v for v in outcome.values() if isinstance(v, Variant)]
        refused = [v for v in outcome.values() if isinstance(v, ConflictError)]
        assert len(written) == 1 and len(refused) == 1, outcome
        (winner,) = written
        history = {v.version: v for v in repo.variant_history("c", "de")}
        assert history[winner.version].content_equals(winner)
        roles = repo.version_roles("c", "de")
        if winner.status == "published":
            assert roles == VersionRoles(winner.version, None)
        else:
            assert roles.working == winner.version and roles.live is not None
        # The next round races again over a new working copy.
        draft = repo.save_variant(
            "c",
            Variant(key="de", status="draft", body=f"<p>next {n}</p>"),
            expected_version=winner.version,
        )
    assert len(repo.variant_history("c", "de")) == 2 + rounds * 2
