"""The engine end to end on a real database: import, lint, assembly, receipts, round trip."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from content_engine.core.errors import (
    LibraryFormatError,
    LibraryIntegrityError,
    NotFound,
    UnresolvedSlot,
)
from content_engine.engine.facade import Engine
from content_engine.library import load_library
from tests.support.engine_factory import SAMPLE, copy_sample, make_engine, write_files
from tests.support.factories import context


@pytest.fixture
def engine(sample_db_url: str) -> Iterator[Engine]:
    with make_engine(sample_db_url) as e:
        yield e


def snapshot(engine: Engine) -> tuple[int, dict[str, object]]:
    library = engine.repository.load_library()
    return engine.repository.revision(), library.model_dump()


def test_sample_library_passes_lint(engine: Engine) -> None:
    assert engine.lint() == []
    assert engine.lint(SAMPLE) == []


def test_readers_get_their_own_documents(engine: Engine) -> None:
    de_at = engine.document("brochure.hp200", context("de-AT", region="AT", role="buyer"))
    fr = engine.document("brochure.hp200", context("fr", region="FR", role="buyer"))
    assert [b.component for b in de_at.blocks] == [b.component for b in fr.blocks]
    assert {b.locale for b in fr.blocks} == {"fr"}
    assert "de-AT" in {b.locale for b in de_at.blocks}
    warranty_at = next(b for b in de_at.blocks if b.component == "legal.warranty")
    warranty_fr = next(b for b in fr.blocks if b.component == "legal.warranty")
    assert warranty_at.variant != warranty_fr.variant
    assert de_at.warnings == []


def test_render_stores_a_receipt_of_exactly_what_was_used(engine: Engine) -> None:
    ctx = context("de", region="DE", role="technician", channel="print")
    rendered = engine.render("manual.hp200", ctx, format="html")
    receipt = engine.repository.get_receipt(rendered.receipt.id)
    assert receipt.publication == "manual.hp200"
    assert receipt.context == ctx
    used = {(u.component, u.variant) for u in receipt.used}
    assert ("docs.hp200.maintenance", "de-technician") in used
    assert ("snippet.r290-notice", "de") in used  # included by docs.safety
    import hashlib

    assert receipt.sha256 == hashlib.sha256(rendered.content).hexdigest()


def test_unknown_names_are_bad_input(engine: Engine) -> None:
    with pytest.raises(NotFound, match="unknown publication 'nope'"):
        engine.document("nope", context())
    with pytest.raises(NotFound, match="unknown component 'nope'"):
        engine.block("nope", context())


def test_required_slot_without_variant_fails_naming_component_and_context(
    db_url: str, tmp_path: Path
) -> None:
    lib = write_files(
        tmp_path / "lib",
        {
            "library.yaml": "default_locale: en\nlocales: [en]\n",
            "c/only.fr/component.yaml": "id: only.fr\ntype: snippet\ntitle: French only\n",
            "c/only.fr/fr.html": "---\nlocale: fr\n---\n<p>Bonjour</p>\n",
            "publications/p.yaml": (
                "id: p\ntitle: P\nslots: [{component: only.fr, required: true}]\n"
            ),
        },
    )
    with make_engine(db_url) as engine:
        engine.import_library(lib)
        with pytest.raises(
            UnresolvedSlot, match=r"required component only\.fr: .*locale=de role=buyer"
        ):
            engine.document("p", context("de", role="buyer"))


def test_import_is_all_or_nothing(engine: Engine, tmp_path: Path) -> None:
    before = snapshot(engine)
    broken = copy_sample(tmp_path)
    (broken / "products/product.hp200.overview/en.html").write_text("<p>changed</p>\n")
    target = broken / "legal/legal.privacy/fr.html"
    text = target.read_text()
    target.write_text(text.replace("</p>", "</b>", 1))
    with pytest.raises(LibraryFormatError) as info:
        engine.import_library(broken)
    assert str(info.value).startswith("legal/legal.privacy/fr.html:")
    assert info.value.line is not None and info.value.line > 1
    assert snapshot(engine) == before


def test_import_refuses_include_cycles(engine: Engine, tmp_path: Path) -> None:
    before = snapshot(engine)
    broken = copy_sample(tmp_path)
    hotline = broken / "snippets/snippet.hotline/default.html"
    hotline.write_text(hotline.read_text() + '<ce-include component="brochure.contact"/>\n')
    with pytest.raises(LibraryIntegrityError, match="include cycle"):
        engine.import_library(broken)
    assert snapshot(engine) == before


def test_export_round_trips_without_change(engine: Engine, tmp_path: Path) -> None:
    revision = engine.repository.revision()
    out = tmp_path / "exported"
    engine.export_library(out)
    original = load_library(SAMPLE)
    exported = load_library(out)
    assert exported.model_dump() == original.model_dump()
    engine.import_library(out)
    assert engine.repository.revision() == revision


def test_changed_variant_gets_a_new_version_and_history(engine: Engine, tmp_path: Path) -> None:
    lib = copy_sample(tmp_path)
    path = lib / "products/product.hp200.overview/de.html"
    path.write_text(path.read_text().replace("HP200", "HP200 Plus", 1))
    engine.import_library(lib)
    block = engine.block("product.hp200.overview", context("de"))
    assert block.version == 2 and "HP200 Plus" in block.html
    history = engine.repository.variant_history("product.hp200.overview", "de")
    assert [v.version for v in history] == [1, 2]
    other = engine.block("product.hp200.overview", context("fr"))
    assert other.version == 1


@pytest.mark.parametrize(
    ("locale", "model", "serial"),
    [
        ("de-AT", "Modell", "Seriennummer"),
        ("fr-CH", "Modèle", "Numéro de série"),
        ("en", "Model", "Serial number"),
    ],
)
def test_engine_strings_come_from_the_catalogs(
    engine: Engine, locale: str, model: str, serial: str
) -> None:
    ctx = context(locale, customer={"name": "A"}, product={"model": "HP200", "serial": "X"})
    html = engine.block("service.customer-summary", ctx).html
    assert f"<th>{model}</th>" in html
    assert f"<th>{serial}</th>" in html


def test_plural_forms_follow_the_locale(engine: Engine) -> None:
    catalogs = engine.catalogs
    assert catalogs.for_locale("de-AT").ngettext("{n} page", "{n} pages", 1) == "{n} Seite"
    assert catalogs.for_locale("fr").ngettext("{n} page", "{n} pages", 2) == "{n} pages"
    assert catalogs.for_locale("de").ngettext("{n} page", "{n} pages", 3) == "{n} Seiten"


def test_replay_after_a_used_component_was_archived(engine: Engine) -> None:
    ctx = context("fr", region="FR", role="technician")
    first = engine.render("manual.hp200", ctx, format="html")
    current = engine.repository.get_component("docs.disposal")
    engine.editor.archive_component("docs.disposal", expected_version=current.version)
    assert "docs.disposal" not in {b.component for b in engine.document("manual.hp200", ctx).blocks}
    again = engine.replay(first.receipt.id)
    assert again.content == first.content


@pytest.mark.parametrize(
    ("locale", "title"),
    [
        ("de-AT", "HP200 Installations- und Wartungsanleitung"),
        ("fr-CA", "HP200 : manuel d'installation et d'entretien"),
        ("en-US", "HP200 installation and maintenance manual"),
        ("ja", "HP200 installation and maintenance manual"),
    ],
)
def test_publication_titles_follow_the_fallback_chain(
    engine: Engine, locale: str, title: str
) -> None:
    assert engine.document("manual.hp200", context(locale)).title == title


def test_slot_titles_are_localized(db_url: str, tmp_path: Path) -> None:
    lib = write_files(
        tmp_path / "lib",
        {
            "library.yaml": "default_locale: en\nlocales: [en, de]\n",
            "c/a/component.yaml": "id: a\ntype: snippet\n",
            "c/a/x.html": "<p>a</p>\n",
            "publications/p.yaml": (
                "id: p\ntitle: P\ntitles: {de_AT: Ö}\n"
                "slots: [{component: a, title: Intro, titles: {de: Einleitung}}]\n"
            ),
        },
    )
    with make_engine(db_url) as engine:
        engine.import_library(lib)
        document = engine.document("p", context("de-AT"))
        assert (document.title, document.blocks[0].title) == ("Ö", "Einleitung")
        document = engine.document("p", context("fr"))
        assert (document.title, document.blocks[0].title) == ("P", "Intro")
        engine.export_library(tmp_path / "out")
        assert "titles: {de-AT: Ö}" in (tmp_path / "out/publications/p.yaml").read_text()
