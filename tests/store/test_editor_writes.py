"""store/: editors' single-item writes, conflict-checked against the version they were based on."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from content_engine.core.errors import ConflictError, NotFound
from content_engine.core.models import Component, Conditions, Library, Publication, Slot, Variant
from content_engine.store import Repository

PRODUCT = Component(
    id="product.x",
    type="product-info",
    title="Product X",
    tags=("x",),
    folder="products",
    variants={
        "en": Variant(key="en", body="<p>Product X</p>"),
        "de": Variant(key="de", conditions=Conditions(locale="de"), body="<p>Produkt X</p>"),
    },
)
BROCHURE = Publication(id="brochure", title="Brochure", slots=(Slot(component="product.x"),))
LIBRARY = Library(components={"product.x": PRODUCT}, publications={"brochure": BROCHURE})


@pytest.fixture
def repo(db_url: str) -> Iterator[Repository]:
    """A repository holding ``LIBRARY`` at revision 1, every item at version 1."""
    repository = Repository(db_url)
    repository.import_library(LIBRARY)
    yield repository
    repository.close()


def meta(component: Component, **changes: object) -> Component:
    """The component as an editor sends it: metadata only, no variants, no version."""
    return component.model_copy(update={"variants": {}, "version": 0, **changes})


# --- components -----------------------------------------------------------------------------


def test_save_component_creates_one(repo: Repository) -> None:
    new = Component(id="legal.terms", type="legal", title="Terms", tags=("legal",))

    saved = repo.save_component(new, expected_version=None)

    assert saved == new.model_copy(update={"version": 1})
    assert repo.get_component("legal.terms") == saved
    assert repo.revision() == 2
    assert [c.id for c in repo.list_components()] == ["legal.terms", "product.x"]


def test_save_component_changes_metadata_and_leaves_variants_alone(repo: Repository) -> None:
    # Variants in the payload are ignored: they are written through save_variant only.
    payload = PRODUCT.model_copy(
        update={"title": "Product X2", "variants": {"xx": Variant(key="xx", body="ignored")}}
    )

    saved = repo.save_component(payload, expected_version=1)

    assert saved.version == 2
    assert saved.title == "Product X2"
    assert set(saved.variants) == {"de", "en"}
    assert {v.version for v in saved.variants.values()} == {1}
    assert repo.get_component("product.x") == saved
    assert [(c.version, c.title, c.variants) for c in repo.component_history("product.x")] == [
        (1, "Product X", {}),
        (2, "Product X2", {}),
    ]
    assert repo.revision() == 2


def test_stale_component_save_conflicts_and_writes_nothing(repo: Repository) -> None:
    repo.save_component(meta(PRODUCT, title="Second"), expected_version=1)

    with pytest.raises(ConflictError) as info:
        repo.save_component(meta(PRODUCT, title="Stale"), expected_version=1)

    assert info.value.code == "conflict"
    assert info.value.details == {
        "component": "product.x",
        "current_version": 2,
        "expected_version": 1,
    }
    assert "changed since it was read" in info.value.message
    assert [c.title for c in repo.component_history("product.x")] == ["Product X", "Second"]
    assert repo.get_component("product.x").title == "Second"
    assert repo.revision() == 2


def test_creating_an_existing_component_conflicts(repo: Repository) -> None:
    with pytest.raises(ConflictError) as info:
        repo.save_component(meta(PRODUCT, title="Other"), expected_version=None)

    assert info.value.details["current_version"] == 1
    assert info.value.details["expected_version"] is None
    assert repo.get_component("product.x").title == "Product X"
    assert repo.revision() == 1


def test_updating_a_missing_component_conflicts(repo: Repository) -> None:
    with pytest.raises(ConflictError) as info:
        repo.save_component(Component(id="no.such", type="t"), expected_version=3)

    assert info.value.details == {
        "component": "no.such",
        "current_version": None,
        "expected_version": 3,
    }
    with pytest.raises(NotFound):
        repo.component_history("no.such")


def test_saving_unchanged_metadata_is_a_no_op(repo: Repository) -> None:
    same = repo.save_component(meta(PRODUCT), expected_version=1)

    assert same == repo.get_component("product.x")
    assert same.version == 1
    assert set(same.variants) == {"de", "en"}
    assert len(repo.component_history("product.x")) == 1
    assert repo.revision() == 1


def test_archive_then_recreate_a_component(repo: Repository) -> None:
    archived = repo.archive_component("product.x", expected_version=1)

    assert archived == meta(PRODUCT, version=2)
    assert repo.revision() == 2
    with pytest.raises(NotFound):
        repo.get_component("product.x")
    assert repo.list_components() == []
    assert repo.load_library().components == {}
    with pytest.raises(NotFound):
        repo.archive_component("product.x", expected_version=2)  # already archived
    with pytest.raises(ConflictError) as info:
        repo.save_component(meta(PRODUCT), expected_version=2)  # gone: create it instead
    assert info.value.details["current_version"] is None

    restored = repo.save_component(meta(PRODUCT, title="Back"), expected_version=None)

    assert restored.version == 3
    assert restored.title == "Back"
    # Archiving hid the variants; restoring brings them back as they were.
    assert {k: v.version for k, v in restored.variants.items()} == {"de": 1, "en": 1}
    assert [c.version for c in repo.component_history("product.x")] == [1, 3]
    assert repo.revision() == 3


def test_archive_checks_the_version(repo: Repository) -> None:
    with pytest.raises(ConflictError) as info:
        repo.archive_component("product.x", expected_version=7)
    assert info.value.details["current_version"] == 1
    assert repo.get_component("product.x").version == 1
    with pytest.raises(NotFound):
        repo.archive_component("no.such", expected_version=1)
    assert repo.revision() == 1


def test_list_components_is_the_current_library(repo: Repository) -> None:
    repo.save_component(Component(id="a.first", type="t"), expected_version=None)
    repo.archive_component("a.first", expected_version=1)
    repo.save_component(Component(id="z.last", type="t"), expected_version=None)

    listed = repo.list_components()

    assert [c.id for c in listed] == ["product.x", "z.last"]
    assert listed == sorted(repo.load_library().components.values(), key=lambda c: c.id)
    assert listed[0].variants == repo.get_component("product.x").variants


# --- variants -------------------------------------------------------------------------------


def test_delete_variant_writes_a_deleted_version(repo: Repository) -> None:
    repo.delete_variant("product.x", "de", expected_version=1)

    assert repo.revision() == 2
    assert set(repo.get_component("product.x").variants) == {"en"}
    with pytest.raises(NotFound):
        repo.get_variant("product.x", "de")
    with pytest.raises(NotFound):
        repo.get_variant("product.x", "de", version=2)  # the deletion itself
    assert repo.get_variant("product.x", "de", version=1).body == "<p>Produkt X</p>"
    assert [v.version for v in repo.variant_history("product.x", "de")] == [1]
    with pytest.raises(NotFound):
        repo.delete_variant("product.x", "de", expected_version=1)  # already deleted

    again = repo.save_variant(
        "product.x", Variant(key="de", body="<p>neu</p>"), expected_version=None
    )
    assert again.version == 3


def test_delete_variant_refuses_stale_and_unknown(repo: Repository) -> None:
    repo.save_variant("product.x", Variant(key="de", body="<p>v2</p>"), expected_version=1)

    with pytest.raises(ConflictError) as info:
        repo.delete_variant("product.x", "de", expected_version=1)

    assert info.value.details == {
        "component": "product.x",
        "variant": "de",
        "current_version": 2,
        "expected_version": 1,
    }
    assert repo.get_variant("product.x", "de").body == "<p>v2</p>"
    with pytest.raises(NotFound):
        repo.delete_variant("product.x", "fr", expected_version=1)
    with pytest.raises(NotFound):
        repo.delete_variant("no.such", "de", expected_version=1)
    repo.archive_component("product.x", expected_version=1)
    with pytest.raises(NotFound):
        repo.delete_variant("product.x", "de", expected_version=2)
    assert [v.version for v in repo.variant_history("product.x", "de")] == [1, 2]


# --- publications ---------------------------------------------------------------------------


def test_save_publication_creates_updates_and_conflicts(repo: Repository) -> None:
    sheet = Publication(id="sheet", title="Sheet")
    assert repo.save_publication(sheet, expected_version=None).version == 1
    assert repo.revision() == 2

    updated = repo.save_publication(
        BROCHURE.model_copy(update={"title": "Brochure 2"}), expected_version=1
    )
    assert updated.version == 2
    assert repo.get_publication("brochure") == updated
    assert repo.revision() == 3

    with pytest.raises(ConflictError) as info:
        repo.save_publication(BROCHURE.model_copy(update={"title": "Stale"}), expected_version=1)
    assert info.value.details == {
        "publication": "brochure",
        "current_version": 2,
        "expected_version": 1,
    }
    with pytest.raises(ConflictError) as info:
        repo.save_publication(sheet, expected_version=None)
    assert info.value.details["current_version"] == 1
    with pytest.raises(ConflictError):
        repo.save_publication(Publication(id="nope", title="N"), expected_version=1)

    assert repo.revision() == 3
    assert [(p.version, p.title) for p in repo.publication_history("brochure")] == [
        (1, "Brochure"),
        (2, "Brochure 2"),
    ]
    assert [p.id for p in repo.list_publications()] == ["brochure", "sheet"]


def test_saving_an_unchanged_publication_is_a_no_op(repo: Repository) -> None:
    same = repo.save_publication(BROCHURE, expected_version=1)

    assert same == BROCHURE.model_copy(update={"version": 1})
    assert len(repo.publication_history("brochure")) == 1
    assert repo.revision() == 1


def test_publication_history_of_unknown_is_not_found(repo: Repository) -> None:
    with pytest.raises(NotFound):
        repo.publication_history("nope")


# --- old versions stay readable ---------------------------------------------------------------


def test_pinned_versions_outlive_archiving(repo: Repository) -> None:
    """A render receipt names versions; replaying it must find them whatever happened since."""
    repo.save_variant("product.x", Variant(key="en", body="<p>v2</p>"), expected_version=1)
    repo.archive_component("product.x", expected_version=1)
    repo.import_library(Library())  # archives the publication too

    assert repo.get_variant("product.x", "en", version=1).body == "<p>Product X</p>"
    assert repo.get_variant("product.x", "en", version=2).body == "<p>v2</p>"
    assert repo.get_publication("brochure", version=1) == BROCHURE.model_copy(update={"version": 1})
    with pytest.raises(NotFound):
        repo.get_publication("brochure")
    with pytest.raises(NotFound):
        repo.get_publication("brochure", version=2)  # the archiving itself
    assert [p.version for p in repo.publication_history("brochure")] == [1]
    assert [c.version for c in repo.component_history("product.x")] == [1]
    assert repo.list_publications() == []

    # An archived publication is re-created at the next version number.
    assert repo.save_publication(BROCHURE, expected_version=None).version == 3


# --- the revision -----------------------------------------------------------------------------

WRITES: dict[str, Callable[[Repository], object]] = {
    "save_component": lambda r: r.save_component(meta(PRODUCT, title="T"), expected_version=1),
    "create_component": lambda r: r.save_component(
        Component(id="new.one", type="t"), expected_version=None
    ),
    "archive_component": lambda r: r.archive_component("product.x", expected_version=1),
    "save_variant": lambda r: r.save_variant(
        "product.x", Variant(key="en", body="<p>2</p>"), expected_version=1
    ),
    "delete_variant": lambda r: r.delete_variant("product.x", "en", expected_version=1),
    "save_publication": lambda r: r.save_publication(
        BROCHURE.model_copy(update={"title": "T"}), expected_version=1
    ),
}
NO_OPS: dict[str, Callable[[Repository], object]] = {
    "save_component": lambda r: r.save_component(meta(PRODUCT), expected_version=1),
    "save_variant": lambda r: r.save_variant(
        "product.x", PRODUCT.variants["en"], expected_version=1
    ),
    "save_publication": lambda r: r.save_publication(BROCHURE, expected_version=1),
}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_every_accepted_write_bumps_the_revision_once(
    repo: Repository, write: Callable[[Repository], object]
) -> None:
    before, library = repo.snapshot()
    write(repo)
    after, changed = repo.snapshot()
    assert after == before + 1
    assert changed != library


@pytest.mark.parametrize("no_op", NO_OPS.values(), ids=NO_OPS.keys())
def test_writing_the_current_state_leaves_the_revision(
    repo: Repository, no_op: Callable[[Repository], object]
) -> None:
    before = repo.snapshot()
    no_op(repo)
    assert repo.snapshot() == before


def test_a_primary_key_clash_is_reported_as_a_conflict(
    repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write lock makes this unreachable; the primary key is the second line of defence."""
    import content_engine.store.writes as module

    monkeypatch.setattr(module, "next_version", lambda row: 1)  # as if version 1 were not there yet

    with pytest.raises(ConflictError) as info:
        repo.save_component(meta(PRODUCT, title="Racing"), expected_version=1)

    assert info.value.details["current_version"] == 1
    assert [c.title for c in repo.component_history("product.x")] == ["Product X"]
    assert repo.revision() == 1


# --- concurrency ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("component_id", "expected_version"), [("product.x", 1), ("brand.new", None)]
)
def test_concurrent_component_saves_let_exactly_one_win(
    db_url: str, component_id: str, expected_version: int | None
) -> None:
    # Separate repositories stand for separate processes sharing one database.
    repos = [Repository(db_url) for _ in range(4)]
    try:
        repos[0].import_library(LIBRARY)
        barrier = threading.Barrier(len(repos))
        outcomes: list[str] = []

        def save(repo: Repository, n: int) -> None:
            component = Component(id=component_id, type="product-info", title=f"writer {n}")
            barrier.wait()
            try:
                repo.save_component(component, expected_version=expected_version)
                outcomes.append("saved")
            except ConflictError:
                outcomes.append("conflict")

        threads = [threading.Thread(target=save, args=(r, n)) for n, r in enumerate(repos)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert sorted(outcomes) == ["conflict"] * (len(repos) - 1) + ["saved"]
        history = repos[0].component_history(component_id)
        assert len(history) == (expected_version or 0) + 1
        assert history[-1].title.startswith("writer ")
        assert repos[0].revision() == 2
    finally:
        for repo in repos:
            repo.close()
