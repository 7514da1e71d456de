"""The repository: versioned library state and render receipts in SQLite or PostgreSQL.

In: ``Library`` models, edited items, receipts, API keys. Out: the current library, past
versions, a revision number for caches, and who a presented key belongs to. See
``repository.py`` (and the parts it is composed of) and ``keys.py``.
"""

from __future__ import annotations

from content_engine.store.connect import normalize_url
from content_engine.store.imports import ImportCounts, ImportReport
from content_engine.store.keys import ROLES, KeyInfo, Role
from content_engine.store.repository import Repository

__all__ = [
    "ROLES",
    "ImportCounts",
    "ImportReport",
    "KeyInfo",
    "Repository",
    "Role",
    "normalize_url",
]
