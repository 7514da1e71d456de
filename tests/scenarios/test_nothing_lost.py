"""Nothing lost: racing editors, a killed import, a locked database file, honest receipts.

Each test drives the engine the way an unlucky operator would, from outside: a real ``serve``
process reached over HTTP, ``content-engine import`` as a subprocess killed with SIGKILL, and
another program holding the SQLite write lock. Every subprocess is ended in a ``finally``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import make_url

from content_engine import InputError, RepositoryBusy
from content_engine.core.models import Library
from content_engine.engine.facade import Engine
from content_engine.settings import OPTIONS, Settings
from content_engine.store import Repository
from tests.support.apps import app_client, make_keys
from tests.support.databases import Databases
from tests.support.engine_factory import ROOT, SAMPLE, copy_sample, make_engine, write_files
from tests.support.servers import cli_command, cli_env, run_cli
from tests.web.test_serve import serve

pytestmark = pytest.mark.slow

LOCKED = "error: the database is locked by another writer; try again"


def last_line(text: str) -> str:
    """The CLI's summary: warnings, if any, come before it."""
    return text.strip().splitlines()[-1] if text.strip() else ""


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    assert database, url
    return Path(database)


def integrity_check(url: str) -> str:
    with sqlite3.connect(sqlite_path(url)) as conn:
        (result,) = conn.execute("PRAGMA integrity_check").fetchone()
    return str(result)


def state_of(url: str) -> tuple[int, Library]:
    with Repository(url) as repository:
        return repository.snapshot()


def keys_for(url: str, *roles: str) -> dict[str, str]:
    with Repository(url) as repository:
        return {role: repository.create_key(role, f"test {role}")[1] for role in roles}


def bearer(key: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **headers}


# --- editors racing through the HTTP API ------------------------------------------------------

EDITORS = 4
ROUNDS = 12
RACED = "/v1/components/snippet.hotline/variants/default"


