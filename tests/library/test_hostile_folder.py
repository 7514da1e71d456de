"""A hostile library folder: symlinks, FIFOs, devices, huge files, YAML bombs, deep nesting.

Real folders under ``tmp_path``, real symlinks and FIFOs. Anything that could hang runs in a
thread joined with a generous bound, so a regression fails instead of stalling the suite.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from content_engine.core.errors import InputError, LibraryFormatError
from content_engine.files import regular
from content_engine.library import FolderLimits, load_library, write_library
from tests.library.test_read_write import MINIMAL, make_library
from tests.support.servers import run_cli

HANG_SECONDS = 60  # far above any real run: only a hang gets near it

# Every place the loader reads a file from, as (relative path, valid content).
READ_PLACES: dict[str, str] = {
    "library.yaml": "default_locale: en\n",
    "c/comp.a/component.yaml": "id: comp.a\ntype: snippet\n",
    "c/comp.a/en.html": "<p>A</p>\n",
    "publications/pub.yaml": "title: P\nslots: [{component: comp.a}]\n",
    "assets/logo.svg": "<svg/>",
    "renderers/mine/page.html": "{{ title }}",
}


def finishes(fn: Callable[[], Any]) -> Any:
    """``fn()``'s result or exception, asserting it does not hang."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(fn())
        except BaseException as exc:  # handed to the test
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(HANG_SECONDS)
    assert not thread.is_alive(), "reading the library folder hung"
    return outcome[0]


def refused(root: Path, limits: FolderLimits | None = None) -> LibraryFormatError:
    result = finishes(lambda: load_library(root, limits))
    assert isinstance(result, LibraryFormatError), result
    return result


def library_with(tmp_path: Path) -> Path:
    return make_library(tmp_path / "lib", READ_PLACES)


def test_the_full_library_loads(tmp_path: Path) -> None:
    lib = load_library(library_with(tmp_path))
    assert set(lib.files) == {"assets/logo.svg", "renderers/mine/page.html"}
    assert list(lib.publications) == ["pub"]


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    outside = tmp_path / "outside" / "secret.txt"
    outside.parent.mkdir()
    outside.write_text("default_locale: en\n# the host's secret\n")
    return outside


@pytest.mark.parametrize("place", sorted(READ_PLACES))
def test_a_symlink_leaving_the_folder_is_refused(tmp_path: Path, secret: Path, place: str) -> None:
    root = library_with(tmp_path)
    (root / place).unlink()
    (root / place).symlink_to(secret)
    error = refused(root)
    assert error.file == place and "leads out of the library folder" in error.message


@pytest.mark.parametrize("place", sorted(READ_PLACES))
def test_a_hard_link_is_refused_wherever_its_other_name_is(
    tmp_path: Path, secret: Path, place: str
) -> None:
    root = library_with(tmp_path)
    (root / place).unlink()
    os.link(secret, root / place)
    error = refused(root)
    assert error.file == place and "hard link" in error.message
    assert "secret" not in error.message


@pytest.mark.parametrize("place", sorted(READ_PLACES))
def test_a_relative_symlink_climbing_out_is_refused(
    tmp_path: Path, secret: Path, place: str
) -> None:
    root = library_with(tmp_path)
    (root / place).unlink()
    depth = place.count("/") + 1  # up to the folder holding the library and "outside"
    (root / place).symlink_to(Path(*[".."] * depth, "outside", "secret.txt"))
    assert "leads out" in refused(root).message


@pytest.mark.parametrize("place", sorted(READ_PLACES))
def test_a_symlink_to_a_device_is_refused_at_once(tmp_path: Path, place: str) -> None:
    root = library_with(tmp_path)
    (root / place).unlink()
    (root / place).symlink_to("/dev/zero")
    assert refused(root).file == place


