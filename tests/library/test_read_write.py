"""library/: a library folder to a Library model and back (CONTRACT section 2)."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from content_engine.core.errors import InputError, LibraryFormatError
from content_engine.core.models import (
    AllOf,
    Component,
    Conditions,
    Leaf,
    Library,
    NotOf,
    Publication,
    SegmentRule,
    Slot,
    SlotQuery,
    Variant,
)
from content_engine.library import format_variant, load_library, parse_variant, write_library
from content_engine.library import write as library_write

MINIMAL: dict[str, str | bytes] = {
    "library.yaml": "default_locale: en\n",
    "c/comp.a/component.yaml": "id: comp.a\ntype: snippet\n",
    "c/comp.a/en.html": "<p>A</p>\n",
}


def make_library(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """Write ``files`` (relative path -> dedented text or raw bytes) under ``root``."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content if isinstance(content, bytes) else textwrap.dedent(content).encode()
        path.write_bytes(data)
    return root


def load_error(root: Path) -> LibraryFormatError:
    with pytest.raises(LibraryFormatError) as info:
        load_library(root)
    return info.value


FULL: dict[str, str | bytes] = {
    "library.yaml": """\
        name: Sample
        default_locale: en_GB
        locales: [en, de, de_at]
        regions:
          EU: [DACH, FR]
          DACH: [DE, AT, CH]
        segment_rules:
          - segment: enterprise
            when: {all: [{attr: customer.employees, op: ">=", value: 250},
                         {not: {attr: customer.public, op: exists}}]}
        roles: [buyer, technician]
        segments: [enterprise, smb]
        channels: [print, web]
        """,
    "products/x200/product.x200/component.yaml": """\
        id: product.x200
        type: product-info
        title: X200 overview
        tags: [x200, overview]
        """,
    "products/x200/product.x200/de.html": """\
        ---
        locale: de
        segments: [enterprise]
        roles: [technician]
        regions: [DACH]
        channels: [print]
        priority: 2
        status: review
        valid_from: 2026-01-01
        valid_until: 2026-12-31
        ---
        <h2>X200 für {{ customer.name }}</h2>
        <p data-region="EU -CH">EU-Konformitätserklärung liegt bei.</p>
        """,
    "products/x200/product.x200/en.html": "<h2>X200</h2>\n",
    "legal.warranty/component.yaml": "id: legal.warranty\ntype: legal\n",
    "legal.warranty/default.html": """\
        ---
        valid_from: 2026-03-01T08:30:00+02:00
        valid_until: 2026-04-01T12:00:00Z
        ---
        <p>Warranty</p>
        """,
    "publications/brochure.yaml": """\
        id: brochure
        title: X200 brochure
        layout: classic
        slots:
          - component: product.x200
            required: true
          - query: {type: legal, tags: []}
            title: Legal
        """,
    "assets/img/logo.png": b"\x89PNG\r\n\x1a\n\x00binary",
    "renderers/classic/style.css": "body { margin: 0 }\n",
}