def test_racing_editors_lose_nothing_accepted(sample_db_url: str, tmp_path: Path) -> None:
    """Every round all editors read the same version, then race their PUTs: one wins each.

    Two server processes serve the editors, so the race is decided by the database's write
    lock, not by a lock inside one process.
    """
    url = sample_db_url
    key = keys_for(url, "editor")["editor"]
    # Every editor reads before any writes: one version read per round, so one winner.
    start, read = threading.Barrier(EDITORS), threading.Barrier(EDITORS)
    outcomes: list[tuple[int, str, int, dict[str, Any]]] = []  # round, body, status, json
    failures: list[BaseException] = []
    lock = threading.Lock()

    def edit(name: str, base: str) -> None:
        try:
            with httpx2.Client(base_url=base, headers=bearer(key), timeout=30) as http:
                for round_ in range(ROUNDS):
                    start.wait(timeout=60)
                    got = http.get(RACED)
                    assert got.status_code == 200, got.text
                    body = f'<div class="hotline"><p>{name} wrote round {round_}</p></div>'
                    payload = {**_editable(got.json()), "body": body}
                    read.wait(timeout=60)
                    put = http.put(RACED, json=payload, headers={"If-Match": got.headers["ETag"]})
                    with lock:
                        outcomes.append((round_, body, put.status_code, put.json()))
        except BaseException as exc:
            failures.append(exc)
            start.abort()
            read.abort()

    with serve(url, tmp_path, "--workers", "2") as server:
        with httpx2.Client(base_url=server.url, headers=bearer(key)) as http:
            before = http.get(f"{RACED}/versions").json()
        threads = [
            threading.Thread(target=edit, args=(f"editor-{n}", server.url)) for n in range(EDITORS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not failures, failures
        with httpx2.Client(base_url=server.url, headers=bearer(key)) as http:
            history = http.get(f"{RACED}/versions").json()

    assert len(outcomes) == EDITORS * ROUNDS
    assert {status for *_, status, _ in outcomes} <= {200, 412}, outcomes
    for *_, status, data in outcomes:
        if status == 412:
            assert data["error"]["code"] == "conflict"
    accepted = sorted(
        (data["version"], round_, body) for round_, body, status, data in outcomes if status == 200
    )
    # All editors of a round read the same version, so exactly one of them can win it.
    assert [round_ for _, round_, _ in accepted] == list(range(ROUNDS))
    # What was stored stays as it was; which version is live or the working copy moves on.
    stored = [{k: v for k, v in entry.items() if k not in ("live", "working")} for entry in history]
    assert stored[: len(before)] == [
        {k: v for k, v in entry.items() if k not in ("live", "working")} for entry in before
    ]
    added = history[len(before) :]
    first = before[-1]["version"] + 1
    assert [v["version"] for v in added] == list(range(first, first + ROUNDS))
    assert [(v["version"], v["body"]) for v in added] == [(v, b) for v, _, b in accepted]
    refused = {body for _, body, status, _ in outcomes if status == 412}
    assert refused.isdisjoint(v["body"] for v in history)


def _editable(variant: dict[str, Any]) -> dict[str, Any]:
    fields = ("conditions", "priority", "status", "valid_from", "valid_until", "body")
    return {name: variant[name] for name in fields}


# --- import killed with SIGKILL inside its transaction ----------------------------------------

BIG_COMPONENTS = 3000
BIG_LOCALES = ("en", "de", "fr")
# Assets are stored as blobs: 16 MiB of them overflow SQLite's page cache (2 MiB), so the
# import spills uncommitted pages into the WAL file long before it commits.
BIG_ASSETS, ASSET_BYTES = 32, 512 * 1024
# Kill this long after the import was seen holding the write lock (on SQLite: and writing
# into the WAL); retried with shorter delays if the import committed first.
KILL_DELAYS = (0.05, 0.02, 0.0, 0.0, 0.0)


@pytest.fixture(scope="module")
def big_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A deterministic library: 3,000 components × 3 variants, and 16 MiB of assets."""
    root = tmp_path_factory.mktemp("big") / "library"
    files = {"library.yaml": "default_locale: en\nlocales: [en, de, fr]\n"}
    for n in range(BIG_COMPONENTS):
        cid = f"bulk.c{n:05d}"  # the test below names them the same way
        files[f"bulk/{cid}/component.yaml"] = (
            f"id: {cid}\ntype: snippet\ntitle: Bulk component {n}\ntags: [bulk, g{n % 10}]\n"
        )
        for locale in BIG_LOCALES:
            files[f"bulk/{cid}/{locale}.html"] = (
                f"---\nlocale: {locale}\npriority: {n % 3}\n---\n"
                f"<p>Bulk component {n} in {locale}: {n * 7919 % 100003} units.</p>\n"
            )
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for n in range(BIG_ASSETS):
        (root / "assets").mkdir(exist_ok=True)
        (root / "assets" / f"blob-{n:02d}.png").write_bytes(random.Random(n).randbytes(ASSET_BYTES))
    return root


class WriteLockProbe:
    """Whether another connection holds the repository's write lock (never waits for it).

    On SQLite, also whether that writer has spilled pages into the WAL file yet: uncommitted
    pages on disk, which recovery must ignore after the kill.
    """

    def __init__(self, url: str) -> None:
        self.sqlite = make_url(url).get_backend_name() == "sqlite"
        if self.sqlite:
            self._wal = Path(f"{sqlite_path(url)}-wal")
            self._wal_size = self._wal.stat().st_size if self._wal.exists() else 0
            self._conn: Any = sqlite3.connect(sqlite_path(url), timeout=0, isolation_level=None)
        else:
            import psycopg

            plain = make_url(url).set(drivername="postgresql")
            self._conn = psycopg.connect(plain.render_as_string(hide_password=False))

    def held(self) -> bool:
        if self.sqlite:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc):
                    raise
                return True
            self._conn.execute("ROLLBACK")
            return False
        import psycopg

        try:
            self._conn.execute("SELECT revision FROM library_state WHERE id = 1 FOR UPDATE NOWAIT")
        except psycopg.errors.LockNotAvailable:
            return True
        finally:
            self._conn.rollback()
        return False

    def writing(self) -> bool:
        """On SQLite: the WAL grew since the probe began (PostgreSQL: always true)."""
        if not self.sqlite:
            return True
        return self._wal.exists() and self._wal.stat().st_size > self._wal_size

    def close(self) -> None:
        self._conn.close()


def _kill_inside_import(url: str, big: Path, delay: float, tmp_path: Path) -> bool:
    """Start ``import BIG``, SIGKILL it ``delay`` s after it took the write lock.

    True if the kill landed while the import held the lock; False if the import got through
    its transaction (or never showed the lock) before the kill.
    """
    probe = WriteLockProbe(url)
    log = tmp_path / "import.log"
    try:
        with log.open("wb") as err:
            process = subprocess.Popen(
                cli_command("import", str(big), "--db", url),
                cwd=tmp_path,
                env=cli_env(),
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        try:
            deadline = time.monotonic() + 60
            while process.poll() is None and time.monotonic() < deadline:
                if probe.held() and probe.writing():
                    time.sleep(delay)
                    if probe.held():
                        process.send_signal(signal.SIGKILL)
                        process.wait(timeout=10)
                        return True
                    break
                time.sleep(0.002)
            process.wait(timeout=60)
            assert process.returncode == 0, log.read_text()
            return False
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    finally:
        probe.close()


def test_import_killed_inside_its_transaction_changes_nothing(
    make_db_url: Databases, big_library: Path, tmp_path: Path
) -> None:
    big_ids = {f"bulk.c{n:05d}" for n in range(BIG_COMPONENTS)}
    for delay in KILL_DELAYS:
        url = make_db_url.with_sample()
        revision, library = state_of(url)
        killed = _kill_inside_import(url, big_library, delay, tmp_path)
        after_revision, after = state_of(url)
        if after_revision == revision and after == library:
            if killed:
                break
            pytest.fail("the import neither changed the repository nor was killed")
        # The kill came too late: the import committed first, and then it is whole.
        assert after_revision == revision + 1
        assert set(after.components) == big_ids, "a partial import is visible"
        assert len(after.files) == BIG_ASSETS
    else:
        pytest.fail(f"the import always finished before the kill ({len(KILL_DELAYS)} tries)")

    if make_url(url).get_backend_name() == "sqlite":
        assert integrity_check(url) == "ok"
    done = run_cli("import", str(big_library), "--db", url, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert last_line(done.stderr).startswith(f"revision {revision + 1}: "), done.stderr
    final_revision, final = state_of(url)
    assert final_revision == revision + 1
    assert set(final.components) == big_ids
    assert sum(len(c.variants) for c in final.components.values()) == 3 * BIG_COMPONENTS


# --- the database file locked by another writer -----------------------------------------------


@contextmanager
def write_locked(url: str, *, commit: bool = False) -> Iterator[Callable[[], None]]:
    """Another program in the middle of a write: it holds SQLite's write lock until released.

    Yields ``release``; on leaving, the other writer rolls back (or commits, if asked) anyway.
    """
    conn = sqlite3.connect(sqlite_path(url), timeout=0, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("UPDATE library_state SET revision = revision + 1000 WHERE id = 1")
    released = False

    def release() -> None:
        nonlocal released
        if not released:
            conn.execute("COMMIT" if commit else "ROLLBACK")
            released = True

    try:
        yield release
    finally:
        release()
        conn.close()


@pytest.mark.parametrize(("raw", "seconds"), [("", 30.0), ("0", 0.0), ("2.5", 2.5)])
def test_the_sqlite_wait_is_a_setting(raw: str, seconds: float) -> None:
    env = {"CONTENT_ENGINE_SQLITE_TIMEOUT": raw}
    assert Settings.from_env(env).sqlite_timeout == seconds
    assert "CONTENT_ENGINE_SQLITE_TIMEOUT" in {option.env for option in OPTIONS}


@pytest.mark.parametrize("raw", ["soon", "-1", "nan", "inf", "1e9"])
def test_a_bad_sqlite_wait_is_one_clear_error(raw: str, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="CONTENT_ENGINE_SQLITE_TIMEOUT must be a number"):
        Settings.from_env({"CONTENT_ENGINE_SQLITE_TIMEOUT": raw})
    result = run_cli(
        "import",
        str(SAMPLE),
        "--db",
        f"sqlite:///{tmp_path / 'x.db'}",
        cwd=tmp_path,
        timeout=60,
        CONTENT_ENGINE_SQLITE_TIMEOUT=raw,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: CONTENT_ENGINE_SQLITE_TIMEOUT must be a number")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    with make_engine(url) as engine:
        engine.import_library(SAMPLE)
    return url


@pytest.fixture
def changed_library(tmp_path: Path) -> Path:
    """The sample library with one body changed, so importing it writes a new revision."""
    library = copy_sample(tmp_path)
    hotline = library / "snippets" / "snippet.hotline" / "default.html"
    hotline.write_text('<div class="hotline"><p>Call us.</p></div>\n', encoding="utf-8")
    return library


def test_import_on_a_locked_database_fails_with_one_clear_line(
    sqlite_url: str, changed_library: Path, tmp_path: Path
) -> None:
    revision, library = state_of(sqlite_url)

    def import_changed() -> subprocess.CompletedProcess[str]:
        return run_cli(
            "import",
            str(changed_library),
            "--db",
            sqlite_url,
            cwd=tmp_path,
            timeout=60,
            CONTENT_ENGINE_SQLITE_TIMEOUT="1",
        )

    with write_locked(sqlite_url):
        started = time.monotonic()
        result = import_changed()
        waited = time.monotonic() - started
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip() == LOCKED
    assert "Traceback" not in result.stderr
    assert waited >= 1.0
    assert integrity_check(sqlite_url) == "ok"
    assert state_of(sqlite_url) == (revision, library)
    # Once the other writer is gone, the same command goes through.
    retry = import_changed()
    assert retry.returncode == 0, retry.stderr
    assert state_of(sqlite_url)[0] == revision + 1


def _has_open(pid: int, path: Path) -> bool:
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for fd in fds:
        try:
            if Path(os.readlink(fd)) == path:
                return True
        except OSError:
            continue
    return False


def test_import_waits_for_the_other_writer_then_succeeds(
    sqlite_url: str, changed_library: Path, tmp_path: Path
) -> None:
    revision, _ = state_of(sqlite_url)
    database = sqlite_path(sqlite_url).resolve()
    with write_locked(sqlite_url, commit=True) as release:
        process = subprocess.Popen(
            cli_command("import", str(changed_library), "--db", sqlite_url),
            cwd=tmp_path,
            env=cli_env(CONTENT_ENGINE_SQLITE_TIMEOUT="30"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            # Opened the database, then loaded and checked the folder (well under a second
            # here): by now it waits for the lock, and it must still be waiting.
            deadline = time.monotonic() + 30
            while not _has_open(process.pid, database) and time.monotonic() < deadline:
                assert process.poll() is None, process.communicate()[1]
                time.sleep(0.02)
            time.sleep(2.0)
            assert process.poll() is None, process.communicate()[1]
            release()  # the other writer commits its own change
            _, stderr = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    assert process.returncode == 0, stderr
    # The waiting import decided on the state the other writer left, not on a stale read.
    assert last_line(stderr).startswith(f"revision {revision + 1001}: "), stderr
    assert integrity_check(sqlite_url) == "ok"
    assert state_of(sqlite_url)[0] == revision + 1001


def test_editor_saves_and_receipts_on_a_locked_database_say_so(sqlite_url: str) -> None:
    settings = Settings(db_url=sqlite_url, home=ROOT, sqlite_timeout=0.2)
    with Engine(settings) as engine, app_client(engine, make_keys(engine, ["editor"])) as api:
        client, key = api.client, api.keys["editor"]
        with write_locked(sqlite_url):
            got = client.get(RACED, headers=bearer(key))
            assert got.status_code == 200  # readers are not blocked by a writer
            payload = {**_editable(got.json()), "body": "<p>Locked out.</p>"}
            put = client.put(RACED, json=payload, headers=bearer(key, **{"If-Match": '"1"'}))
            context = {"locale": "en", "region": "US", "role": "buyer"}
            render = client.post(
                "/v1/render",
                json={"publication": "brochure.hp200", "context": context},
                headers=bearer(key),
            )
            with pytest.raises(RepositoryBusy, match="locked by another writer; try again"):
                engine.import_library(SAMPLE)
        for response in (put, render):
            assert response.status_code == 503, response.text
            assert response.headers["Retry-After"] == "1"
            error = response.json()["error"]
            assert error.pop("request_id") == response.headers["X-Request-ID"]
            assert error == {
                "code": "busy",
                "message": "the database is locked by another writer; try again",
                "details": {"waited_seconds": 0.2},
            }
        assert client.get(RACED, headers=bearer(key)).json()["version"] == 1
        # The lock gone, the same write goes through.
        again = client.put(RACED, json=payload, headers=bearer(key, **{"If-Match": '"1"'}))
        assert again.status_code == 200, again.text
    assert integrity_check(sqlite_url) == "ok"


# --- a render receipt matches what was sent ---------------------------------------------------

PAIR_ROUNDS = 25
MARKER = re.compile(r"(lockstep\.[ab]) rev (\d+)")
LOCKSTEP_FILES = {
    "lockstep/lockstep.a/component.yaml": "id: lockstep.a\ntype: snippet\ntitle: A\n",
    "lockstep/lockstep.a/main.html": "<p>lockstep.a rev 0</p>\n",
    "lockstep/lockstep.b/component.yaml": "id: lockstep.b\ntype: snippet\ntitle: B\n",
    "lockstep/lockstep.b/main.html": "<p>lockstep.b rev 0</p>\n",
    # A appears twice: one snapshot per render means both copies show the same version.
    "publications/lockstep.yaml": """
        id: lockstep
        title: Lockstep
        layout: default
        slots:
          - {component: lockstep.a, required: true}
          - {component: lockstep.b, required: true}
          - {component: lockstep.a, required: true}
          - {component: snippet.hotline}
        """,
}


def test_receipts_match_what_was_sent_while_editors_write(tmp_path: Path) -> None:
    """html, json and pdf renders race a writer that moves A then B to the same revision."""
    library = write_files(copy_sample(tmp_path), LOCKSTEP_FILES)
    url = f"sqlite:///{tmp_path / 'receipts.db'}"
    with make_engine(url) as engine:
        engine.import_library(library)
    keys = keys_for(url, "agent", "editor")
    versions: dict[str, dict[int, int]] = {"lockstep.a": {1: 0}, "lockstep.b": {1: 0}}
    renders: list[tuple[str, bytes, dict[str, Any]]] = []
    writer_failed: list[BaseException] = []

    context = {"locale": "en", "region": "US", "role": "buyer"}

    def render(http: httpx2.Client, fmt: str) -> None:
        body = {"publication": "lockstep", "context": context, "format": fmt}
        response = http.post("/v1/render", json=body)
        assert response.status_code == 200, response.text
        receipt = http.get(f"/v1/renders/{response.headers['X-Render-Id']}")
        assert receipt.status_code == 200, receipt.text
        renders.append((fmt, response.content, receipt.json()))

    def write_pairs(base: str) -> None:
        """Moves A then B; renders in between (A one ahead) are forced, not hoped for, so
        the check below sees mixed revisions however busy the machine is; the main thread's
        renders race the writes besides."""
        try:
            with (
                httpx2.Client(base_url=base, headers=bearer(keys["editor"]), timeout=30) as http,
                httpx2.Client(base_url=base, headers=bearer(keys["agent"]), timeout=60) as agent,
            ):
                current = {"lockstep.a": 1, "lockstep.b": 1}
                for rev in range(1, PAIR_ROUNDS + 1):
                    for component in ("lockstep.a", "lockstep.b"):
                        path = f"/v1/components/{component}/variants/main"
                        body = {"status": "published", "body": f"<p>{component} rev {rev}</p>"}
                        headers = {"If-Match": f'"{current[component]}"'}
                        put = http.put(path, json=body, headers=headers)
                        assert put.status_code == 200, put.text
                        current[component] = put.json()["version"]
                        versions[component][current[component]] = rev
                        if component == "lockstep.a" and rev % 5 == 0:
                            render(agent, "html")
        except BaseException as exc:
            writer_failed.append(exc)

    with serve(url, tmp_path) as server:
        http = httpx2.Client(base_url=server.url, headers=bearer(keys["agent"]), timeout=60)
        with http:
            writer = threading.Thread(target=write_pairs, args=(server.url,))
            writer.start()
            formats = iter(["pdf", "html", "json"] * 3 + ["html", "json"] * 100)
            while writer.is_alive() or len(renders) < 12:
                render(http, next(formats))
            writer.join(timeout=60)
            assert not writer_failed, writer_failed
            fmt, content, receipt = next(r for r in renders if r[0] == "html")
            replayed = http.post(f"/v1/renders/{receipt['id']}/replay")
            assert replayed.status_code == 200
            assert replayed.content == content

    assert {fmt for fmt, *_ in renders} == {"html", "json", "pdf"}
    revisions_seen = set()
    ahead = set()
    for fmt, content, receipt in renders:
        assert hashlib.sha256(content).hexdigest() == receipt["sha256"], fmt
        assert receipt["format"] == fmt
        shown = _shown(fmt, content)
        blocks = [(b["component"], b["variant"], b["version"]) for b in receipt["blocks"]]
        lockstep = [b for b in blocks if b[0].startswith("lockstep.")]
        assert [c for c, _, _ in lockstep] == ["lockstep.a", "lockstep.b", "lockstep.a"]
        # What the document shows is what the receipt says it used, block by block.
        assert [(c, versions[c][v]) for c, _, v in lockstep] == shown, fmt
        used = {(u["component"], u["variant"], u["version"]) for u in receipt["used"]}
        assert set(blocks) <= used
        if fmt == "json":
            document = json.loads(content)
            assert [
                (b["component"], b["variant"], b["version"]) for b in document["blocks"]
            ] == blocks
        # One snapshot: both copies of A agree, and B is never ahead of A nor two behind.
        (_, rev_a), (_, rev_b), (_, rev_a2) = shown
        assert rev_a == rev_a2
        assert rev_a - rev_b in (0, 1), shown
        revisions_seen.add(rev_a)
        ahead.add(rev_a - rev_b)
    assert len(revisions_seen) >= PAIR_ROUNDS // 5, revisions_seen
    assert 1 in ahead, "no render saw A one revision ahead of B (the forced renders should)"


def _shown(fmt: str, content: bytes) -> list[tuple[str, int]]:
    """The (component, revision) markers in the order the document shows them."""
    if fmt == "pdf":
        from pypdf import PdfReader

        text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    else:
        text = content.decode("utf-8")
    if fmt == "json":
        text = "\n".join(b["html"] for b in json.loads(text)["blocks"])
    return [(component, int(rev)) for component, rev in MARKER.findall(text)]
