"""The command line's worst values: every command, every bad option, one line and the right exit.

A table of bad ``--db`` URLs runs against every command; bad files (``--context``,
``--contexts``, ``-o``, ``export``'s folder) against every command that takes them. Each run
must print exactly one line, ``error: ...``, on stderr, no traceback, and exit 2 (the input is
wrong) or 1 (the database or disk cannot be used now). Most rows call ``main()`` in-process
(the installed command is ``main``); the examples of issue 10 also run as real processes of
the installed ``content-engine``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from content_engine.cli import main
from tests.support.engine_factory import SAMPLE
from tests.support.mounts import fill, set_read_only, tmpfs
from tests.support.servers import cli_env

PUBLICATION = "brochure.hp200"
COMPONENT = "product.hp200.overview"
READER = ("--locale", "fr", "--region", "FR")


def commands(tmp: Path) -> dict[str, list[str]]:
    """Every command with arguments that work on the sample library (before any bad one)."""
    contexts = tmp / "contexts.jsonl"
    contexts.write_text(json.dumps({"locale": "fr"}) + "\n")
    return {
        "import": ["import", str(SAMPLE)],
        "export": ["export", str(tmp / "exported")],
        "render": ["render", PUBLICATION, *READER],
        "block": ["block", COMPONENT, *READER],
        "explain": ["explain", COMPONENT, *READER],
        "lint": ["lint"],
        "coverage": ["coverage", PUBLICATION],
        "batch": ["batch", PUBLICATION, "--contexts", str(contexts), "--out", str(tmp / "b")],
        "serve": ["serve", "--port", "0"],
        "keys create": ["keys", "create", "--role", "reader"],
        "keys list": ["keys", "list"],
        "keys revoke": ["keys", "revoke", "0123456789ab"],
    }


COMMANDS = [
    "import",
    "export",
    "render",
    "block",
    "explain",
    "lint",
    "coverage",
    "batch",
    "serve",
    "keys create",
    "keys list",
    "keys revoke",
]


def run(capfd: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capfd.readouterr()
    code = main(list(args))
    out, err = capfd.readouterr()
    return code, out, err


def assert_one_line(code: int, err: str, expected: int, *fragments: str) -> None:
    assert "Traceback" not in err
    assert err.startswith("error: ") and err.endswith("\n") and err.count("\n") == 1, err
    assert code == expected, err
    for fragment in fragments:
        assert fragment in err


@pytest.fixture(scope="module")
def library_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One SQLite database holding the sample library, for the rows that need a good one."""
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'sample.db'}"
    assert main(["import", str(SAMPLE), "--db", url]) == 0
    return url


# --- bad databases: every command ---------------------------------------------------------


def _not_a_database(tmp: Path) -> str:
    junk = tmp / "junk.db"
    junk.write_bytes(b"this is not a database file, just text" * 100)
    return f"sqlite:///{junk}"


def _loop(tmp: Path) -> str:
    (tmp / "loop.db").symlink_to(tmp / "loop.db")
    return f"sqlite:///{tmp / 'loop.db'}"


