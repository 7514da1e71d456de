"""store/: the versioned repository on SQLite (and PostgreSQL with CONTENT_ENGINE_TEST_PG)."""

from __future__ import annotations

import textwrap
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from content_engine.core.errors import ConflictError, NotFound
from content_engine.core.models import (
    Component,
    Conditions,
    Context,
    Library,
    LibrarySettings,
    Publication,
    Receipt,
    Slot,
    UsedVariant,
    Variant,
)
from content_engine.library import load_library
from content_engine.store import ImportCounts, Repository, normalize_url
from content_engine.store.tables import Base

LIBRARY = {
    "library.yaml": """\
        default_locale: en
        locales: [en, de]
        regions: {DACH: [DE, AT, CH]}
        """,
    "products/product.x/component.yaml": """\
        id: product.x
        type: product-info
        title: Product X
        tags: [x, overview]
        """,
    "products/product.x/de.html": """\
        ---
        locale: de
        regions: [DACH]
        valid_from: 2026-01-01T09:30:00+01:00
        valid_until: 2026-12-31
        ---
        <p>Produkt X</p>
        """,
    "products/product.x/en.html": "<p>Product X</p>\n",
    "legal.warranty/component.yaml": "id: legal.warranty\ntype: legal\ntitle: Warranty\n",
    "legal.warranty/default.html": "---\nstatus: draft\npriority: 2\n---\n<p>Warranty</p>\n",
    "publications/brochure.yaml": """\
        id: brochure
        title: Brochure
        slots:
          - {component: product.x, required: true}
          - {query: {type: legal}}
        """,
    "assets/logo.svg": "<svg/>\n",
    "renderers/classic/style.css": "body {}\n",
}


@pytest.fixture
def library(tmp_path: Path) -> Library:
    root = tmp_path / "library"
    for rel, content in LIBRARY.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content), encoding="utf-8")
    return load_library(root)


@pytest.fixture
def repo(db_url: str) -> Iterator[Repository]:
    repository = Repository(db_url)
    yield repository
    repository.close()


def without_versions(lib: Library) -> Library:
    """The library as a folder would hold it: the repository's version numbers zeroed."""
    return lib.model_copy(
        update={
            "components": {
                cid: c.model_copy(
                    update={
                        "version": 0,
                        "variants": {
                            k: v.model_copy(update={"version": 0}) for k, v in c.variants.items()
                        },
                    }
                )
                for cid, c in lib.components.items()
            },
            "publications": {
                pid: p.model_copy(update={"version": 0}) for pid, p in lib.publications.items()
            },
        }
    )


def edited(lib: Library, component_id: str, key: str, body: str) -> Library:
    """A copy of ``lib`` with one variant's body changed."""
    component = lib.components[component_id]
    variant = component.variants[key].model_copy(update={"body": body})
    components = dict(lib.components)
    components[component_id] = component.model_copy(
        update={"variants": {**component.variants, key: variant}}
    )
    return lib.model_copy(update={"components": components})


def test_a_fresh_repository_is_empty(repo: Repository) -> None:
    assert repo.revision() == 0
    assert repo.load_library() == Library()


def test_import_then_load_gives_the_same_library(repo: Repository, library: Library) -> None:
    report = repo.import_library(library)

    assert report.revision == repo.revision() == 1
    assert report.components == ImportCounts(created=2)
    assert report.variants == ImportCounts(created=3)
    assert report.publications == ImportCounts(created=1)
    assert report.files == ImportCounts(created=2)
    assert report.settings == ImportCounts(created=1)
    assert report.summary() == (
        "revision 1: settings 1 created; components 2 created; variants 3 created; "
        "publications 1 created; files 2 created"
    )
    loaded = repo.load_library()
    assert without_versions(loaded) == library
    assert loaded.components["product.x"].version == 1
    assert loaded.components["product.x"].variants["de"].version == 1
    assert loaded.publications["brochure"].version == 1
    # Times come back aware and in UTC on every backend.
    assert loaded.components["product.x"].variants["de"].valid_from == datetime(
        2026, 1, 1, 8, 30, tzinfo=UTC
    )


def test_reimport_creates_no_version(repo: Repository, library: Library) -> None:
    repo.import_library(library)
    before = repo.load_library()

    report = repo.import_library(library)

    assert not report.changed
    assert report.summary() == "nothing changed (revision 1)"
    assert report.revision == repo.revision() == 1
    assert report.variants == ImportCounts(unchanged=3)
    assert repo.load_library() == before
    assert len(repo.variant_history("product.x", "de")) == 1


def test_changed_body_makes_version_2_and_keeps_version_1(
    repo: Repository, library: Library
) -> None:
    repo.import_library(library)

    report = repo.import_library(edited(library, "product.x", "de", "<p>Neu</p>\n"))

    assert report.variants == ImportCounts(changed=1, unchanged=2)
    assert report.components == ImportCounts(unchanged=2)
    assert report.revision == 2
    history = repo.variant_history("product.x", "de")
    assert [(v.version, v.body) for v in history] == [
        (1, "<p>Produkt X</p>\n"),
        (2, "<p>Neu</p>\n"),
    ]
    assert repo.get_variant("product.x", "de").version == 2
    assert repo.get_variant("product.x", "de", version=1).body == "<p>Produkt X</p>\n"
    assert repo.get_component("product.x").variants["de"].body == "<p>Neu</p>\n"


