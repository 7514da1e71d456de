"""Shared fixtures: factories for fresh databases.

Every database fixture runs on SQLite; with ``CONTENT_ENGINE_TEST_PG`` set to a server URL
(``postgresql://postgres@127.0.0.1:5432/test``) it runs on PostgreSQL as well, each test in a
database of its own that is dropped afterwards.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import make_url

PG_ENV = "CONTENT_ENGINE_TEST_PG"
BACKENDS = ["sqlite", "postgresql"] if os.environ.get(PG_ENV) else ["sqlite"]


def _pg_admin_url() -> str:
    url = make_url(os.environ[PG_ENV]).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


@pytest.fixture(params=BACKENDS)
def make_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """A factory of URLs of fresh, empty databases on the backend under test."""
    backend: str = request.param
    created: list[str] = []

    def make() -> str:
        name = f"ce_test_{secrets.token_hex(6)}"
        if backend == "sqlite":
            return f"sqlite:///{tmp_path / name}.db"
        return _create_pg_database(name, created)

    yield make
    _drop_pg_databases(created)


@pytest.fixture
def pg_db_url() -> Iterator[str]:
    """The URL of one fresh PostgreSQL database, for what only PostgreSQL has (``LISTEN``);
    skipped unless ``CONTENT_ENGINE_TEST_PG`` names a server (``.ci/run`` sets it)."""
    if not os.environ.get(PG_ENV):
        pytest.skip(f"needs PostgreSQL: set {PG_ENV}")
    created: list[str] = []
    yield _create_pg_database(f"ce_test_{secrets.token_hex(6)}", created)
    _drop_pg_databases(created)


def _create_pg_database(name: str, created: list[str]) -> str:
    import psycopg

    with psycopg.connect(_pg_admin_url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    created.append(name)
    url = make_url(os.environ[PG_ENV]).set(drivername="postgresql", database=name)
    return url.render_as_string(hide_password=False)


def _drop_pg_databases(names: list[str]) -> None:
    if not names:
        return
    import psycopg

    with psycopg.connect(_pg_admin_url(), autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def db_url(make_db_url: Callable[[], str]) -> str:
    """The URL of one fresh, empty database (SQLite file, or PostgreSQL when enabled)."""
    return make_db_url()


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's headless Chromium (Playwright's ``Browser``); see tests/support/browser.py."""
    from tests.support.browser import chromium

    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """``(database URL, folder)``: the sample library imported once per module by the real CLI,
    for tests that run commands against it (and do not write)."""
    from tests.support.engine_factory import SAMPLE
    from tests.support.servers import cli

    where = tmp_path_factory.mktemp("sample")
    db = f"sqlite:///{where / 'ce.db'}"
    cli("import", str(SAMPLE), "--db", db, cwd=where)
    return db, where