def test_a_symlink_staying_inside_is_followed(tmp_path: Path) -> None:
    root = library_with(tmp_path)
    (root / "assets/shared").mkdir()
    (root / "assets/shared/logo.svg").write_text("<svg id='real'/>")
    (root / "assets/logo.svg").unlink()
    (root / "assets/logo.svg").symlink_to("shared/logo.svg")
    files = load_library(root).files
    assert files["assets/logo.svg"] == files["assets/shared/logo.svg"] == b"<svg id='real'/>"


@pytest.mark.parametrize("folder", ["assets", "renderers", "publications", "c", "c/comp.a"])
def test_a_symlinked_folder_is_refused(tmp_path: Path, folder: str) -> None:
    root = library_with(tmp_path)
    real = tmp_path / "elsewhere"
    os.rename(root / folder, real)
    (root / folder).symlink_to(real)
    error = refused(root)
    assert "symlinked folder" in error.message and error.file == folder


@pytest.mark.parametrize("place", sorted(READ_PLACES))
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path, place: str) -> None:
    root = library_with(tmp_path)
    (root / place).unlink()
    os.mkfifo(root / place)
    error = refused(root)
    assert error.file == place and "FIFO" in error.message


def test_a_fifo_in_a_folder_nobody_reads_is_left_alone(tmp_path: Path) -> None:
    root = library_with(tmp_path)
    (root / "notes").mkdir()
    os.mkfifo(root / "notes" / "pipe")
    assert finishes(lambda: load_library(root)).components


def test_a_symlinked_library_folder_itself_is_fine(tmp_path: Path) -> None:
    root = library_with(tmp_path)
    (tmp_path / "link").symlink_to(root)
    assert load_library(tmp_path / "link") == load_library(root)


@pytest.mark.parametrize("place", sorted(READ_PLACES))
def test_each_file_is_bounded(tmp_path: Path, place: str) -> None:
    root = library_with(tmp_path)
    size = len(READ_PLACES[place].encode())
    assert load_library(root, FolderLimits(max_file_bytes=100))
    (root / place).write_bytes(READ_PLACES[place].encode() + b" " * (101 - size))
    error = refused(root, FolderLimits(max_file_bytes=100))
    assert error.file == place and "over the limit of 100 bytes" in error.message


def test_the_whole_library_is_bounded(tmp_path: Path) -> None:
    root = library_with(tmp_path)
    for n in range(20):
        (root / f"assets/{n}.png").write_bytes(b"x" * 100)
    limits = FolderLimits(max_file_bytes=1000, max_library_bytes=1500)
    assert "add up to over 1500 bytes" in refused(root, limits).message


def test_the_number_of_entries_is_bounded(tmp_path: Path) -> None:
    root = library_with(tmp_path)
    for n in range(50):
        (root / f"assets/{n}.txt").write_text("")
    assert "over 40 entries" in refused(root, FolderLimits(max_entries=40)).message


# --- YAML --------------------------------------------------------------------------------------

# Each YAML place, and how to put a YAML document there.
YAML_PLACES: dict[str, Callable[[str], str]] = {
    "library.yaml": lambda doc: doc,
    "c/comp.a/component.yaml": lambda doc: "id: comp.a\ntype: snippet\n" + doc,
    "c/comp.a/en.html": lambda doc: f"---\n{doc}---\n<p>A</p>\n",
    "publications/pub.yaml": lambda doc: "title: P\n" + doc,
}


