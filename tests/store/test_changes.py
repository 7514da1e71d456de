"""Reading only what changed after a revision gives the library a whole snapshot gives."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from content_engine.core.models import Component, Variant
from content_engine.engine.facade import Engine
from content_engine.settings import Settings
from tests.support.engine_factory import ROOT, copy_sample, make_engine
from tests.support.factories import context


def edit_variant(engine: Engine) -> None:
    variant = engine.library().components["docs.safety"].variants["de"]
    edited = variant.model_copy(update={"body": "<p>Kältemittel R-290</p>"})
    engine.editor.save_variant("docs.safety", edited, expected_version=variant.version)


def delete_variant(engine: Engine) -> None:
    variant = engine.library().components["docs.safety"].variants["fr"]
    engine.editor.delete_variant("docs.safety", "fr", expected_version=variant.version)


def add_component(engine: Engine) -> None:
    component = Component(id="note.new", type="snippet", title="New")
    engine.editor.save_component(component, expected_version=None)
    engine.editor.save_variant(
        "note.new", Variant(key="en", body="<p>new</p>"), expected_version=None
    )


def archive_component(engine: Engine) -> None:
    component = engine.library().components["note.new"]
    engine.editor.archive_component("note.new", expected_version=component.version)


def save_working_copy(engine: Engine) -> None:
    variant = engine.library().components["docs.safety"].variants["de"]
    draft = variant.model_copy(update={"body": "<p>Entwurf</p>", "status": "draft"})
    engine.editor.save_variant("docs.safety", draft, expected_version=variant.version)


def publish_working_copy(engine: Engine) -> None:
    newest = engine.editor.get_variant("docs.safety", "de")
    engine.editor.set_status("docs.safety", "de", "published", expected_version=newest.version)


def unpublish_with_a_working_copy(engine: Engine) -> None:
    save_working_copy(engine)
    newest = engine.editor.get_variant("docs.safety", "de")
    engine.editor.unpublish("docs.safety", "de", expected_version=newest.version)


def edit_publication(engine: Engine) -> None:
    publication = engine.library().publications["service.sheet"]
    retitled = publication.model_copy(update={"title": "Service sheet, revised"})
    engine.editor.save_publication(retitled, expected_version=publication.version)


def import_settings_and_files(engine: Engine, folder: Path) -> None:
    library_yaml = folder / "library.yaml"
    library_yaml.write_text(library_yaml.read_text().replace("NL, BE", "NL, BE, PL"))
    (folder / "assets/brand.css").write_text("body { color: #123; }\n")
    (folder / "assets/nordwind-logo.svg").unlink()
    engine.import_library(folder)


def test_changes_since_apply_to_the_same_library_as_a_snapshot(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = copy_sample(tmp_path)
    steps: list[Callable[[Engine], None]] = [
        edit_variant,
        save_working_copy,
        publish_working_copy,
        unpublish_with_a_working_copy,
        delete_variant,
        add_component,
        archive_component,
        edit_publication,
        lambda engine: import_settings_and_files(engine, folder),
    ]
    with (
        make_engine(db_url) as writer,
        Engine(Settings(db_url=db_url, home=ROOT, refresh=3600)) as reader,
    ):
        writer.import_library(folder)
        reader.block("docs.safety", context("de"))
        snapshots = 0
        whole = reader.repository.live_and_working

        def counted(*, lazy: bool = False) -> object:
            nonlocal snapshots
            snapshots += 1
            return whole(lazy=lazy)

        monkeypatch.setattr(reader.repository, "live_and_working", counted)
        for step in steps:
            step(writer)
            reader.refresh()
            assert reader.library() == writer.repository.load_library(), step
            assert reader.working_library() == writer.repository.load_library(working=True)
            for locale in ("de", "fr"):
                ours = reader.block("docs.safety", context(locale))
                assert ours.html == writer.block("docs.safety", context(locale)).html
        assert snapshots == 0, "every refresh read only the changes"
        assert "PL" in reader.library().settings.regions["EU"]


def test_too_many_changes_read_a_whole_snapshot(db_url: str, tmp_path: Path) -> None:
    with make_engine(db_url) as engine:
        engine.import_library(copy_sample(tmp_path))
        revision = engine.repository.revision()
        edit_variant(engine)
        changes = engine.repository.changes_since(revision)
        assert changes is not None and set(changes.components) == {"docs.safety"}
        assert engine.repository.changes_since(revision, limit=0) is None
        assert engine.repository.changes_since(0) is None
        assert engine.repository.changes_since(revision + 1) == type(changes)(revision + 1)
