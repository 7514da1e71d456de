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

from tests.support.databases import (
    PG_ENV,
    Databases,
    SampleTemplates,
    create_pg_database,
    drop_pg_databases,
)

BACKENDS = ["sqlite", "postgresql"] if os.environ.get(PG_ENV) else ["sqlite"]


@pytest.fixture(scope="session")
def sample_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SampleTemplates]:
    templates = SampleTemplates(tmp_path_factory.mktemp("sample-template"))
    yield templates
    templates.drop()


@pytest.fixture(params=BACKENDS)
def make_db_url(
    request: pytest.FixtureRequest, tmp_path: Path, sample_templates: SampleTemplates
) -> Iterator[Databases]:
    """A factory of URLs of fresh databases on the backend under test."""
    created: list[str] = []
    yield Databases(request.param, tmp_path, sample_templates, created)
    drop_pg_databases(created)


@pytest.fixture
def pg_db_url() -> Iterator[str]:
    """The URL of one fresh PostgreSQL database, for what only PostgreSQL has (``LISTEN``);
    skipped unless ``CONTENT_ENGINE_TEST_PG`` names a server (``.ci/run`` sets it)."""
    if not os.environ.get(PG_ENV):
        pytest.skip(f"needs PostgreSQL: set {PG_ENV}")
    created: list[str] = []
    yield create_pg_database(f"ce_test_{secrets.token_hex(6)}", created)
    drop_pg_databases(created)


@pytest.fixture
def sample_db_url(make_db_url: Databases) -> str:
    """The URL of a fresh database holding the sample library, as an import leaves it."""
    return make_db_url.with_sample()


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