def billion_laughs(levels: int, width: int) -> str:
    lines = ["a0: &a0 [lol]"]
    for n in range(1, levels):
        refs = ", ".join([f"*a{n - 1}"] * width)
        lines.append(f"a{n}: &a{n} [{refs}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("place", sorted(YAML_PLACES))
def test_an_alias_bomb_is_refused_quickly(tmp_path: Path, place: str) -> None:
    bomb = billion_laughs(10, 9)  # under 1 kB; 9**9 items if expanded
    assert len(bomb) < 1000
    root = library_with(tmp_path)
    (root / place).write_text(YAML_PLACES[place](bomb))
    error = refused(root)
    assert error.file == place and "aliases" in error.message and error.line is not None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    anchor=st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True),
    key=st.sampled_from(["title", "name", "x", "<<"]),
    place=st.sampled_from(sorted(YAML_PLACES)),
    flow=st.booleans(),
)
def test_any_alias_is_refused(
    tmp_path_factory: pytest.TempPathFactory, anchor: str, key: str, place: str, flow: bool
) -> None:
    """Aliases in any position and style (merge keys included), in every YAML file."""
    target = f"{{{key}: *{anchor}}}" if flow else f"\n  {key}: *{anchor}"
    doc = f"zz_first: &{anchor} {{v: 1}}\nzz_second: {target}\n"
    root = library_with(tmp_path_factory.mktemp("alias"))
    (root / place).write_text(YAML_PLACES[place](doc))
    assert "aliases" in refused(root).message


def nested(depth: int, style: str) -> str:
    if style == "flow-list":
        return "k: " + "[" * depth + "]" * depth + "\n"
    if style == "flow-map":
        return "k: " + "{a: " * depth + "1" + "}" * depth + "\n"
    if style == "block-list":
        return "k:\n" + "".join("  " * n + "- \n" for n in range(1, depth)) + "  " * depth + "- x\n"
    return "k:\n" + "".join(" " * n + "a:\n" for n in range(1, depth)) + " " * depth + "a: 1\n"


STYLES = ["flow-list", "flow-map", "block-list", "block-map"]


# Block styles indent each level further, so their text grows with the square of the depth.
DEEP = [(d, s) for s in STYLES for d in (65, 1_001)] + [(50_000, s) for s in STYLES[:2]]


@pytest.mark.parametrize(("depth", "style"), DEEP)
def test_deep_nesting_is_a_clear_error(tmp_path: Path, style: str, depth: int) -> None:
    root = library_with(tmp_path)
    (root / "library.yaml").write_text(nested(depth, style))
    error = refused(root)
    assert "nested over 64 levels" in error.message or "nesting" in error.message
    assert error.file == "library.yaml"


@settings(max_examples=30, deadline=None)
@given(depth=st.integers(1, 1_500), style=st.sampled_from(STYLES))
def test_nesting_is_refused_exactly_past_the_bound(
    tmp_path_factory: pytest.TempPathFactory, depth: int, style: str
) -> None:
    """Up to the bound a deep value is the model's to judge; past it, the loader refuses."""
    root = library_with(tmp_path_factory.mktemp("nest"))
    (root / "c/comp.a/component.yaml").write_text(
        "id: comp.a\ntype: snippet\n" + nested(depth, style)
    )
    error = refused(root)  # ``k`` is no component key either way
    # The document's own nesting is one deeper than ``depth`` (the top mapping).
    if depth + 1 > 64:
        assert "levels deep" in error.message or "nesting" in error.message
    else:
        assert "unknown key 'k'" in error.message


def test_many_values_are_bounded(tmp_path: Path) -> None:
    root = library_with(tmp_path)
    (root / "library.yaml").write_text("k: [" + "1, " * 500 + "1]\n")
    assert "values in one document" in refused(root, FolderLimits(max_yaml_nodes=100)).message


# --- through the command line ------------------------------------------------------------------