def test_removed_component_is_archived_not_destroyed(repo: Repository, library: Library) -> None:
    repo.import_library(library)
    components = {k: v for k, v in library.components.items() if k != "legal.warranty"}

    report = repo.import_library(library.model_copy(update={"components": components}))

    assert report.components == ImportCounts(unchanged=1, archived=1)
    assert report.variants == ImportCounts(unchanged=2)  # its variants are not touched
    assert "legal.warranty" not in repo.load_library().components
    with pytest.raises(NotFound):
        repo.get_component("legal.warranty")
    assert [v.version for v in repo.variant_history("legal.warranty", "default")] == [1]
    assert repo.get_variant("legal.warranty", "default", version=1).body == "<p>Warranty</p>\n"

    # Back in the folder: restored as a new component version, the variants as they were.
    report = repo.import_library(library)
    assert report.components == ImportCounts(created=1, unchanged=1)
    assert report.variants == ImportCounts(unchanged=3)
    restored = repo.get_component("legal.warranty")
    assert restored.version == 3
    assert restored.variants["default"].version == 1


def test_removed_variant_gets_a_deleted_version(repo: Repository, library: Library) -> None:
    repo.import_library(library)
    component = library.components["product.x"]
    smaller = component.model_copy(update={"variants": {"en": component.variants["en"]}})
    components = {**library.components, "product.x": smaller}

    report = repo.import_library(library.model_copy(update={"components": components}))

    assert report.variants == ImportCounts(unchanged=2, archived=1)
    assert set(repo.get_component("product.x").variants) == {"en"}
    with pytest.raises(NotFound):
        repo.get_variant("product.x", "de")
    with pytest.raises(NotFound):
        repo.get_variant("product.x", "de", version=2)  # the deletion itself
    assert [v.version for v in repo.variant_history("product.x", "de")] == [1]

    repo.import_library(library)
    assert [v.version for v in repo.variant_history("product.x", "de")] == [1, 3]


def test_publications_files_and_settings_are_versioned(repo: Repository, library: Library) -> None:
    repo.import_library(library)
    changed = library.model_copy(
        update={
            "settings": LibrarySettings(default_locale="de"),
            "publications": {
                "brochure": Publication(
                    id="brochure", title="New title", slots=(Slot(component="product.x"),)
                ),
                "sheet": Publication(id="sheet", title="Sheet"),
            },
            "files": {"assets/logo.svg": b"<svg>new</svg>", "assets/new.css": b""},
        }
    )

    report = repo.import_library(changed)

    assert report.settings == ImportCounts(changed=1)
    assert report.publications == ImportCounts(created=1, changed=1)
    assert report.files == ImportCounts(created=1, changed=1, archived=1)
    assert without_versions(repo.load_library()) == changed
    assert repo.get_publication("brochure").version == 2
    assert repo.get_publication("brochure", version=1) == library.publications[
        "brochure"
    ].model_copy(update={"version": 1})

    report = repo.import_library(changed.model_copy(update={"publications": {}}))
    assert report.publications == ImportCounts(archived=2)
    with pytest.raises(NotFound):
        repo.get_publication("brochure")
    assert repo.get_publication("brochure", version=2).title == "New title"


@pytest.mark.parametrize(
    "failing_step",
    ["_import_components", "_import_variants", "_import_publications", "_import_files"],
)
def test_import_is_all_or_nothing(
    repo: Repository, library: Library, monkeypatch: pytest.MonkeyPatch, failing_step: str
) -> None:
    repo.import_library(library)
    before = repo.load_library()
    components = {k: v for k, v in library.components.items() if k != "legal.warranty"}
    next_state = edited(
        library.model_copy(update={"components": components, "files": {}}),
        "product.x",
        "en",
        "<p>changed</p>",
    )
    real_step = getattr(Repository, failing_step)

    def step_then_fail(self: Repository, *args: object) -> None:
        real_step(self, *args)  # its rows are written...
        raise RuntimeError("crash in the middle of an import")  # ...then the import dies

    monkeypatch.setattr(Repository, failing_step, step_then_fail)
    with pytest.raises(RuntimeError, match="crash"):
        repo.import_library(next_state)
    monkeypatch.undo()

    assert repo.revision() == 1
    assert repo.load_library() == before
    assert len(repo.variant_history("product.x", "en")) == 1
    assert repo.import_library(next_state).changed  # the same import, now whole


