"""Alembic environment: apply the repository's migrations to one connection.

``Repository`` runs this programmatically and hands over its connection through
``config.attributes["connection"]``. Run by hand (``alembic -c content_engine/store/alembic.ini
...``, e.g. to write a new revision) it connects to ``sqlalchemy.url`` or ``CONTENT_ENGINE_DB``.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection, create_engine

from content_engine.store.tables import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    from content_engine.store.connect import normalize_url

    url = config.get_main_option("sqlalchemy.url") or os.environ.get("CONTENT_ENGINE_DB")
    return normalize_url(url or "sqlite:///content-engine.db").render_as_string(hide_password=False)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables in later migrations.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(_url())
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