@pytest.mark.slow
def test_import_refuses_hostile_folders_with_one_line(tmp_path: Path, secret: Path) -> None:
    """The real CLI in a subprocess: exit 2, one line naming the file, no traceback."""
    cases: dict[str, Callable[[Path], None]] = {
        "fifo": lambda root: (
            os.unlink(root / "assets/logo.svg"),
            os.mkfifo(root / "assets/logo.svg"),
        ),
        "bomb": lambda root: (root / "library.yaml").write_text(billion_laughs(10, 9)),
        "deep": lambda root: (root / "library.yaml").write_text(nested(50_000, "flow-list")),
        "link": lambda root: (
            os.unlink(root / "c/comp.a/en.html"),
            os.symlink(secret, root / "c/comp.a/en.html"),
        ),
    }
    db = f"sqlite:///{tmp_path / 'ce.db'}"
    for name, spoil in cases.items():
        root = make_library(tmp_path / name, READ_PLACES)
        spoil(root)
        result = run_cli("import", str(root), "--db", db, cwd=tmp_path, timeout=HANG_SECONDS)
        assert result.returncode == 2, (name, result.stderr)
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert "secret" not in result.stderr + result.stdout


# --- export onto a symlink ---------------------------------------------------------------------


def test_export_through_a_symlinked_folder_keeps_the_link_and_the_files(tmp_path: Path) -> None:
    lib = load_library(make_library(tmp_path / "in", MINIMAL))
    real = make_library(tmp_path / "real", {**MINIMAL, "README.md": "mine\n", ".git/HEAD": "x"})
    link = tmp_path / "link"
    link.symlink_to(real)
    write_library(lib, link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert (real / "README.md").read_text() == "mine\n" and (real / ".git/HEAD").exists()
    assert load_library(link) == load_library(real) == lib
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "link", "real"]  # no leftovers


def test_export_onto_a_dangling_symlink_is_refused(tmp_path: Path) -> None:
    lib = load_library(make_library(tmp_path / "in", MINIMAL))
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    with pytest.raises(InputError, match="symlink to nothing"):
        write_library(lib, tmp_path / "link")
    assert not (tmp_path / "nowhere").exists()


# --- a file swapped between the check and the open ---------------------------------------------


@pytest.mark.parametrize("swap_to", ["symlink", "fifo"])
def test_a_file_swapped_after_its_check_is_still_refused(
    tmp_path: Path, secret: Path, swap_to: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The interleaving forced: lstat sees a regular file, then it is replaced before open."""
    root = library_with(tmp_path)
    target = root / "assets/logo.svg"
    real_stat = os.stat

    def stat_then_swap(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        result = real_stat(path, *args, **kwargs)
        if path == "logo.svg" and kwargs.get("dir_fd") is not None and target.is_file():
            target.unlink()
            if swap_to == "symlink":
                target.symlink_to(secret)
            else:
                os.mkfifo(target)
        return result

    monkeypatch.setattr(regular.os, "stat", stat_then_swap)
    error = refused(root)
    assert error.file == "assets/logo.svg"
    assert ("leads out" if swap_to == "symlink" else "FIFO") in error.message


# --- assets: served to browsers, so only allow-listed types and bounded sizes --------------


@pytest.mark.parametrize("name", ["evil.js", "page.mjs", "noext", "x.svg.exe", "a.PHP"])
def test_an_asset_of_a_type_not_served_stops_the_import(tmp_path: Path, name: str) -> None:
    root = library_with(tmp_path)
    (root / "assets" / name).write_bytes(b"alert(1)")
    error = refused(root)
    assert error.file == f"assets/{name}" and "not an asset type" in error.message


def test_assets_are_bounded_each_and_together(tmp_path: Path) -> None:
    root = library_with(tmp_path)
    (root / "assets/big.png").write_bytes(b"x" * 300)
    one = refused(root, FolderLimits(max_asset_bytes=200))
    assert one.file == "assets/big.png" and "over the limit of 200 bytes" in one.message
    for n in range(5):
        (root / f"assets/{n}.png").write_bytes(b"x" * 100)
    total = refused(root, FolderLimits(max_assets_bytes=500))
    assert "assets add up to over 500 bytes" in total.message


def test_upper_case_extensions_of_allowed_types_load(tmp_path: Path) -> None:
    root = library_with(tmp_path)
    (root / "assets/PHOTO.JPG").write_bytes(b"\xff\xd8")
    assert "assets/PHOTO.JPG" in load_library(root).files
