"""The repository: the library's versioned state, render receipts and API keys, in SQL.

In: ``Library`` models (a whole imported folder, or one edited item), ``Receipt``s, and API
keys to make, revoke or verify. Out: the current ``Library``, any past version of a component,
variant or publication, and a ``revision`` number that changes with every library write, so
caches in other processes notice.

SQLite (the default, one file) and PostgreSQL (``postgresql://...``) are supported.

``Repository`` is only a composition. Each part is a small class over the same ``Database``
(``database``: the engine, schema upgrade, transactions and revision), holding one kind of
work: ``reads``, ``writes`` (single conflict-checked edits), ``imports`` (a whole library),
``receipts``, ``credentials`` (API keys and sessions), ``assets`` (files by hash) and ``feedback``
(signing keys, answers, exposure counts).
Mixins rather than delegation: every
public method is written once, in its part, with nothing here to forward it; and one object
means one engine, one pool and one ``local_writes`` counter, which a cache relies on.
"""

from __future__ import annotations

from content_engine.store.assets import Assets
from content_engine.store.credentials import Credentials
from content_engine.store.feedback import Feedback
from content_engine.store.imports import Imports
from content_engine.store.reads import Reads
from content_engine.store.receipts import Receipts
from content_engine.store.writes import Writes

__all__ = ["Repository"]


class Repository(Reads, Writes, Imports, Receipts, Credentials, Assets, Feedback):
    """The library's history and current state in a SQL database.

    Constructing one brings the schema up to date (Alembic, run in-process), so every front end
    can simply open the database it is given. Call ``close()`` (or use ``with``) when done.
    """
