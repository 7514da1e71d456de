"""A library loads from its rows without compiling or validating them again, and out of the
garbage collector's sight; import and save still refuse what will not compile."""

from __future__ import annotations

import gc
from collections.abc import Sequence
from pathlib import Path

import pytest

from content_engine.core.errors import (
    DatabaseUnavailable,
    LibraryFormatError,
    LibraryIntegrityError,
)
from content_engine.core.models import Component, Variant
from content_engine.core.table import ComponentHead
from content_engine.core.templates import compile as compile_module
from content_engine.engine import Engine, bodycache, parallel
from content_engine.settings import Settings
from content_engine.store import Repository
from tests.support.engine_factory import ROOT, make_engine, write_files
from tests.support.factories import context

# Many bodies of one shape, so the import checks most of them by their shape alone.
SHAPED = 40
LIBRARY = (
    {
        "library.yaml": "default_locale: en\nlocales: [en, de]\nregions: {DACH: [DE, AT]}\n",
        "c/legal/component.yaml": "id: legal\ntype: snippet\n",
        "c/legal/any.html": "<p>legal</p>\n",
        "c/page/component.yaml": "id: page\ntype: article\n",
        "c/page/en.html": "---\nlocale: en\nvalid_from: 2026-01-01\nvalid_until: 2027-06-30\n---\n"
        '<p data-region="DACH">Hi {{ customer.name }}</p><ce-include component="legal"/>\n',
        "c/page/de.html": "---\nlocale: de\ntranslated_from: {variant: en, version: 1}\n---\n"
        "<p>Hallo {{ customer.name }}</p>\n",
    }
    | {f"c/s{i:02d}/component.yaml": f"id: s{i:02d}\ntype: snippet\n" for i in range(SHAPED)}
    | {
        f"c/s{i:02d}/any.html": f"<p class='n{i}'>Text {i} &amp; {{{{ customer.name }}}}</p>\n"
        for i in range(SHAPED)
    }
)


@pytest.fixture(autouse=True)
def _pool_for_small_libraries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "CHUNK_COMPONENTS", 2)