BAD_DATABASES: dict[str, tuple[Callable[[Path], str], int, str]] = {
    # issue 10's examples
    "unreachable server": (lambda _: "postgresql://nouser@127.0.0.1:1/x", 1, "unavailable"),
    "missing folder": (lambda _: "sqlite:////nonexistent/dir/x.db", 2, "does not exist"),
    "driver not installed": (lambda _: "mysql://x", 2, "unsupported database 'mysql'"),
    "not a URL": (lambda _: "notaurl", 2, "not a URL"),
    # and worse
    "no such dialect": (lambda _: "nosuchdb://x/y", 2, "unsupported database"),
    "no such driver": (lambda _: "sqlite+nodriver:///x.db", 2, "driver"),
    "missing PostgreSQL driver": (lambda _: "postgresql+pg8000://u@127.0.0.1:1/x", 2, "driver"),
    "empty scheme": (lambda _: "://", 2, "not a URL"),
    "a folder": (lambda tmp: f"sqlite:///{tmp}", 2, "not a database file"),
    "a file that is no database": (_not_a_database, 1, "not a database"),
    "a symlink loop": (_loop, 1, "cannot be opened"),
    "port out of range": (lambda _: "postgresql://u@127.0.0.1:99999/x", 1, "unavailable"),
    "under a regular file": (lambda tmp: f"sqlite:///{tmp / 'junk.db' / 'x.db'}", 2, "folder"),
    "a bad option value": (lambda tmp: f"sqlite:///{tmp / 'x.db'}?timeout=abc", 2, "option"),
    "an unknown option": (lambda tmp: f"sqlite:///{tmp / 'x.db'}?foo=bar", 2, "'foo'"),
    "an unknown PostgreSQL option": (
        lambda _: "postgresql://u@127.0.0.1:1/x?foo=bar",
        2,
        'invalid connection option "foo"',
    ),
    "a port that is no number": (lambda _: "postgresql://u:secret@h:port/x", 2, "not a URL"),
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("bad", list(BAD_DATABASES))
def test_a_bad_database_is_one_line(
    command: str, bad: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    make, expected, fragment = BAD_DATABASES[bad]
    (tmp_path / "junk.db").write_bytes(b"not a database")
    url = make(tmp_path)
    code, _, err = run(capfd, *commands(tmp_path)[command], "--db", url)
    assert_one_line(code, err, expected, fragment)
    assert "secret" not in err  # a URL may hold a password: never repeated


def test_a_read_only_database_is_one_line(
    tmp_path: Path, library_db: str, capfd: pytest.CaptureFixture[str]
) -> None:
    """SQLite in WAL mode needs to write beside even to read: every command says why not."""
    with tmpfs(tmp_path / "ro", "8m") as folder:
        url = f"sqlite:///{folder / 'x.db'}"
        assert run(capfd, "import", str(SAMPLE), "--db", url)[0] == 0
        set_read_only(folder)
        for args in commands(tmp_path).values():
            code, _, err = run(capfd, *args, "--db", url)
            assert_one_line(code, err, 1, "read-only")
            assert not (folder / "x.db-wal").exists()


# --- bad files: every command that reads or writes one -------------------------------------


def _fifo(tmp: Path) -> Path:
    os.mkfifo(tmp / "fifo")
    return tmp / "fifo"


def _write(name: str, data: bytes) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        (tmp / name).write_bytes(data)
        return tmp / name

    return make


def _huge(tmp: Path) -> Path:
    with (tmp / "huge.json").open("wb") as fh:  # sparse: no disk, but a size over the bound
        fh.truncate(1024 * 1024 * 1024)
    return tmp / "huge.json"


def _symlink_loop(tmp: Path) -> Path:
    (tmp / "loop").symlink_to(tmp / "loop")
    return tmp / "loop"


BAD_INPUTS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "a folder": (lambda tmp: tmp, "not a regular file (a folder)"),
    "a FIFO": (_fifo, "not a regular file (a pipe)"),
    "a device": (lambda _: Path("/dev/zero"), "not a regular file (a device)"),
    "missing": (lambda tmp: tmp / "missing.json", "No such file"),
    "a symlink loop": (_symlink_loop, "symbolic links"),
    "huge": (_huge, "larger than"),
    "undecodable": (_write("bad.json", b'{"locale": "\x80\xff"}'), "cannot read"),
    "deeply nested": (_write("deep.json", b"[" * 100_000 + b"]" * 100_000), "nested deeper"),
    "not JSON": (_write("text.json", b"locale: fr\n"), "1:1"),
    "empty": (_write("empty.json", b""), "1:1"),
    "NUL bytes": (_write("nul.json", b"\0\0\0\0"), ""),
    "an array": (_write("list.json", b"[1, 2]"), "JSON object"),
    "under a file": (lambda tmp: _write("f", b"{}")(tmp) / "x.json", "Not a directory"),
}


@pytest.mark.parametrize("command", ["render", "block", "explain"])
@pytest.mark.parametrize("bad", list(BAD_INPUTS))
def test_a_bad_context_file_is_one_line(
    command: str, bad: str, tmp_path: Path, library_db: str, capfd: pytest.CaptureFixture[str]
) -> None:
    make, fragment = BAD_INPUTS[bad]
    target = COMPONENT if command != "render" else PUBLICATION
    code, _, err = run(capfd, command, target, "--context", str(make(tmp_path)), "--db", library_db)
    assert_one_line(code, err, 2, fragment)


@pytest.mark.parametrize("bad", [b for b in BAD_INPUTS if b not in ("deeply nested", "an array")])
def test_a_bad_contexts_file_for_batch_is_one_line(
    bad: str, tmp_path: Path, library_db: str, capfd: pytest.CaptureFixture[str]
) -> None:
    make, _ = BAD_INPUTS[bad]
    args = ["batch", PUBLICATION, "--contexts", str(make(tmp_path)), "--out", str(tmp_path / "o")]
    code, _, err = run(capfd, *args, "--db", library_db)
    if bad in ("not JSON", "empty", "NUL bytes"):
        return  # readable lines: each bad line is reported and the rest done (batch's tests)
    assert_one_line(code, err, 2)


def _pipe_without_reader(tmp: Path) -> Path:
    return _fifo(tmp)


# Absolute and at the root like issue 10's /missing/dir/file, but this process's own.
MISSING = Path(f"/missing-{os.getpid()}-{time.monotonic_ns()}")
BAD_OUTPUTS: dict[str, tuple[Callable[[Path], Path], int, str]] = {
    "missing folder": (lambda _: MISSING / "dir" / "file", 2, f"folder {MISSING}/dir does not"),
    "missing folder here": (lambda tmp: tmp / "no" / "such" / "f", 2, "does not exist"),
    "a folder": (lambda tmp: tmp, 2, "it is a folder"),
    "under a file": (lambda tmp: _write("f", b"")(tmp) / "x.html", 2, "is not a folder"),
    "a symlink loop": (_symlink_loop, 2, "symbolic links"),
    "a pipe nobody reads": (_pipe_without_reader, 2, "a pipe that nobody reads"),
    "a full device": (lambda _: Path("/dev/full"), 1, "No space left"),
    "in /proc": (lambda _: Path("/proc/forbidden"), 2, "cannot write /proc/forbidden"),
}


@pytest.mark.parametrize("command", ["render", "block", "explain"])
@pytest.mark.parametrize("bad", list(BAD_OUTPUTS))
def test_a_bad_output_is_one_line(
    command: str, bad: str, tmp_path: Path, library_db: str, capfd: pytest.CaptureFixture[str]
) -> None:
    make, expected, fragment = BAD_OUTPUTS[bad]
    args = commands(tmp_path)[command]
    output = make(tmp_path)
    code, out, err = run(capfd, *args, "-o", str(output), "--db", library_db)
    assert_one_line(code, err, expected, fragment)
    assert out == ""
    assert not MISSING.exists()
    assert not (tmp_path / "no").exists()  # no folder was created
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_a_read_only_output_is_one_line(
    tmp_path: Path, library_db: str, capfd: pytest.CaptureFixture[str]
) -> None:
    with tmpfs(tmp_path / "ro") as folder:
        (folder / "old.html").write_text("old")
        set_read_only(folder)
        for name in ("old.html", "new.html"):
            args = ["block", COMPONENT, *READER, "-o", str(folder / name)]
            code, _, err = run(capfd, *args, "--db", library_db)
            assert_one_line(code, err, 2, "Read-only file system")
        assert (folder / "old.html").read_text() == "old"


def test_a_full_disk_leaves_no_half_document(
    tmp_path: Path, library_db: str, capfd: pytest.CaptureFixture[str]
) -> None:
    with tmpfs(tmp_path / "disk", "1m") as disk:
        (disk / "old.html").write_text("the old document")
        filler = fill(disk)
        for name in ("old.html", "new.html"):
            args = ["render", PUBLICATION, *READER, "-o", str(disk / name)]
            code, _, err = run(capfd, *args, "--db", library_db)
            assert_one_line(code, err, 1, "No space left on device")
        assert (disk / "old.html").read_text() == "the old document"  # not truncated
        assert sorted(p.name for p in disk.iterdir()) == ["filler", "old.html"]
        filler.unlink()
        code, _, err = run(capfd, *args, "--db", library_db)
        assert code == 0, err


def test_importing_into_a_full_disk_is_one_line(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    with tmpfs(tmp_path / "disk", "1m") as disk:
        url = f"sqlite:///{disk / 'ce.db'}"
        assert run(capfd, "keys", "list", "--db", url)[0] == 0  # the schema fits
        filler = fill(disk)
        code, _, err = run(capfd, "import", str(SAMPLE), "--db", url)
        assert_one_line(code, err, 1, "full")
        filler.unlink()
        code, _, err = run(capfd, "lint", "--db", url)  # nothing half-imported
        assert_one_line(code, err, 1, "nothing was imported")
        assert run(capfd, "import", str(SAMPLE), "--db", url)[0] == 0


def test_an_output_replaced_keeps_its_mode(
    tmp_path: Path, library_db: str, capfd: pytest.CaptureFixture[str]
) -> None:
    private = tmp_path / "private.html"
    private.write_text("old")
    private.chmod(0o600)
    link = tmp_path / "link.html"
    link.symlink_to(private)
    code, _, err = run(capfd, "block", COMPONENT, *READER, "-o", str(link), "--db", library_db)
    assert code == 0, err
    assert link.is_symlink()  # written through the link, not over it
    assert private.read_text().startswith("<")
    assert private.stat().st_mode & 0o777 == 0o600


def test_a_pipe_with_a_reader_is_written(
    tmp_path: Path, library_db: str, capfd: pytest.CaptureFixture[str]
) -> None:
    fifo = _fifo(tmp_path)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    try:
        # The reader opens the pipe when it is scheduled: writing waits for it, boundedly.
        for _ in range(200):
            code, _, err = run(
                capfd, "block", COMPONENT, *READER, "-o", str(fifo), "--db", library_db
            )
            if code == 0 or "nobody reads" not in err:
                break
            reader.poll()
            time.sleep(0.05)
        assert code == 0, err
        out, _ = reader.communicate(timeout=30)
    finally:
        reader.kill()
    assert out.startswith(b"<")


BAD_EXPORTS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "in /proc": (lambda _: Path("/proc/forbidden"), "forbidden"),
    "under a file": (lambda tmp: _write("f", b"")(tmp) / "lib", "f"),
    "a symlink loop": (_symlink_loop, ""),
}


@pytest.mark.parametrize("bad", list(BAD_EXPORTS))
def test_a_bad_export_folder_is_one_line(
    bad: str, tmp_path: Path, library_db: str, capfd: pytest.CaptureFixture[str]
) -> None:
    make, fragment = BAD_EXPORTS[bad]
    code, _, err = run(capfd, "export", str(make(tmp_path)), "--db", library_db)
    assert_one_line(code, err, 2, fragment)


@pytest.mark.parametrize(
    "folder", [Path("/nonexistent/lib"), Path("/dev/null"), Path("/proc/self/fd/0")]
)
def test_a_bad_import_folder_is_one_line(
    folder: Path, library_db: str, capfd: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capfd, "import", str(folder), "--db", library_db)
    assert_one_line(code, err, 2, "not a folder")


# --- the small things --------------------------------------------------------------------


def test_version(capfd: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    code, out, err = run(capfd, "--version")
    assert (code, out, err) == (0, f"content-engine {version('content-engine')}\n", "")


def test_lint_on_an_empty_repository_says_nothing_was_imported(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    code, out, err = run(capfd, "lint", "--db", url)
    assert_one_line(code, err, 1, "nothing was imported", "content-engine import")
    assert out == ""
    assert run(capfd, "import", str(SAMPLE), "--db", url)[0] == 0
    assert run(capfd, "lint", "--db", url)[0] == 0


def test_output_help_says_folders_are_not_created(capfd: pytest.CaptureFixture[str]) -> None:
    for command in ("render", "block", "explain"):
        code, out, _ = run(capfd, command, "--help")
        assert code == 0
        assert "folder must exist" in " ".join(out.replace("│", " ").split())


# --- real processes of the installed command ------------------------------------------------


@pytest.fixture(scope="module")
def installed() -> list[str]:
    found = Path(sys.executable).parent / "content-engine"
    if not found.exists():
        pytest.skip("the content-engine command is not installed beside this Python")
    return [str(found)]


@pytest.mark.slow
def test_a_full_standard_output_is_one_line(installed: list[str], library_db: str) -> None:
    with open("/dev/full", "wb") as full:
        done = subprocess.run(
            [*installed, "block", COMPONENT, *READER, "--db", library_db],
            env=cli_env(),
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    assert_one_line(done.returncode, done.stderr, 1, "standard output: No space left")


ISSUE_EXAMPLES = [
    (["lint", "--db", "postgresql://nouser@127.0.0.1:1/x"], 1),
    (["lint", "--db", "sqlite:////nonexistent/dir/x.db"], 2),
    (["lint", "--db", "mysql://x"], 2),
    (["lint", "--db", "notaurl"], 2),
    (["export", "/proc/forbidden"], 2),
    (["block", COMPONENT, *READER, "-o", f"{MISSING}/dir/file"], 2),
    (["block", COMPONENT, *READER, "--context", "/dev/zero"], 2),
    (["serve", "--db", "sqlite:////nonexistent/dir/x.db"], 2),
]


@pytest.mark.slow
@pytest.mark.parametrize(("args", "expected"), ISSUE_EXAMPLES)
def test_the_installed_command_prints_one_line(
    args: list[str], expected: int, installed: list[str], library_db: str, tmp_path: Path
) -> None:
    env = cli_env(CONTENT_ENGINE_DB=library_db)
    done = subprocess.run(
        [*installed, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert_one_line(done.returncode, done.stderr, expected)
    assert done.stdout == ""


# --- properties: any bytes as a context file, any text as a database URL --------------------


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    content=st.binary(max_size=300)
    | st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=20,
    ).map(lambda value: json.dumps(value).encode())
)
def test_any_context_file_renders_or_is_one_line(
    content: bytes,
    tmp_path_factory: pytest.TempPathFactory,
    library_db: str,
    capfd: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path_factory.mktemp("ctx") / "context.json"
    path.write_bytes(content)
    code, _, err = run(capfd, "explain", COMPONENT, "--context", str(path), "--db", library_db)
    if code != 0:
        assert_one_line(code, err, 2)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    url=st.text(max_size=40)
    | st.builds(
        "".join,
        st.lists(
            st.sampled_from(["sqlite", "postgresql", "://", "/", "?", "=", "&", "x", ":", "@"]),
            max_size=12,
        ),
    )
)
def test_any_database_url_is_one_line(
    url: str, tmp_path_factory: pytest.TempPathFactory, capfd: pytest.CaptureFixture[str]
) -> None:
    if "\0" in url or not url.strip():
        return  # not an argument a process can receive; empty means the default
    here = tmp_path_factory.mktemp("cwd")
    before = Path.cwd()
    os.chdir(here)  # a URL that names a relative SQLite file creates it here
    try:
        code, _, err = run(capfd, "keys", "list", "--db", url)
    finally:
        os.chdir(before)
    if code != 0:
        assert code in (1, 2)
        assert_one_line(code, err, code)
