"""A translation names what it was translated from (CONTRACT 10): front matter and store,
kept through every round trip (the API and the workbench: tests/web/ui/test_translated_from.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from content_engine.core.errors import LibraryFormatError
from content_engine.core.models import TranslatedFrom
from content_engine.library import load_library, write_library
from tests.support.engine_factory import make_engine, write_files

LIBRARY = {
    "library.yaml": "default_locale: en\n",
    "snippets/snippet.hello/component.yaml": "id: snippet.hello\ntype: snippet\n",
    "snippets/snippet.hello/en.html": "<p>Hello.</p>\n",
    "snippets/snippet.hello/de.html": (
        "---\nlocale: de\ntranslated_from: {variant: en, version: 1}\n---\n<p>Hallo.</p>\n"
    ),
}
SOURCE = TranslatedFrom(variant="en", version=1)


def test_front_matter_reads_and_writes_it(tmp_path: Path) -> None:
    library = load_library(write_files(tmp_path / "in", LIBRARY))
    hello = library.components["snippet.hello"]
    assert hello.variants["de"].translated_from == SOURCE
    assert hello.variants["en"].translated_from is None
    write_library(library, tmp_path / "out")
    written = (tmp_path / "out" / "snippets" / "snippet.hello" / "de.html").read_text()
    assert "translated_from:" in written and "variant: en" in written
    assert "translated_from" not in (tmp_path / "out/snippets/snippet.hello/en.html").read_text()
    assert load_library(tmp_path / "out") == library


@pytest.mark.parametrize(
    "value",
    ["{variant: en}", "{variant: en, version: 0}", "{variant: '../x', version: 1}", "en", "[1]"],
)
def test_a_malformed_record_is_located(tmp_path: Path, value: str) -> None:
    files = {**LIBRARY, "snippets/snippet.hello/de.html": f"---\ntranslated_from: {value}\n---\n"}
    with pytest.raises(LibraryFormatError, match=r"de\.html"):
        load_library(write_files(tmp_path, files))


def test_the_store_keeps_it_and_export_writes_it(db_url: str, tmp_path: Path) -> None:
    with make_engine(db_url) as engine:
        engine.import_library(write_files(tmp_path / "in", LIBRARY))
        assert engine.editor.get_variant("snippet.hello", "de").translated_from == SOURCE
        engine.export_library(tmp_path / "out")
        again = engine.import_library(tmp_path / "out")
        assert not again.changed  # the record round-trips: nothing new to store
    exported = load_library(tmp_path / "out").components["snippet.hello"]
    assert exported.variants["de"].translated_from == SOURCE