def test_parses_every_key(tmp_path: Path) -> None:
    lib = load_library(make_library(tmp_path, FULL))

    s = lib.settings
    assert s.name == "Sample"
    assert s.default_locale == "en-GB"
    assert s.locales == ("en", "de", "de-AT")
    assert s.regions == {"EU": ("DACH", "FR"), "DACH": ("DE", "AT", "CH")}
    assert s.segment_rules == (
        SegmentRule(
            segment="enterprise",
            when=AllOf(
                all=(
                    Leaf(attr="customer.employees", op=">=", value=250),
                    NotOf.model_validate({"not": {"attr": "customer.public", "op": "exists"}}),
                )
            ),
        ),
    )
    assert (s.roles, s.segments, s.channels) == (
        ("buyer", "technician"),
        ("enterprise", "smb"),
        ("print", "web"),
    )

    assert list(lib.components) == ["legal.warranty", "product.x200"]
    product = lib.components["product.x200"]
    assert (product.type, product.title, product.tags, product.folder) == (
        "product-info",
        "X200 overview",
        ("x200", "overview"),
        "products/x200",
    )
    assert lib.components["legal.warranty"].folder == ""
    de = product.variants["de"]
    assert de.conditions == Conditions(
        locale="de",
        segments=("enterprise",),
        roles=("technician",),
        regions=("DACH",),
        channels=("print",),
    )
    assert (de.priority, de.status) == (2, "review")
    assert de.valid_from == datetime(2026, 1, 1, tzinfo=UTC)
    # A bare valid_until date means the end of that day (exclusive bound: next midnight).
    assert de.valid_until == datetime(2027, 1, 1, tzinfo=UTC)
    assert de.body == (
        "<h2>X200 für {{ customer.name }}</h2>\n"
        '<p data-region="EU -CH">EU-Konformitätserklärung liegt bei.</p>\n'
    )
    warranty = lib.components["legal.warranty"].variants["default"]
    assert warranty.valid_from == datetime(2026, 3, 1, 6, 30, tzinfo=UTC)
    assert warranty.valid_until == datetime(2026, 4, 1, 12, tzinfo=UTC)

    assert lib.publications == {
        "brochure": Publication(
            id="brochure",
            title="X200 brochure",
            layout="classic",
            slots=(
                Slot(component="product.x200", required=True),
                Slot(query=SlotQuery(type="legal"), title="Legal"),
            ),
        )
    }
    assert lib.files == {
        "assets/img/logo.png": b"\x89PNG\r\n\x1a\n\x00binary",
        "renderers/classic/style.css": b"body { margin: 0 }\n",
    }


def test_front_matter_absent_means_defaults_and_verbatim_body(tmp_path: Path) -> None:
    body = "\n<p>A</p>\r\n\n  <p>B</p>"
    lib = load_library(make_library(tmp_path, {**MINIMAL, "c/comp.a/en.html": body.encode()}))
    variant = lib.components["comp.a"].variants["en"]
    assert variant == Variant(key="en", body=body)
    assert variant.conditions.stated() == 0
    assert variant.status == "published"


@pytest.mark.parametrize(
    ("text", "body"),
    [
        ("---\nlocale: de\n---\n<p>x</p>\n", "<p>x</p>\n"),
        # Only the closing line's own newline goes; a blank line after it is body.
        ("---\nlocale: de\n---\n\n<p>x</p>", "\n<p>x</p>"),
        ("---\r\nlocale: de\r\n---\r\n<p>x</p>\r\n", "<p>x</p>\r\n"),
        ("---\nlocale: de\n---", ""),
        ("---\n---\n---\n", "---\n"),
    ],
)
def test_body_after_front_matter_is_verbatim(text: str, body: str) -> None:
    assert parse_variant(text, "de").body == body


def test_underscore_locales_are_normalised(tmp_path: Path) -> None:
    files = {
        **MINIMAL,
        "library.yaml": "default_locale: de_at\nlocales: [zh_hant_tw, pt_BR]\n",
        "c/comp.a/de.html": "---\nlocale: de_AT\n---\n<p>x</p>\n",
    }
    lib = load_library(make_library(tmp_path, files))
    assert lib.settings.default_locale == "de-AT"
    assert lib.settings.locales == ("zh-Hant-TW", "pt-BR")
    assert lib.components["comp.a"].variants["de"].conditions.locale == "de-AT"


def test_hidden_files_and_folders_are_skipped(tmp_path: Path) -> None:
    files = {
        **MINIMAL,
        ".git/config": "[core]\n",
        "c/comp.a/.en.html.swp": b"\x00",
        ".drafts/comp.b/component.yaml": "id: comp.b\ntype: snippet\n",
        "assets/.DS_Store": b"\x00",
        "publications/.old.yaml": "nonsense: [",
    }
    lib = load_library(make_library(tmp_path, files))
    assert list(lib.components) == ["comp.a"]
    assert lib.files == {}
    assert lib.publications == {}


# --- errors ------------------------------------------------------------------------------------


def test_malformed_yaml_names_file_line_and_column(tmp_path: Path) -> None:
    files = {**MINIMAL, "c/comp.a/component.yaml": "id: comp.a\ntype: snippet\n  title: x\n"}
    error = load_error(make_library(tmp_path, files))
    assert (error.file, error.line, error.column) == ("c/comp.a/component.yaml", 3, 8)
    assert str(error).startswith("c/comp.a/component.yaml:3:8: ")
    assert "mapping values are not allowed here" in str(error)


