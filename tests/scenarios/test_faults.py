"""Faults answer 503 and lose nothing (issue 11, class 7), on real ``serve`` processes.

A full disk (SQLite on a real 2 MiB tmpfs), a read-only file system, the database files
deleted under a running server, a PostgreSQL database renamed and dropped under it: every
answer is a 2xx or a 503 ``database_unavailable`` (never a 500), every write that got a 2xx is
there afterwards (read back after a restart, from the file), and the server recovers when the
fault is gone. ``/healthz`` says so too.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import make_url

from tests.support.databases import PG_ENV, pg_admin_url
from tests.support.engine_factory import SAMPLE
from tests.support.mounts import fill, set_read_only, tmpfs
from tests.support.servers import Server, cli, free_port, run_cli, serve

pytestmark = pytest.mark.slow

COMPONENT = "product.hp200.overview"
RENDER = {"publication": "brochure.hp200", "context": {"locale": "fr"}, "format": "html"}
# Seconds within which a running server must notice a fault (or its end); generous on purpose.
NOTICE_SECONDS = 30.0


def imported(url: str, cwd: Path) -> str:
    cli("import", str(SAMPLE), "--db", url, cwd=cwd)
    return url


def create_variant(client: httpx2.Client, key: str, size: int = 100) -> httpx2.Response:
    body = {"body": f"<p>{'x' * size}</p>", "status": "published", "priority": 1}
    return client.put(
        f"/v1/components/{COMPONENT}/variants/{key}", json=body, headers={"If-None-Match": "*"}
    )


def assert_unavailable(response: httpx2.Response, *fragments: str) -> None:
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "database_unavailable"
    assert "\n" not in error["message"]
    assert response.headers["retry-after"].isdigit()
    for fragment in fragments:
        assert fragment in error["message"]


def eventually(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + NOTICE_SECONDS
    while not check():
        assert time.monotonic() < deadline, f"not within {NOTICE_SECONDS} s: {what}"
        time.sleep(0.1)


@pytest.fixture
def client_of() -> Iterator[Callable[[Server], httpx2.Client]]:
    clients: list[httpx2.Client] = []

    def make(server: Server) -> httpx2.Client:
        clients.append(httpx2.Client(base_url=server.url, timeout=60))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


def test_a_full_disk_answers_503_and_keeps_every_acknowledged_write(
    tmp_path: Path, client_of: Callable[[Server], httpx2.Client]
) -> None:
    with tmpfs(tmp_path / "disk", "2m") as disk:
        url = imported(f"sqlite:///{disk / 'ce.db'}", tmp_path)
        kept: list[str] = []
        receipts: list[str] = []
        with serve(url, tmp_path, "--open") as server:
            client = client_of(server)
            assert create_variant(client, "before").status_code == 201
            filler = fill(disk)
            statuses = []
            for n in range(30):
                answer = create_variant(client, f"k{n}", size=20_000)
                statuses.append(answer.status_code)
                if answer.status_code == 201:
                    kept.append(f"k{n}")
                else:
                    assert_unavailable(answer, "full")
                rendered = client.post("/v1/render", json=RENDER)
                statuses.append(rendered.status_code)
                if rendered.status_code == 200:
                    receipts.append(rendered.headers["x-render-id"])
                else:
                    assert_unavailable(rendered)
            assert 503 in statuses and set(statuses) <= {200, 201, 503}, statuses
            assert client.get("/healthz").status_code == 200  # reading still works
            filler.unlink()  # the fault ends: writes work again, in the same process
            assert create_variant(client, "after").status_code == 201
            kept += ["before", "after"]
        with serve(url, tmp_path, "--open") as server:  # read back from the file itself
            client = client_of(server)
            for key in kept:
                assert client.get(f"/v1/components/{COMPONENT}/variants/{key}").status_code == 200
            for receipt in receipts:
                assert client.get(f"/v1/renders/{receipt}").status_code == 200


def test_a_read_only_database_stops_serve_with_one_line(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", "4m") as folder:
        url = imported(f"sqlite:///{folder / 'ce.db'}", tmp_path)
        set_read_only(folder)
        done = run_cli("serve", "--port", str(free_port()), "--db", url, cwd=tmp_path, timeout=60)
        assert done.returncode == 1
        assert "Traceback" not in done.stderr
        assert (
            done.stderr
            == f"error: the database file {folder / 'ce.db'} is on a read-only file system\n"
        )


def test_deleted_database_files_answer_503_and_are_not_recreated(
    tmp_path: Path, client_of: Callable[[Server], httpx2.Client]
) -> None:
    path = tmp_path / "ce.db"
    url = imported(f"sqlite:///{path}", tmp_path)
    with serve(url, tmp_path, "--open") as server:
        client = client_of(server)
        assert create_variant(client, "before").status_code == 201
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        assert_unavailable(create_variant(client, "into-the-void"), "deleted")
        assert_unavailable(client.post("/v1/render", json=RENDER), "deleted")
        assert_unavailable(client.get("/healthz"), "deleted")
        assert_unavailable(client.get(f"/v1/components/{COMPONENT}/variants/before"))
        eventually(
            lambda: client.get(f"/v1/blocks/{COMPONENT}?locale=fr").status_code == 503,
            "block reads notice the deleted file",
        )
        assert not path.exists()  # no new empty database in its place
    assert "Traceback" not in server.log()


def test_a_replaced_database_file_answers_503(
    tmp_path: Path, client_of: Callable[[Server], httpx2.Client]
) -> None:
    path = tmp_path / "ce.db"
    url = imported(f"sqlite:///{path}", tmp_path)
    other = imported(f"sqlite:///{tmp_path / 'other.db'}", tmp_path)
    with serve(url, tmp_path, "--open") as server:
        client = client_of(server)
        os.replace(make_url(other).database or "", path)
        assert_unavailable(create_variant(client, "k"), "replaced")
        assert_unavailable(client.get("/healthz"), "replaced")


# --- PostgreSQL ---------------------------------------------------------------------------


@pytest.fixture
def pg_database(tmp_path: Path) -> Iterator[tuple[str, Callable[[str], None]]]:
    """A fresh PostgreSQL database holding the sample library, and a function to run SQL as
    the server's administrator; dropped afterwards whatever it is called by then."""
    if not os.environ.get(PG_ENV):
        pytest.skip(f"{PG_ENV} is not set")
    import psycopg

    name = f"ce_fault_{os.getpid()}_{time.monotonic_ns() % 10**8}"

    def admin(sql: str) -> None:
        with psycopg.connect(pg_admin_url(), autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    admin(f'CREATE DATABASE "{name}"')
    url = make_url(os.environ[PG_ENV]).set(drivername="postgresql", database=name)
    rendered = url.render_as_string(hide_password=False)
    try:
        yield imported(rendered, tmp_path), admin
    finally:
        for leftover in (name, f"{name}_moved"):
            admin(f'DROP DATABASE IF EXISTS "{leftover}" WITH (FORCE)')


def _disconnect(admin: Callable[[str], None], name: str) -> None:
    admin(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
    admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")


def _assert_all_unavailable(client: httpx2.Client) -> None:
    eventually(lambda: client.get("/healthz").status_code == 503, "healthz sees the fault")
    assert_unavailable(client.get("/healthz"))
    assert_unavailable(create_variant(client, "during"))
    assert_unavailable(client.post("/v1/render", json=RENDER))
    assert_unavailable(client.get(f"/v1/components/{COMPONENT}"))
    eventually(
        lambda: client.get(f"/v1/blocks/{COMPONENT}?locale=fr").status_code == 503,
        "block reads see the fault",
    )
    assert_unavailable(client.get(f"/v1/blocks/{COMPONENT}?locale=fr"))
    blocks = {"context": {"locale": "fr"}, "components": [COMPONENT]}
    assert_unavailable(client.post("/v1/blocks", json=blocks))


def test_a_renamed_postgresql_database_answers_503_and_recovers(
    pg_database: tuple[str, Callable[[str], None]],
    tmp_path: Path,
    client_of: Callable[[Server], httpx2.Client],
) -> None:
    url, admin = pg_database
    name = make_url(url).database or ""
    with serve(url, tmp_path, "--open") as server:
        client = client_of(server)
        assert create_variant(client, "before").status_code == 201
        _disconnect(admin, name)
        admin(f'ALTER DATABASE "{name}" RENAME TO "{name}_moved"')
        admin(f'ALTER DATABASE "{name}_moved" WITH ALLOW_CONNECTIONS true')
        _assert_all_unavailable(client)
        _disconnect(admin, f"{name}_moved")
        admin(f'ALTER DATABASE "{name}_moved" RENAME TO "{name}"')
        admin(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
        eventually(lambda: client.get("/healthz").status_code == 200, "healthz recovers")
        assert create_variant(client, "after").status_code == 201
        for key in ("before", "after"):
            assert client.get(f"/v1/components/{COMPONENT}/variants/{key}").status_code == 200
        assert client.get(f"/v1/blocks/{COMPONENT}?locale=fr").status_code == 200
    assert "Traceback" not in server.log()


def test_a_dropped_postgresql_database_answers_503_until_it_is_back(
    pg_database: tuple[str, Callable[[str], None]],
    tmp_path: Path,
    client_of: Callable[[Server], httpx2.Client],
) -> None:
    url, admin = pg_database
    name = make_url(url).database or ""
    with serve(url, tmp_path, "--open") as server:
        client = client_of(server)
        admin(f'DROP DATABASE "{name}" WITH (FORCE)')
        _assert_all_unavailable(client)
        admin(f'CREATE DATABASE "{name}"')  # back, but empty: still no schema to use
        eventually(lambda: client.get("/healthz").status_code == 503, "empty is not back")
        assert_unavailable(create_variant(client, "into-empty"))
        imported(url, tmp_path)  # restored
        eventually(lambda: client.get("/healthz").status_code == 200, "healthz recovers")
        assert create_variant(client, "after").status_code == 201
    assert "Traceback" not in server.log()
