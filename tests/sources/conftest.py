"""Fixtures of the data-sources tests: a hostile HTTP service, sources files in a tmp folder and
a CRM's ``installations`` table in a real database."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from content_engine.sources import Sources, SourcesLimits
from tests.sources.service import Service, running

MakeSources = Callable[..., Sources]


@pytest.fixture
def service() -> Iterator[Service]:
    with running() as started:
        yield started


@pytest.fixture
def write_sources(tmp_path: Path) -> Callable[[str], Path]:
    """Write a sources file (YAML, dedented) into ``tmp_path``; its path."""

    def write(text: str, name: str = "sources.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture
def make_sources(write_sources: Callable[[str], Path]) -> Iterator[MakeSources]:
    """``Sources`` loaded from YAML text, closed after the test."""
    made: list[Sources] = []

    def make(
        text: str, environ: Mapping[str, str] | None = None, limits: SourcesLimits | None = None
    ) -> Sources:
        path = write_sources(text)
        sources = Sources.load(path, environ or {}, limits or SourcesLimits())
        made.append(sources)
        return sources

    yield make
    for sources in made:
        sources.close()


def crm_engine(db_url: str) -> sa.Engine:
    """An SQLAlchemy engine on a test database (PostgreSQL through psycopg 3)."""
    return sa.create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))


def make_crm(db_url: str, rows: Sequence[Mapping[str, Any]]) -> str:
    """An ``installations`` table (serial, model, customer_id) holding ``rows``; the URL."""
    engine = crm_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("CREATE TABLE installations (serial TEXT, model TEXT, customer_id TEXT)")
        )
        conn.execute(
            sa.text("INSERT INTO installations VALUES (:serial, :model, :customer_id)"), rows
        )
    engine.dispose()
    return db_url