def test_malformed_front_matter_counts_lines_from_the_file_start(tmp_path: Path) -> None:
    files = {**MINIMAL, "c/comp.a/en.html": "---\nlocale: en\nroles: a: b\n---\n<p/>\n"}
    error = load_error(make_library(tmp_path, files))
    assert (error.file, error.line, error.column) == ("c/comp.a/en.html", 3, 9)


def test_malformed_library_yaml(tmp_path: Path) -> None:
    error = load_error(make_library(tmp_path, {**MINIMAL, "library.yaml": "locales: [en\n"}))
    assert error.file == "library.yaml"
    assert error.line == 2
    assert error.code == "malformed_library"


def test_unknown_front_matter_key_is_named(tmp_path: Path) -> None:
    files = {**MINIMAL, "c/comp.a/en.html": "---\nlocale: en\nrole: buyer\n---\n<p/>\n"}
    error = load_error(make_library(tmp_path, files))
    assert str(error).startswith("c/comp.a/en.html:3:1: unknown front-matter key 'role'")
    assert "roles" in str(error)  # the allowed keys are listed


@pytest.mark.parametrize(
    ("rel", "text", "message"),
    [
        (
            "c/comp.a/component.yaml",
            "id: comp.a\ntype: snippet\nfolder: x\n",
            "unknown key 'folder'",
        ),
        ("library.yaml", "default_locale: en\nlocale: [en]\n", "unknown key 'locale'"),
        ("publications/p.yaml", "id: p\ntitle: P\nversion: 3\n", "unknown key 'version'"),
    ],
)
def test_unknown_keys_in_yaml_files(tmp_path: Path, rel: str, text: str, message: str) -> None:
    error = load_error(make_library(tmp_path, {**MINIMAL, rel: text}))
    assert error.file == rel
    assert error.line is not None
    assert message in str(error)


def test_validation_error_names_the_field_and_its_line(tmp_path: Path) -> None:
    files = {**MINIMAL, "c/comp.a/en.html": "---\nlocale: en\npriority: high\n---\n<p/>\n"}
    error = load_error(make_library(tmp_path, files))
    assert str(error).startswith("c/comp.a/en.html:3:1: priority: ")
    assert "integer" in str(error)


def test_missing_component_type_is_named(tmp_path: Path) -> None:
    error = load_error(
        make_library(tmp_path, {**MINIMAL, "c/comp.a/component.yaml": "id: comp.a\n"})
    )
    assert error.file == "c/comp.a/component.yaml"
    assert "missing key 'type'" in str(error)


def test_invalid_locale_tag_points_at_its_key(tmp_path: Path) -> None:
    files = {**MINIMAL, "library.yaml": "default_locale: en\nlocales: [en, not a tag]\n"}
    error = load_error(make_library(tmp_path, files))
    assert (error.file, error.line) == ("library.yaml", 2)
    assert "locales.1: invalid locale tag 'not a tag'" in str(error)


def test_yaml_booleans_get_a_hint(tmp_path: Path) -> None:
    files = {**MINIMAL, "library.yaml": "regions:\n  NORDIC: [SE, NO, DK]\n"}
    error = load_error(make_library(tmp_path, files))
    assert "regions.NORDIC.1" in str(error)
    assert "quote" in str(error)


def test_id_must_equal_folder_name(tmp_path: Path) -> None:
    files = {**MINIMAL, "c/comp.a/component.yaml": "type: snippet\nid: comp.b\n"}
    error = load_error(make_library(tmp_path, files))
    assert (error.file, error.line, error.column) == ("c/comp.a/component.yaml", 2, 1)
    assert "id 'comp.b' does not match its folder name 'comp.a'" in str(error)


def test_publication_id_must_equal_file_stem(tmp_path: Path) -> None:
    files = {**MINIMAL, "publications/a.yaml": "id: b\ntitle: B\n"}
    error = load_error(make_library(tmp_path, files))
    assert error.file == "publications/a.yaml"
    assert "does not match its file name 'a'" in str(error)


