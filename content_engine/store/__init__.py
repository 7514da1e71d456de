"""The repository: versioned library state and render receipts in SQLite or PostgreSQL.

In: ``Library`` models, edited variants, receipts. Out: the current library, past versions,
and a revision number for caches. See ``repository.py``.
"""

from __future__ import annotations

from .repository import ImportCounts, ImportReport, Repository, normalize_url

__all__ = ["ImportCounts", "ImportReport", "Repository", "normalize_url"]
