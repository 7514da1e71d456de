"""One rule for names (ids, variant keys, folders) and for schedule instants, everywhere.

Whatever the rule accepts exports and imports back identically; whatever it refuses is
refused by every entry point: the models, the HTTP API, the workbench's form, the importer
reading real folders, and the exporter. Hypothesis draws the names.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from content_engine.core.errors import InputError, LibraryFormatError
from content_engine.core.instants import format_instant, parse_instant
from content_engine.core.models import (
    Component,
    Library,
    Publication,
    Slot,
    Variant,
)
from content_engine.core.names import MAX_NAME, NameKind, name_problem
from content_engine.library import load_library, write_library
from content_engine.web.ui.forms import VariantDraft
from tests.library.test_read_write import MINIMAL, make_library
from tests.support.engine_factory import make_engine

# The names the hostile-input report saw accepted, then breaking export for everyone.
ISSUE_FOLDERS = ["../../outside", "/abs", "assets", ".hidden", "a//b", "a/", "x/../y", "a\\b"]
ISSUE_IDS = ["assets", "publications", "renderers", "library.yaml", "a" * 230, "abc\n"]

NAME_CHARS = st.sampled_from("abcXYZ019._-/\\ \n\x00é.")
near_names = st.one_of(
    st.text(NAME_CHARS, max_size=12),
    st.from_regex(r"[a-zA-Z0-9][a-zA-Z0-9._-]{0,20}", fullmatch=True),
    st.sampled_from([*ISSUE_IDS, *ISSUE_FOLDERS, "component.yaml", "x.html", "a" * 201]),
    st.integers(195, 205).map(lambda n: "a" * n),
)
near_folders = st.one_of(
    near_names, st.lists(near_names, min_size=1, max_size=4).map("/".join), st.just("")
)


@pytest.mark.parametrize("folder", ISSUE_FOLDERS)
def test_the_reported_folders_are_refused(folder: str) -> None:
    assert name_problem("folder", folder)


@pytest.mark.parametrize("name", ISSUE_IDS)
def test_the_reported_ids_are_refused(name: str) -> None:
    assert name_problem("component id", name)


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("component id", "product.hp200.overview"),
        ("component id", "a" * MAX_NAME),
        ("publication id", "assets"),  # a file in publications/, not a folder at the top
        ("variant key", "de-AT_2"),
        ("folder", "Products/heat-pumps/v2.0"),
        ("folder", "snippets/assets"),  # reserved only at the top
    ],
)
def test_plain_names_are_accepted(kind: NameKind, name: str) -> None:
    assert name_problem(kind, name) is None


# --- accepted: exports and imports back identically ---------------------------------------------


def library_named(component_id: str, folder: str, key: str, publication_id: str) -> Library:
    component = Component(
        id=component_id, type="t", folder=folder, variants={key: Variant(key=key, body="<p/>")}
    )
    publication = Publication(id=publication_id, title="P", slots=(Slot(component=component_id),))
    return Library(components={component_id: component}, publications={publication_id: publication})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(component_id=near_names, folder=near_folders, key=near_names, publication_id=near_names)
@example("assets", "x/assets", "component", "assets")
def test_accepted_names_round_trip(
    tmp_path_factory: pytest.TempPathFactory,
    component_id: str,
    folder: str,
    key: str,
    publication_id: str,
) -> None:
    problems = [
        name_problem("component id", component_id),
        name_problem("folder", folder),
        name_problem("variant key", key),
        name_problem("publication id", publication_id),
    ]
    if any(problems):
        with pytest.raises(ValidationError):
            library_named(component_id, folder, key, publication_id)
        return
    lib = library_named(component_id, folder, key, publication_id)
    root = tmp_path_factory.mktemp("names") / "lib"
    write_library(lib, root)
    assert load_library(root) == lib
    write_library(load_library(root), root)  # and over itself
    assert load_library(root) == lib


# --- refused: by the importer, reading a real folder -----------------------------------------


def as_file_name(name: str) -> bool:
    """Whether ``name`` can be one file name here, and one the importer looks at (not hidden)."""
    return (
        name not in ("", ".", "..")
        and "/" not in name
        and "\x00" not in name
        and not name.startswith(".")
        and len(os.fsencode(name)) <= 255
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=near_names, kind=st.sampled_from(["component id", "variant key", "publication id"]))
def test_refused_names_are_refused_by_the_importer(
    tmp_path_factory: pytest.TempPathFactory, name: str, kind: NameKind
) -> None:
    if not as_file_name(name):
        return
    files = dict(MINIMAL)
    if kind == "component id":
        files[f"c/{name}/component.yaml"] = "type: t\n"
        files[f"c/{name}/en.html"] = "<p/>"
    elif kind == "variant key":
        files[f"c/comp.a/{name}.html"] = "<p/>"
    else:
        files[f"publications/{name}.yaml"] = "title: P\n"
    try:
        root = make_library(tmp_path_factory.mktemp("imp") / "lib", files)
    except OSError:  # a name this file system cannot hold
        return
    if name_problem(kind, name) is None:
        load_library(root)
    else:
        with pytest.raises(LibraryFormatError):
            load_library(root)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(folder=near_folders)
@example("assets")
@example("a/component.yaml")
@example("x/en.html")
def test_refused_folders_are_refused_by_the_importer(
    tmp_path_factory: pytest.TempPathFactory, folder: str
) -> None:
    segments = folder.split("/")
    if not folder or not all(as_file_name(s) for s in segments):
        return
    files = {
        **MINIMAL,
        f"{folder}/comp.b/component.yaml": "type: t\n",
        f"{folder}/comp.b/en.html": "",
    }
    try:
        root = make_library(tmp_path_factory.mktemp("imp") / "lib", files)
    except OSError:
        return
    if segments[0] in ("assets", "renderers", "publications"):
        # Those folders are the library's own: what is in them is never a component.
        return
    if name_problem("folder", folder) is None:
        assert load_library(root).components["comp.b"].folder == folder
    else:
        with pytest.raises(LibraryFormatError):
            load_library(root)


def test_the_writer_checks_a_library_built_without_validation(tmp_path: Path) -> None:
    for component_id, folder in [("assets", ""), ("ok", "../../outside"), ("ok", "/abs")]:
        bad = Component.model_construct(
            id=component_id, type="t", folder=folder, variants={"en": Variant(key="en")}
        )
        with pytest.raises(InputError, match="cannot be written"):
            write_library(Library(components={component_id: bad}), tmp_path / "out")
        assert not (tmp_path / "out").exists()


# --- instants ------------------------------------------------------------------------------------

EDGES = ["0001-01-01T00:00:00Z", "0001-01-01T12:00:00+01:00", "0001-01-01T23:30:00+01:00"]
EDGES += ["9999-12-31", "9999-12-31T23:59:59Z", "9999-12-31T23:00:00-05:00", "9999-12-30T00:01Z"]


@pytest.mark.parametrize("text", EDGES)
@pytest.mark.parametrize("end_of_day", [False, True])
def test_instants_at_the_edges_are_refused_with_a_value_error(text: str, end_of_day: bool) -> None:
    with pytest.raises(ValueError, match="out of range"):
        parse_instant(text, end_of_day=end_of_day)


def test_a_bare_first_day_is_refused_as_a_start_but_not_as_an_end() -> None:
    """``valid_until: 0001-01-01`` ends on 0001-01-02 00:00, the earliest instant allowed."""
    with pytest.raises(ValueError, match="out of range"):
        parse_instant("0001-01-01")
    assert parse_instant("0001-01-01", end_of_day=True) == datetime(1, 1, 2, tzinfo=UTC)


offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))


@settings(max_examples=300, deadline=None)
@given(
    moment=st.datetimes(timezones=offsets) | st.dates(),
    end_of_day=st.booleans(),
    as_text=st.booleans(),
)
@example(moment=datetime(1, 1, 2, tzinfo=UTC), end_of_day=True, as_text=True)
@example(moment=date(9999, 12, 29), end_of_day=True, as_text=True)
def test_any_accepted_instant_round_trips(
    moment: datetime | date, end_of_day: bool, as_text: bool
) -> None:
    """Parse, write as an author would, parse again: the same instant, or a ValueError first."""
    value: object = moment.isoformat() if as_text else moment
    try:
        instant = parse_instant(value, end_of_day=end_of_day)
    except ValueError:
        return
    assert instant is not None
    written = format_instant(instant, end_of_day=end_of_day)
    text = written if isinstance(written, str) else written.isoformat()
    assert parse_instant(text, end_of_day=end_of_day) == instant


# --- rows stored before the rule: still loaded, refused only where they would do harm ------------


def test_rows_stored_before_the_rule_still_load(db_url: str, tmp_path: Path) -> None:
    """A database written by an older engine (a folder with a space, an instant in year 1)
    loads, shows and renders; only ``export`` refuses, naming the component to fix."""
    with make_engine(db_url) as engine:
        engine.import_library(make_library(tmp_path / "lib", MINIMAL))
        legacy = Component.model_construct(
            id="old.one", type="t", title="", tags=(), folder="My Docs", variants={}, version=0
        )
        engine.repository.save_component(legacy, expected_version=None)
        early = datetime(1, 1, 1, tzinfo=UTC)
        variant = Variant.model_construct(**{**Variant(key="en").__dict__, "valid_until": early})
        engine.repository.save_variant("old.one", variant, expected_version=None)
        stored = engine.library().components["old.one"]
        assert stored.folder == "My Docs" and stored.variants["en"].valid_until == early
        # The workbench's form shows it (it answered 500), in the ISO form that keeps it exact.
        assert VariantDraft.of_variant(stored.variants["en"]).valid_until == "0001-01-01T00:00:00Z"
        with pytest.raises(InputError, match=r"'old.one' cannot be written: 'My Docs' is not"):
            engine.export_library(tmp_path / "out")
        assert not (tmp_path / "out").exists()