def test_duplicate_component_ids_name_both_folders(tmp_path: Path) -> None:
    files = {
        **MINIMAL,
        "d/comp.a/component.yaml": "id: comp.a\ntype: snippet\n",
        "d/comp.a/en.html": "<p/>",
    }
    error = load_error(make_library(tmp_path, files))
    assert "c/comp.a/component.yaml" in str(error)
    assert "d/comp.a/component.yaml" in str(error)


def test_component_without_variant_files(tmp_path: Path) -> None:
    files = {**MINIMAL, "c/comp.b/component.yaml": "id: comp.b\ntype: snippet\n"}
    error = load_error(make_library(tmp_path, files))
    assert error.file == "c/comp.b/component.yaml"
    assert "no variant files" in str(error)


def test_variant_file_without_component_yaml(tmp_path: Path) -> None:
    files = {**MINIMAL, "c/comp.b/component.yml": "id: comp.b\n", "c/comp.b/en.html": "<p/>"}
    error = load_error(make_library(tmp_path, files))
    assert error.file == "c/comp.b/en.html"


def test_stray_file_in_component_folder(tmp_path: Path) -> None:
    error = load_error(make_library(tmp_path, {**MINIMAL, "c/comp.a/notes.txt": "todo"}))
    assert error.file == "c/comp.a/notes.txt"


def test_invalid_variant_key_from_file_name(tmp_path: Path) -> None:
    error = load_error(make_library(tmp_path, {**MINIMAL, "c/comp.a/-x.html": "<p/>"}))
    assert error.file == "c/comp.a/-x.html"
    assert "not a valid variant key" in str(error)


def test_unclosed_front_matter(tmp_path: Path) -> None:
    files = {**MINIMAL, "c/comp.a/en.html": "---\nlocale: en\n<p/>\n"}
    error = load_error(make_library(tmp_path, files))
    assert (error.file, error.line) == ("c/comp.a/en.html", 1)
    assert "not closed" in str(error)


def test_not_utf8(tmp_path: Path) -> None:
    error = load_error(make_library(tmp_path, {**MINIMAL, "c/comp.a/en.html": b"<p>\n\xe9</p>"}))
    assert (error.file, error.line, error.column) == ("c/comp.a/en.html", 2, 1)


def test_missing_library_yaml(tmp_path: Path) -> None:
    files = {k: v for k, v in MINIMAL.items() if k != "library.yaml"}
    assert load_error(make_library(tmp_path, files)).file == "library.yaml"


def test_errors_come_in_sorted_order(tmp_path: Path) -> None:
    files = {
        **MINIMAL,
        "b/comp.b/component.yaml": "id: comp.b\ntype: [\n",
        "a/comp.c/component.yaml": "id: comp.c\ntype: [\n",
    }
    assert load_error(make_library(tmp_path, files)).file == "a/comp.c/component.yaml"


# --- writing -----------------------------------------------------------------------------------


def test_round_trip_load_write_load(tmp_path: Path) -> None:
    original = load_library(make_library(tmp_path / "in", FULL))
    write_library(original, tmp_path / "out")
    assert load_library(tmp_path / "out") == original


def test_round_trip_of_edge_cases(tmp_path: Path) -> None:
    lib = Library(
        components={
            "c": Component(
                id="c",
                type="snippet",
                title="Ünïcode: yes",
                tags=("no", "on", "1"),
                variants={
                    "fence": Variant(key="fence", body="---\n<p>starts like front matter</p>"),
                    "times": Variant(
                        key="times",
                        conditions=Conditions(locale="no", roles=("yes",)),
                        priority=-1,
                        status="archived",
                        valid_from=datetime(2026, 1, 1, 12, 30, 15, tzinfo=UTC),
                        valid_until=datetime(2026, 2, 1, tzinfo=UTC),
                        body="\r\n<p>crlf</p>\r\n",
                    ),
                    "empty": Variant(key="empty"),
                },
            )
        },
        files={"assets/a b/ü.png": bytes(range(256))},
    )
    write_library(lib, tmp_path / "out")
    text = (tmp_path / "out/c/times.html").read_text()
    assert "valid_from: '2026-01-01T12:30:15Z'\n" in text
    assert "valid_until: 2026-01-31\n" in text  # a bare date is the end of that day
    assert load_library(tmp_path / "out") == lib