def test_loading_compiles_nothing_and_the_first_block_renders_as_compiled(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with make_engine(db_url) as engine:
        engine.import_library(write_files(tmp_path / "lib", LIBRARY))
    compiled: list[str] = []
    real = bodycache.compile_body

    def spy(body: str, *args: object, **kwargs: object) -> compile_module.CompiledBody:
        compiled.append(body)
        return real(body, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(bodycache, "compile_body", spy)
    with make_engine(db_url) as engine:
        library = engine.library()
        assert compiled == [], "loading a library compiles no body"
        assert gc.get_freeze_count() > 0, "the loaded library is out of the collector's way"
        block = engine.block("page", context("en", region="AT", customer={"name": "Ann"}))
        assert block.html == "<p>Hi Ann</p><p>legal</p>\n\n"
        assert len(compiled) == 2, "the block and its include, compiled on first use"
        engine.block("page", context("en", region="AT", customer={"name": "Bob"}))
        assert len(compiled) == 2, "and only once"
        en, de = (
            library.components["page"].variants["en"],
            library.components["page"].variants["de"],
        )
    # Built from the rows without validating, as validating them would have built them.
    for loaded in (en, de, library.components["s07"].variants["any"]):
        assert Variant.model_validate(loaded.model_dump()) == loaded
    assert en.valid_from is not None and en.valid_from.tzinfo is not None
    assert de.translated_from is not None and de.translated_from.version == 1
    assert en.conditions is library.components["page"].variants["en"].conditions
    first, other = (library.components[c].variants["any"] for c in ("s01", "s02"))
    assert first.conditions is other.conditions, "equal conditions are one shared object"


@pytest.mark.parametrize(
    "broken",
    [
        "<p class='n3'>Text 3 &amp; {{ customer.name customer }}</p>\n",
        "<p class='n3'>Text 3 &amp; {{ customer.name|no_such_filter }}</p>\n",
        "<p class='n3'>Text 3 {% autoescape false %}{{ customer.name }}{% endautoescape %}</p>\n",
        "<p class='n3'>Text 3 &amp; {{ customer.name }}</div>\n",
    ],
)
def test_import_refuses_a_broken_body_among_many_of_one_shape(
    db_url: str, tmp_path: Path, broken: str
) -> None:
    files = LIBRARY | {"c/s33/any.html": broken}
    with make_engine(db_url) as engine, pytest.raises(LibraryFormatError, match=r"s33/any\.html"):
        engine.import_library(write_files(tmp_path / "lib", files))
    with Repository(db_url) as repository:
        assert repository.load_library().components == {}, "refused whole"


def test_save_refuses_a_broken_body_after_a_lazy_load(db_url: str, tmp_path: Path) -> None:
    with make_engine(db_url) as engine:
        engine.import_library(write_files(tmp_path / "lib", LIBRARY))
    with make_engine(db_url) as engine:
        held = engine.library().components["s05"].variants["any"]
        for body in ("<p>{{ customer.name|no_such_filter }}</p>", "<p>{% for x in y %}</p>"):
            with pytest.raises(LibraryFormatError):
                engine.editor.save_variant(
                    "s05", held.model_copy(update={"body": body}), expected_version=held.version
                )
        assert engine.editor.get_variant("s05", "any").version == held.version


def test_a_save_reads_only_what_it_changes_once_the_includes_are_known(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The include graph checked on every save reads a component's includes by its stored
    versions: after the first save, the library's other components are not read again."""
    with make_engine(db_url) as engine:
        engine.import_library(write_files(tmp_path / "lib", LIBRARY))
    with make_engine(db_url) as engine:
        fetched: list[str] = []
        real = engine.repository.components_for

        def counted(heads: Sequence[ComponentHead]) -> dict[str, Component]:
            fetched.extend(head.id for head in heads)
            return real(heads)

        monkeypatch.setattr(engine.repository, "components_for", counted)
        library = engine.library()  # its table fetches through ``counted``
        plain = dict(library.components.items())
        fetched.clear()
        found = engine.includes_in(library.components)
        assert sorted(fetched) == sorted(plain), "the first time, every component once"
        fetched.clear()
        assert engine.includes_in(library.components) == found and fetched == []
        assert found == {(c.id, k): v for c in plain.values() for k, v in own(engine, c)}
        held = library.components["s05"].variants["any"]
        fetched.clear()
        edited = held.model_copy(update={"body": '<p>x</p><ce-include component="legal"/>'})
        engine.editor.save_variant("s05", edited, expected_version=held.version)
        assert fetched == [], "nothing read again to check the graph"
        cycle = held.model_copy(update={"body": '<ce-include component="s05"/>'})
        with pytest.raises(LibraryIntegrityError, match="cycle"):
            engine.editor.save_variant("s05", cycle, expected_version=held.version + 1)


def own(engine: Engine, component: Component) -> list[tuple[str, tuple[str, ...]]]:
    """Each variant's includes as a fresh compile reads them."""
    return [
        (key, compile_module.compile_body(variant.body, engine.sandbox).includes)
        for key, variant in component.variants.items()
    ]


@pytest.mark.parametrize("missing", ["the block's own", "its include"])
def test_a_component_not_held_while_the_database_is_gone_is_unavailable_not_broken(
    tmp_path: Path, missing: str
) -> None:
    """What a server holds is served without the database; a component it must read is
    ``DatabaseUnavailable`` (503), never a template error, even when an include asks."""
    db = tmp_path / "gone.db"
    with make_engine(f"sqlite:///{db}") as engine:
        engine.import_library(write_files(tmp_path / "lib", LIBRARY))
    settings = Settings(db_url=f"sqlite:///{db}", home=ROOT, refresh=3600)
    with Engine(settings) as engine:
        reader = context("en", region="AT", customer={"name": "Ann"})
        held = engine.block("s01", reader)
        if missing == "its include":
            engine.library().components["page"]  # held; what it includes ("legal") is not
        db.unlink()
        assert engine.block("s01", reader) == held
        with pytest.raises(DatabaseUnavailable):
            engine.block("page", reader)
