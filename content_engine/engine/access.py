"""Who may come in: API keys and workbench sessions, as the web layer and the CLI ask for them.

In: a role and a name to issue a key, a presented secret or session token to check. Out: the
key's public facts (``KeyInfo``), never a stored secret. A thin seam over the store, so that
handlers speak to the engine rather than to its repository.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from content_engine.store import ROLES, KeyInfo, Repository
from content_engine.store.sessions import SESSION_TTL

__all__ = ["ROLES", "SESSION_TTL", "Access", "KeyInfo"]


class Access:
    """API keys and sessions of one repository."""

    def __init__(self, repository: Repository) -> None:
        self._repository = repository

    def create_key(self, role: str, name: str = "") -> tuple[KeyInfo, str]:
        return self._repository.create_key(role, name)

    def list_keys(self) -> list[KeyInfo]:
        return self._repository.list_keys()

    def revoke_key(self, key_id: str) -> KeyInfo:
        return self._repository.revoke_key(key_id)

    def verify_key(self, presented: str) -> KeyInfo | None:
        return self._repository.verify_key(presented)

    def verify_keys(self, presented: Iterable[str]) -> dict[str, KeyInfo]:
        return self._repository.verify_keys(presented)

    def mark_keys_used(self, key_ids: Iterable[str], at: datetime | None = None) -> int:
        return self._repository.mark_keys_used(key_ids, at)

    def start_session(self, key_id: str, ttl: timedelta = SESSION_TTL) -> str:
        return self._repository.start_session(key_id, ttl)

    def session_key(self, token: str) -> KeyInfo | None:
        return self._repository.session_key(token)

    def end_session(self, token: str) -> None:
        self._repository.end_session(token)
