"""Fresh databases for tests: empty, or holding the sample library (copied from a template).

The fixtures in ``tests/conftest.py`` hand these out; a test that makes several databases
takes ``make_db_url`` (a ``Databases``) and calls it, or its ``with_sample``.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy import make_url

PG_ENV = "CONTENT_ENGINE_TEST_PG"


def pg_admin_url() -> str:
    url = make_url(os.environ[PG_ENV]).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class SampleTemplates:
    """One database per backend holding the sample library, made once per test process and
    copied for each test that asks for it: importing the library costs 0.2-0.3 s a time, a copy
    a few milliseconds (SQLite's backup API; PostgreSQL's ``CREATE DATABASE ... TEMPLATE``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._sqlite: Path | None = None
        self._pg_template: str | None = None

    def sqlite(self) -> Path:
        """The SQLite file holding the sample library."""
        if self._sqlite is None:
            path = self.folder / "sample.db"
            self._import_into(f"sqlite:///{path}")
            self._sqlite = path
        return self._sqlite

    def postgresql(self) -> str:
        """The name of a template database holding the sample library."""
        if self._pg_template is None:
            name = f"ce_template_{secrets.token_hex(6)}"
            url = create_pg_database(name, [])
            self._pg_template = name  # dropped at the end even if the import fails
            self._import_into(url)
            import psycopg

            with psycopg.connect(pg_admin_url(), autocommit=True) as conn:
                # No session may be connected to a template while it is copied.
                conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        return self._pg_template

    @staticmethod
    def _import_into(url: str) -> None:
        from tests.support.engine_factory import SAMPLE, make_engine

        with make_engine(url) as engine:
            engine.import_library(SAMPLE)

    def drop(self) -> None:
        if self._pg_template is not None:
            drop_pg_databases([self._pg_template])


class Databases:
    """Fresh databases on one backend: empty (calling it), or holding the sample library just
    as importing it into an empty one leaves them (``with_sample``)."""

    def __init__(
        self, backend: str, folder: Path, templates: SampleTemplates, created: list[str]
    ) -> None:
        self.backend = backend
        self._folder = folder
        self._templates = templates
        self._created = created

    def __call__(self) -> str:
        name = f"ce_test_{secrets.token_hex(6)}"
        if self.backend == "sqlite":
            return f"sqlite:///{self._folder / name}.db"
        return create_pg_database(name, self._created)

    def with_sample(self) -> str:
        name = f"ce_test_{secrets.token_hex(6)}"
        if self.backend == "sqlite":
            target = self._folder / f"{name}.db"
            with (
                closing(sqlite3.connect(self._templates.sqlite())) as source,
                closing(sqlite3.connect(target)) as copy,
            ):
                source.backup(copy)
            return f"sqlite:///{target}"
        return create_pg_database(name, self._created, template=self._templates.postgresql())


def create_pg_database(name: str, created: list[str], template: str | None = None) -> str:
    import psycopg

    with psycopg.connect(pg_admin_url(), autocommit=True) as conn:
        copied = f' TEMPLATE "{template}"' if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{copied}')
    created.append(name)
    url = make_url(os.environ[PG_ENV]).set(drivername="postgresql", database=name)
    return url.render_as_string(hide_password=False)


def drop_pg_databases(names: list[str]) -> None:
    if not names:
        return
    import psycopg

    with psycopg.connect(pg_admin_url(), autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
