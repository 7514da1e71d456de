"""Rows inserted by ``insert_many`` are stored exactly as SQLAlchemy's own executemany stores
them: the same values read back, column by column, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import insert, select

from content_engine.store import Repository
from content_engine.store.tables import VariantVersion
from content_engine.store.versions import insert_many

AWARE = datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))


def rows(component: str) -> list[dict[str, Any]]:
    """Values of every kind the columns hold, the awkward ones included."""
    return [
        {
            "component_id": component,
            "key": key,
            "version": 1,
            "conditions": conditions,
            "priority": priority,
            "experiment": experiment,
            "weight": weight,
            "status": "published",
            "valid_from": valid_from,
            "valid_until": None,
            "body": body,
            "translated_from": origin,
            "deleted": deleted,
            "created_at": AWARE,
            "revision": 7,
        }
        for key, conditions, priority, experiment, weight, valid_from, body, origin, deleted in [
            ("en", {"locale": "en"}, 0, None, None, None, "<p>plain</p>", None, False),
            ("de", {"segments": ["a", "b"], "locale": "de"}, -3, "exp", 0.25, AWARE,
             "<p>Grüße \u202e 𝄞 'quoted' \"twice\" %s %(x)s ?</p>", {"variant": "en", "version": 1},
             True),
            ("fr", {}, 2**31 - 1, "e" * 64, 1e-9, datetime(1970, 1, 1, tzinfo=UTC), "", {}, False),
        ]
    ]  # fmt: skip


def stored(repository: Repository, component: str) -> list[tuple[Any, ...]]:
    columns = [c for c in VariantVersion.__table__.columns if c.key != "component_id"]
    query = select(*columns).where(VariantVersion.component_id == component)
    with repository.engine.connect() as conn:
        return sorted(tuple(row) for row in conn.execute(query.order_by(VariantVersion.key)))


def test_rows_read_back_as_sqlalchemys_own_executemany_stores_them(db_url: str) -> None:
    with Repository(db_url) as repository:
        with repository.engine.begin() as conn:
            conn.execute(insert(VariantVersion), rows("by-sqlalchemy"))
            insert_many(conn, VariantVersion, rows("by-insert-many"))
        theirs, ours = stored(repository, "by-sqlalchemy"), stored(repository, "by-insert-many")
    assert len(ours) == 3
    assert ours == theirs
    assert {row[0] for row in ours} == {"en", "de", "fr"}