def test_save_variant_creates_updates_and_detects_conflicts(
    repo: Repository, library: Library
) -> None:
    repo.import_library(library)
    new = Variant(key="fr", conditions=Conditions(locale="fr"), body="<p>Produit X</p>")

    created = repo.save_variant("product.x", new, expected_version=None)
    assert created.version == 1
    assert repo.revision() == 2

    with pytest.raises(ConflictError) as info:
        repo.save_variant("product.x", new, expected_version=None)
    assert info.value.details["current_version"] == 1

    updated = repo.save_variant(
        "product.x", new.model_copy(update={"body": "<p>v2</p>"}), expected_version=1
    )
    assert updated.version == 2
    assert repo.revision() == 3

    # A client still holding version 1 must not overwrite version 2.
    with pytest.raises(ConflictError) as info:
        repo.save_variant(
            "product.x", new.model_copy(update={"body": "<p>stale</p>"}), expected_version=1
        )
    assert info.value.details["current_version"] == 2
    assert info.value.code == "conflict"
    assert [v.body for v in repo.variant_history("product.x", "fr")] == [
        "<p>Produit X</p>",
        "<p>v2</p>",
    ]
    assert repo.revision() == 3

    # Saving what is already stored writes nothing.
    same = repo.save_variant(
        "product.x", new.model_copy(update={"body": "<p>v2</p>"}), expected_version=2
    )
    assert same.version == 2
    assert repo.revision() == 3


def test_save_variant_on_missing_things(repo: Repository, library: Library) -> None:
    repo.import_library(library)
    with pytest.raises(NotFound):
        repo.save_variant("no.such", Variant(key="en"), expected_version=None)
    with pytest.raises(ConflictError) as info:
        repo.save_variant("product.x", Variant(key="xx"), expected_version=3)
    assert info.value.details["current_version"] is None


def test_concurrent_saves_with_the_same_version_let_one_win(db_url: str, library: Library) -> None:
    # Separate repositories stand for separate processes sharing one database.
    repos = [Repository(db_url) for _ in range(4)]
    try:
        repos[0].import_library(library)
        barrier = threading.Barrier(len(repos))
        outcomes: list[str] = []

        def save(repo: Repository, n: int) -> None:
            variant = Variant(key="en", body=f"<p>writer {n}</p>")
            barrier.wait()
            try:
                repo.save_variant("product.x", variant, expected_version=1)
                outcomes.append("saved")
            except ConflictError:
                outcomes.append("conflict")

        threads = [threading.Thread(target=save, args=(r, n)) for n, r in enumerate(repos)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["conflict"] * (len(repos) - 1) + ["saved"]
        assert [v.version for v in repos[0].variant_history("product.x", "en")] == [1, 2]
    finally:
        for repo in repos:
            repo.close()


def test_another_process_sees_the_revision_change(db_url: str, library: Library) -> None:
    with Repository(db_url) as reader, Repository(db_url) as writer:
        cached_revision, cached = reader.snapshot()
        assert cached == Library()
        writer.import_library(library)
        revision, fresh = reader.snapshot()
        assert revision != cached_revision
        assert without_versions(fresh) == library


def test_receipts_round_trip(repo: Repository) -> None:
    receipt = Receipt(
        id="r-0001",
        created_at=datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=UTC),
        publication="brochure",
        publication_version=3,
        format="pdf",
        context=Context(
            locale="de-AT",
            segments=("enterprise",),
            customer={"name": "Anna Huber", "employees": 300},
            at="2026-11-23T10:00:00Z",
        ),
        used=[UsedVariant(component="product.x", variant="de", version=2)],
        sha256="ab" * 32,
        preview=True,
        key_id="key-1",
    )
    repo.save_receipt(receipt)

    assert repo.get_receipt("r-0001") == receipt
    assert repo.revision() == 0  # receipts are not library content
    with pytest.raises(ConflictError):
        repo.save_receipt(receipt)
    with pytest.raises(NotFound):
        repo.get_receipt("r-0002")


def test_lookups_of_unknown_things_are_not_found(repo: Repository) -> None:
    with pytest.raises(NotFound):
        repo.get_component("nope")
    with pytest.raises(NotFound):
        repo.get_variant("nope", "en")
    with pytest.raises(NotFound):
        repo.variant_history("nope", "en")
    with pytest.raises(NotFound):
        repo.get_publication("nope")


def test_reopening_keeps_everything(make_db_url: Callable[[], str], library: Library) -> None:
    url = make_db_url()
    with Repository(url) as repo:
        repo.import_library(library)
        saved = repo.load_library()
    with Repository(url) as repo:  # migrations already at head: nothing to do
        assert repo.load_library() == saved
        assert repo.revision() == 1


def test_migrations_match_the_table_models(repo: Repository) -> None:
    with repo.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_large_library_import(repo: Repository) -> None:
    variants = {f"v{i}": Variant(key=f"v{i}", body=f"<p>{i}</p>") for i in range(20)}
    lib = Library(
        components={
            f"c.{n:03}": Component(id=f"c.{n:03}", type="snippet", variants=variants)
            for n in range(50)
        }
    )
    assert repo.import_library(lib).variants == ImportCounts(created=1000)
    assert not repo.import_library(lib).changed
    assert without_versions(repo.load_library()) == lib


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_normalize_url(given: str, expected: str) -> None:
    assert normalize_url(given).render_as_string(hide_password=False) == expected


def test_head_revision_constant_matches_the_migrations() -> None:
    """Opening a current database skips Alembic, trusting ``HEAD_REVISION``: keep it true."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from content_engine.store.database import HEAD_REVISION, MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION
