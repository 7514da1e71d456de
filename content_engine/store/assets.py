"""Assets by their hash: the stored versions of the files under ``assets/``.

In: an asset's path under ``assets/`` and, to fetch one version, the first 16 hex digits of
its SHA-256. Out: the versions stored (newest first, without their bytes), the current ones of
every asset, or one version's bytes. Nothing is ever removed from ``file_versions``, so an
asset replaced or deleted since is still found by the hash a page or a receipt names.

The primary key ``(path, version)`` leads every query here: a lookup by hash reads only the
few rows of one path, however many assets the library holds.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, and_, func, select

from content_engine.core.assettypes import ASSET_FOLDER, AssetVersion
from content_engine.store.database import Database
from content_engine.store.tables import FileVersion

__all__ = ["Assets"]

_PREFIX = f"{ASSET_FOLDER}/"
_COLUMNS = (
    FileVersion.path,
    FileVersion.version,
    FileVersion.sha256,
    FileVersion.deleted,
    FileVersion.created_at,
    func.length(FileVersion.content).label("size"),
)


class Assets(Database):
    """The asset methods of ``Repository``."""

    def asset_history(self, path: str) -> list[AssetVersion]:
        """Every stored version of ``assets/<path>``, newest first; empty if there is none."""
        query = select(*_COLUMNS).where(FileVersion.path == _PREFIX + path)
        with self._read() as conn:
            rows = conn.execute(query.order_by(FileVersion.version.desc())).all()
        return [_version_of(row) for row in rows]

    def current_assets(self) -> list[AssetVersion]:
        """The current version of every asset that is not deleted, by path."""
        latest = (
            select(FileVersion.path, func.max(FileVersion.version).label("version"))
            .where(FileVersion.path.startswith(_PREFIX, autoescape=True))
            .group_by(FileVersion.path)
            .subquery()
        )
        on = and_(FileVersion.path == latest.c.path, FileVersion.version == latest.c.version)
        with self._read() as conn:
            rows = conn.execute(select(*_COLUMNS).join(latest, on)).all()
        return sorted((_version_of(r) for r in rows if not r.deleted), key=lambda v: v.path)

    def asset_bytes(self, path: str, hash_prefix: str) -> tuple[AssetVersion, bytes] | None:
        """The newest version of ``assets/<path>`` whose SHA-256 starts with ``hash_prefix``
        (lowercase hex, checked by the caller), with its bytes; ``None`` if none has it."""
        query = (
            select(*_COLUMNS, FileVersion.content)
            .where(
                FileVersion.path == _PREFIX + path,
                FileVersion.sha256.startswith(hash_prefix, autoescape=True),
                FileVersion.deleted.is_(False),
            )
            .order_by(FileVersion.version.desc())
            .limit(1)
        )
        with self._read() as conn:
            row = conn.execute(query).first()
        return None if row is None else (_version_of(row), bytes(row.content))


def _version_of(row: Row[Any]) -> AssetVersion:
    return AssetVersion(
        path=row.path.removeprefix(_PREFIX),
        version=row.version,
        sha256=row.sha256,
        size=int(row.size or 0),
        created_at=row.created_at,
        deleted=row.deleted,
    )