def test_format_variant_writes_only_non_defaults() -> None:
    variant = Variant(
        key="de",
        conditions=Conditions(locale="de", segments=("enterprise",)),
        status="published",
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        body="<p>x</p>\n",
    )
    assert format_variant(variant) == (
        "---\nlocale: de\nsegments: [enterprise]\nvalid_from: 2026-01-01\n---\n<p>x</p>\n"
    )
    assert format_variant(Variant(key="en", body="<p>x</p>")) == "<p>x</p>"


def test_write_replaces_library_content_and_keeps_the_rest(tmp_path: Path) -> None:
    root = make_library(
        tmp_path / "lib",
        {
            **FULL,
            "README.md": "about this library\n",
            ".git/HEAD": "ref: refs/heads/main\n",
            "products/notes.md": "between component folders\n",
            "drafts/idea.txt": "not a component\n",
            "legal.warranty/images/seal.png": b"\x89PNG",
            "legal.warranty/.notes": "hidden notes\n",
        },
    )
    lib = load_library(root)
    del lib.components["product.x200"]
    lib.files.pop("assets/img/logo.png")
    write_library(lib, root)

    assert load_library(root) == lib
    assert not (root / "products/x200/product.x200").exists()
    assert not (root / "assets/img/logo.png").exists()
    assert (root / "README.md").read_text() == "about this library\n"
    assert (root / ".git/HEAD").read_text() == "ref: refs/heads/main\n"
    assert (root / "products/notes.md").exists()
    assert (root / "drafts/idea.txt").exists()
    assert (root / "legal.warranty/images/seal.png").read_bytes() == b"\x89PNG"
    assert (root / "legal.warranty/.notes").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lib"]  # no temporary folders left


def test_write_into_empty_folder(tmp_path: Path) -> None:
    lib = load_library(make_library(tmp_path / "in", MINIMAL))
    (tmp_path / "out").mkdir()
    write_library(lib, tmp_path / "out")
    assert load_library(tmp_path / "out") == lib


def test_write_refuses_a_folder_that_is_not_a_library(tmp_path: Path) -> None:
    lib = load_library(make_library(tmp_path / "in", MINIMAL))
    (tmp_path / "home").mkdir()
    (tmp_path / "home/precious.txt").write_text("keep me")
    with pytest.raises(InputError, match="not empty"):
        write_library(lib, tmp_path / "home")
    assert os.listdir(tmp_path / "home") == ["precious.txt"]


def test_write_refuses_unsafe_paths(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="folder"):
        Component(id="x", type="t", folder="../outside", variants={"a": Variant(key="a")})
    # A model built without validation is still checked by the writer.
    component = Component.model_construct(
        id="x", type="t", folder="../outside", variants={"a": Variant(key="a")}
    )
    with pytest.raises(InputError, match="folder"):
        write_library(Library(components={"x": component}), tmp_path / "out")
    with pytest.raises(InputError, match="assets/"):
        write_library(Library(files={"../evil": b""}), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_failed_write_leaves_the_old_library(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_library(tmp_path / "lib", {**FULL, "README.md": "mine\n"})
    before = load_library(root)
    calls = 0
    real_write_bytes = Path.write_bytes

    def failing_write_bytes(self: Path, data: bytes) -> int:  # type: ignore[override]
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError("disk full")
        return real_write_bytes(self, data)

    monkeypatch.setattr(Path, "write_bytes", failing_write_bytes)
    smaller = before.model_copy(
        update={"components": {"legal.warranty": before.components["legal.warranty"]}}
    )
    with pytest.raises(OSError, match="disk full"):
        write_library(smaller, root)
    monkeypatch.undo()

    assert load_library(root) == before
    assert (root / "README.md").read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lib"]


def test_failed_swap_puts_user_files_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_library(tmp_path / "lib", {**MINIMAL, "README.md": "mine\n"})
    before = load_library(root)

    def broken_swap(new: Path, old: Path) -> None:
        raise OSError("rename failed")

    monkeypatch.setattr(library_write, "swap_folders", broken_swap)
    with pytest.raises(OSError, match="rename failed"):
        write_library(before, root)
    assert (root / "README.md").read_text() == "mine\n"
    assert load_library(root) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lib"]
